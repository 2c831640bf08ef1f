import { unbuiltVendor } from "../unbuilt.ts";
import { isWorldId } from "../credentials.ts";
import { randomBase62, safeEqual } from "../../lib/crypto.ts";
import { s3Errors } from "./errors.ts";

// The access key id is the tenant: AKIA + the world id in upper case.
function accessKeyOf(req: Request): string | null {
  const h = req.headers.get("authorization");
  const m = h && /Credential=([^/,\s]+)\//.exec(h);
  if (m) return m[1];
  const q = new URL(req.url).searchParams.get("X-Amz-Credential");
  return q ? q.split("/")[0] : null;
}

export const s3 = unbuiltVendor({
  kind: "s3",
  errors: s3Errors,
  maxBodyBytes: 5 * 1024 ** 3,
  worldIdOf: (req) => {
    const k = accessKeyOf(req);
    const w = k?.startsWith("AKIA") ? k.slice(4).toLowerCase() : null;
    return isWorldId(w) ? w : null;
  },
  mintCredentials: async (w) => ({ region: "us-east-1", accessKeyId: `AKIA${w.toUpperCase()}`, secretAccessKey: randomBase62(40) }),
  // Signature verification arrives with the S3 clone; until then every operation is a 501.
  authenticate: (req, creds) => safeEqual(accessKeyOf(req) ?? "", creds.accessKeyId),
  presets: {
    slow_put: { description: "PUTs take 2 s longer", method: "PUT", latencyMs: 2000 },
    "503_restore": { description: "Requests answer 503 SlowDown", status: 503 },
    lifecycle_early_delete: { description: "Lifecycle rules expire objects a day early" },
  },
});
