// Which run a preflight without any credential is about. Bucket names are global at AWS but
// belong to one run here, and a preflight carries no credential when the page signs headers (the
// SDK in a browser): only a presigned URL's query names the run. So every run that gives a bucket
// a CORS configuration records it as the R2 key `s3-cors-index/<bucket>/<worldId>`, and such a
// preflight is asked of each run that recorded that name, until one allows it. A preflight only
// reads a CORS configuration, which AWS answers to anyone as well; entries of runs that are gone
// are dropped when met.
import { deferred, type AnonymousGateway, type Kernel } from "../../kernel/types.ts";
import { isWorldId } from "../credentials.ts";
import { s3Error } from "./errors.ts";
import { CORS_NOT_ALLOWED } from "./cors.ts";

const PREFIX = "s3-cors-index/";
/** Runs asked per preflight at most (parallel test runs that all name their bucket alike). */
const MAX_RUNS = 16;

export const accessKeyOfWorld = (worldId: string) => `AKIA${worldId.toUpperCase()}`;

/** After a PutBucketCors that succeeded: records the bucket's name for credential-less preflights. */
export function indexCors(k: Kernel, bucket: string, res: Response): Response {
  if (res.status !== 200) return res;
  const key = `${PREFIX}${bucket}/${k.world().worldId}`;
  return deferred(async () => {
    await k.bucket.put(key, "");
    return res;
  });
}

const notAllowed = () => s3Error(403, "AccessForbidden", `CORSResponse: ${CORS_NOT_ALLOWED}`);

/** A preflight that names no run: the answer of the first run whose bucket of that name allows it. */
export async function preflightByIndex(req: Request, gateway: AnonymousGateway): Promise<Response> {
  const name = new URL(req.url).pathname.split("/")[1];
  let bucket: string;
  try {
    bucket = decodeURIComponent(name ?? "");
  } catch {
    return notAllowed();
  }
  if (!bucket) return notAllowed();
  const listed = await gateway.bucket.list({ prefix: `${PREFIX}${bucket}/`, limit: MAX_RUNS });
  let last: Response | null = null;
  for (const o of listed.objects) {
    const worldId = o.key.slice(o.key.lastIndexOf("/") + 1);
    if (!isWorldId(worldId)) continue;
    const res = await gateway.forward(worldId, accessKeyOfWorld(worldId), req.clone());
    if (res.status === 200) return res;
    const body = await res.text();
    // The world refused the credential: it is gone (torn down or expired).
    if (/<Code>(InvalidAccessKeyId|AccessDenied)<\/Code>/.test(body)) {
      await gateway.bucket.delete(o.key);
      continue;
    }
    last = new Response(body, res);
  }
  return last ?? notAllowed();
}
