// Worker side: finding the run of a browser request that has no SigV4 credential in a header or
// the query. A POST form upload names its access key in a form field before the file, so the
// fields are read (the file is not) and the body handed on whole; the world then checks the
// policy's signature with its own secret, so a form reaches only the run its key names. A
// preflight without a presigned URL's X-Amz-Credential names no run: see cors-index.ts.
import { isWorldId } from "../credentials.ts";
import { S3Error, s3Error } from "./errors.ts";
import { boundaryOf, readFormHead } from "./post-form.ts";
import { formAccessKey } from "./post-policy.ts";
import { preflightByIndex } from "./cors-index.ts";
import type { AnonymousGateway } from "../../kernel/types.ts";

export const worldOfKey = (k: string | null | undefined): string | null => {
  const w = k?.startsWith("AKIA") ? k.slice(4).toLowerCase() : null;
  return isWorldId(w) ? w : null;
};

/** What the gateway forwards for an unsigned browser request, or the answer it gives at once. */
export async function s3Anonymous(req: Request, gateway: AnonymousGateway): Promise<{ worldId: string; credential: string; req: Request } | Response | null> {
  const url = new URL(req.url);
  if (req.method === "OPTIONS") return preflightByIndex(req, gateway);
  const boundary = boundaryOf(req.headers.get("content-type"));
  if (req.method !== "POST" || !boundary || !req.body || url.search !== "" || !/^\/[^/]+\/?$/.test(url.pathname)) return null;
  const total = Number(req.headers.get("content-length") ?? NaN);
  if (!Number.isInteger(total)) return s3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
  const reader = req.body.getReader();
  let head;
  try {
    head = await readFormHead(reader, boundary);
  } catch (e) {
    await drain(reader);
    if (e instanceof S3Error) return e.getResponse();
    throw e;
  }
  const credential = formAccessKey(head.fields);
  const worldId = worldOfKey(credential);
  if (!worldId || !credential) {
    await drain(reader);
    return credential ? s3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.") : s3Error(403, "AccessDenied", "Access Denied");
  }
  // The same bytes, the fields first: a fixed length keeps the body's Content-Length.
  const fixed = new FixedLengthStream(total);
  void (async () => {
    const w = fixed.writable.getWriter();
    try {
      await w.write(head.buffered);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await w.write(value);
      }
      await w.close();
    } catch (e) {
      await w.abort(e).catch(() => undefined);
      await reader.cancel().catch(() => undefined);
    }
  })();
  return { worldId, credential, req: new Request(req.url, { method: "POST", headers: req.headers, body: fixed.readable, redirect: "manual" }) };
}

const DRAIN_LIMIT = 64 * 1024 * 1024;

/** Reads the rest of a refused body (up to a limit), so the client that is still writing gets the answer. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || (n += value.length) > DRAIN_LIMIT) break;
    }
  } catch {
    /* the client went away */
  }
  await reader.cancel().catch(() => undefined);
}
