// What browsers send without a SigV4 signature: CORS preflights (OPTIONS) and POST form uploads,
// whose authority is the signed policy inside the form. Both carry CORS headers on every answer,
// errors included, so a page can read what S3 said.
import { Deferred, deferred, type Kernel } from "../../../kernel/types.ts";
import { hex } from "../../../lib/crypto.ts";
import { S3Error, noSuchBucket, notImplemented, requestId } from "../errors.ts";
import { checkObjectAcl } from "../acl.ts";
import { notify } from "../notifications.ts";
import { findBucket, requireBucket } from "../buckets.ts";
import { putObject, validateKey } from "../objects.ts";
import { CORS_NOT_ALLOWED, corsForbidden, corsHeaders, preflightHeaders, type CorsRule } from "../cors.ts";
import { SYSTEM_HEADERS, systemHeadersOf, urlEncodeKey, userMetadataOf } from "../http.ts";
import { storeUpload, type Upload } from "../storage.ts";
import { isChecksum } from "../checksums.ts";
import { parseXml, xmlResponse } from "../xml.ts";
import { tagsOfXml } from "../tags.ts";
import { boundaryOf, fileData, indexOfBytes, malformedPost, readFormHead, type FormHead } from "../post-form.ts";
import { checkPolicy, checkSize, decodePolicy, verifyPolicySignature } from "../post-policy.ts";

/** Form uploads up to this size are read whole and parsed exactly; larger ones stream. */
const SMALL_FORM = 1024 * 1024;
const enc = new TextEncoder();

/** Is this a POST Object (a form upload to a bucket), which S3 authorizes by its policy, not SigV4? */
export function isFormPost(method: string, url: URL, key: string | null, headers: Headers): boolean {
  return method === "POST" && key === null && url.search === "" && /^multipart\/form-data/i.test(headers.get("content-type") ?? "");
}

/** The Access-Control-* headers an actual request from `origin` gets from the bucket's rules. */
export function corsOf(k: Kernel, bucket: string | null, origin: string | null, method: string): Record<string, string> {
  if (!origin || bucket === null) return {};
  const b = findBucket(k, bucket);
  if (!b?.cors) return {};
  return corsHeaders(JSON.parse(b.cors) as CorsRule[], origin, method) ?? {};
}

/** Runs a route and gives its answer, an error thrown now or later included, the bucket's CORS headers. */
export function withCors(k: Kernel, bucket: string | null, headers: Headers, method: string, run: () => Response): Response {
  const origin = headers.get("origin");
  const decorate = (res: Response) => {
    for (const [n, v] of Object.entries(corsOf(k, bucket, origin, method))) if (!res.headers.has(n)) res.headers.set(n, v);
    return res;
  };
  try {
    const res = run();
    if (!(res instanceof Deferred)) return origin ? decorate(res) : res;
    return deferred(async () => {
      try {
        const out = await res.run();
        return origin ? decorate(out) : out;
      } catch (e) {
        if (e instanceof S3Error && origin && e.res) decorate(e.res);
        throw e;
      }
    });
  } catch (e) {
    if (e instanceof S3Error && origin && e.res) decorate(e.res);
    throw e;
  }
}

/** OPTIONS: S3's preflight answer from the bucket's CORS configuration. */
export function preflightRoute(k: Kernel, headers: Headers, bucket: string | null, key: string | null): Response {
  const origin = headers.get("origin");
  const method = headers.get("access-control-request-method");
  if (!origin) throw new S3Error(400, "BadRequest", "Insufficient information. Origin request header needed.");
  if (!method) throw new S3Error(400, "BadRequest", `Invalid Access-Control-Request-Method: ${method}`);
  const resource = key === null ? "BUCKET" : "OBJECT";
  if (bucket === null) throw corsForbidden(CORS_NOT_ALLOWED, method, resource);
  const b = findBucket(k, bucket);
  if (!b) throw corsForbidden("Bucket not found", method, resource);
  if (!b.cors) throw corsForbidden("CORS is not enabled for this bucket.", method, resource);
  const requested = (headers.get("access-control-request-headers") ?? "").split(",");
  const allow = preflightHeaders(JSON.parse(b.cors) as CorsRule[], origin, method, requested);
  if (!allow) throw corsForbidden(CORS_NOT_ALLOWED, method, resource);
  return new Response(null, { status: 200, headers: { ...allow, "x-amz-request-id": requestId() } });
}

/** The object's headers, metadata, checksum and tags as the form gives them. */
function objectOf(fields: Map<string, string>, file: NonNullable<FormHead["file"]>) {
  const h = new Headers();
  for (const [name, v] of fields) {
    if (SYSTEM_HEADERS.includes(name) || name.startsWith("x-amz-meta-")) h.set(name, v);
  }
  const sse = fields.get("x-amz-server-side-encryption");
  if ((sse && sse !== "AES256") || fields.has("x-amz-server-side-encryption-customer-algorithm")) {
    throw notImplemented(sse && sse !== "AES256" ? `Server-side encryption with ${sse}` : "Server-side encryption with customer-provided keys (SSE-C)");
  }
  let checksum: Upload["checksum"];
  for (const [name, v] of fields) {
    const alg = name.startsWith("x-amz-checksum-") ? name.slice(15) : null;
    if (alg && alg !== "algorithm" && alg !== "type") {
      if (!isChecksum(alg)) throw notImplemented(`The ${alg.toUpperCase()} checksum algorithm`);
      checksum = { name: alg, value: v };
    }
  }
  checkObjectAcl(fields.get("acl") ?? null);
  const tagging = fields.get("tagging");
  const tags = tagging ? tagsOfXml(parseXml(enc.encode(tagging), "Tagging"), 10) : {};
  void file;
  return { headers: systemHeadersOf(h), metadata: userMetadataOf(h), checksum, tags };
}

/** The rest of a small form, appended to what was read: the file's bytes exactly, found by the delimiter. */
async function smallFile(head: FormHead, reader: ReadableStreamDefaultReader<Uint8Array>, boundary: string): Promise<Uint8Array> {
  const chunks = [head.buffered];
  let size = head.buffered.length;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > SMALL_FORM * 2) throw malformedPost();
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const end = indexOfBytes(all, enc.encode(`\r\n--${boundary}`), head.dataStart);
  if (end < 0) throw malformedPost();
  return all.subarray(head.dataStart, end);
}

const single = (bytes: Uint8Array) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      if (bytes.length) c.enqueue(bytes);
      c.close();
    },
  });

/**
 * POST Object: a browser form upload. Reads the fields, checks the policy's signature and its
 * conditions on the run clock, streams the file into storage and answers as
 * success_action_redirect / success_action_status ask (204 by default).
 */
export function postObjectRoute(k: Kernel, url: URL, headers: Headers, bucket: string, stream: ReadableStream<Uint8Array> | null): Response {
  const boundary = boundaryOf(headers.get("content-type"));
  if (!boundary || !stream) throw malformedPost();
  const total = Number(headers.get("content-length") ?? NaN);
  const id = requestId();
  const reader = stream.getReader();
  return deferred(async () => {
    try {
      return await postObject(k, url, bucket, boundary, total, id, reader);
    } catch (e) {
      // The client is still sending: it gets the answer only once the body is read.
      for (let n = 0; n < DRAIN_LIMIT; ) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done || !value) break;
        n += value.length;
      }
      throw e;
    }
  });
}

const DRAIN_LIMIT = 64 * 1024 * 1024;

async function postObject(k: Kernel, url: URL, bucket: string, boundary: string, total: number, id: string, reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Response> {
  const head = await readFormHead(reader, boundary);
  if (!findBucket(k, bucket)) throw noSuchBucket(bucket);
  const { fields, file } = head;
  if (!file) throw new S3Error(400, "InvalidArgument", "POST requires exactly one file upload per request.", { ArgumentName: "file", ArgumentValue: "0" });
  const rawKey = fields.get("key");
  if (rawKey === undefined) {
    throw new S3Error(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: "key", ArgumentValue: "" });
  }
  const key = rawKey.replaceAll("${filename}", file.filename);
  if (key === "") throw new S3Error(400, "InvalidArgument", "User key must have a length greater than 0.", { ArgumentName: "key", ArgumentValue: "" });
  validateKey(key);
  fields.set("key", key);
  // No policy is an anonymous upload, which only a public bucket takes: none is public here.
  if (!fields.has("policy")) throw new S3Error(403, "AccessDenied", "Access Denied");
  verifyPolicySignature(fields, k.world().credentials.s3 as { accessKeyId: string; secretAccessKey: string });
  const range = checkPolicy(decodePolicy(fields.get("policy")!), { fields, bucket }, k.clock.now());
  const object = objectOf(fields, file);
  let upload: Upload;
  const small = !(total > SMALL_FORM);
  if (small) {
    const data = await smallFile(head, reader, boundary);
    checkSize(range, data.length);
    upload = { stream: single(data), length: data.length, chunked: false, verified: { payloadHash: "UNSIGNED-PAYLOAD", presigned: false }, checksum: object.checksum };
  } else {
    // A large file streams into storage, which needs its length first: the length a form ending
    // `\r\n--boundary--\r\n` right after the file has (every browser and HTTP library sends that).
    const length = total - head.dataStart - (boundary.length + 8);
    checkSize(range, length);
    const it = fileData(head, reader, boundary);
    const data = new ReadableStream<Uint8Array>({
      async pull(c) {
        const { done, value } = await it.next();
        if (done) c.close();
        else c.enqueue(value);
      },
    });
    upload = { stream: data, length, chunked: false, verified: { payloadHash: "UNSIGNED-PAYLOAD", presigned: false }, checksum: object.checksum };
  }
  let s;
  try {
    s = await storeUpload(k, upload);
  } catch (e) {
    if (!small && e instanceof S3Error && e.code === "IncompleteBody") {
      throw malformedPost("The S3 clone streams large POST uploads and needs the file to be the last field, followed by the closing boundary and CRLF.");
    }
    throw e;
  }
  const etag = `"${hex(s.md5)}"`;
  k.tx(() => {
    requireBucket(k, bucket);
    const written = putObject(k, { bucket, key, size: s.size, etag, headers: object.headers, metadata: object.metadata, segments: s.segments, crc32: s.checksums.crc32 ?? null, partsCount: null, tags: object.tags });
    notify(k, bucket, "ObjectCreated:Post", { key, size: s.size, etag, versionId: written.version_id }, id);
  });
  const location = `${url.origin}/${encodeURIComponent(bucket)}/${urlEncodeKey(key)}`;
  const base: Record<string, string> = { etag, location, "x-amz-request-id": id, "x-amz-server-side-encryption": "AES256" };
  if (object.checksum) base[`x-amz-checksum-${object.checksum.name}`] = s.checksums[object.checksum.name]!;
  const redirect = fields.get("success_action_redirect") ?? fields.get("redirect");
  if (redirect && URL.canParse(redirect)) {
    const to = new URL(redirect);
    to.searchParams.append("bucket", bucket);
    to.searchParams.append("key", key);
    to.searchParams.append("etag", etag);
    return new Response(null, { status: 303, headers: { ...base, location: to.toString() } });
  }
  const status = fields.get("success_action_status");
  if (status === "201") return xmlResponse("PostResponse", { Location: location, Bucket: bucket, Key: key, ETag: etag }, base, 201);
  if (status === "200") return new Response(null, { status: 200, headers: base });
  return new Response(null, { status: 204, headers: base });
}
