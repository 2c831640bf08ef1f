// HTTP surface of the S3 clone: path-style `/{bucket}/{key+}`, the operation chosen by method and
// query sub-resource as S3 does (`?uploads`, `?list-type=2`, `?delete`, ...); SigV4 first, then
// decode → domain → encode. Hono matches one catch-all handler per method so the request stays in
// one synchronous transaction; bodies of object PUTs stream (see `streamsBody`).
import { Hono, type Context } from "hono";
import { Deferred, deferred, type Kernel, type VendorBindings, type VendorHono } from "../../../kernel/types.ts";
import { S3Error, notImplemented, requestId, s3Errors } from "../errors.ts";
import { parseXml, xmlResponse } from "../xml.ts";
import { sha256Hex, verifySigV4 } from "../sigv4.ts";
import { deleteBucket, findBucket, requireBucket } from "../buckets.ts";
import { validateKey } from "../objects.ts";
import { abortUpload, requireUpload } from "../multipart.ts";
import { isFormPost, postObjectRoute, preflightRoute, withCors } from "./browser.ts";
import { restorePreset, slowPutPreset } from "../presets.ts";
import { indexCors } from "../cors-index.ts";
import { aclRoute, ownershipRoute } from "../acl.ts";
import { configOf, notificationXml, parseNotification, putNotification } from "../notifications.ts";
import { resolveVersion } from "../versions.ts";
import type { S3Req } from "./request.ts";
import { listBucketsRoute, createBucketRoute, listObjectsRoute, bucketTaggingRoute, bucketCorsRoute, bucketPolicyRoute } from "./buckets.ts";
import { putObjectRoute, getObjectRoute, copyObjectRoute, deleteObjectsRoute, objectTaggingRoute, attributesRoute } from "./objects.ts";
import { versioningRoute, listVersionsRoute, deleteObjectRoute, lifecycleRoute, objectLockRoute, objectLockStateRoute } from "./versions.ts";
import { createUploadRoute, uploadPartRoute, uploadPartCopyRoute, completeRoute, listPartsRoute, listUploadsRoute } from "./multipart.ts";

type C = Context<{ Bindings: VendorBindings }>;

/**
 * Sub-resources S3 has: an operation on one of them that no route below serves is a 501, never a
 * fake success.
 */
const SUBRESOURCES = new Set([
  "acl", "versioning", "versions", "cors", "tagging", "policy", "policyStatus", "lifecycle", "website", "logging", "notification", "replication",
  "encryption", "object-lock", "legal-hold", "retention", "restore", "select", "attributes", "accelerate", "requestPayment", "ownershipControls",
  "publicAccessBlock", "analytics", "metrics", "inventory", "intelligent-tiering", "torrent", "session", "renameObject", "uploads", "uploadId", "delete", "location",
]);

const PRESIGN_PARAMS = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Content-Sha256"];

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
}

/** Path-style addressing: `/bucket` and `/bucket/key` (the key exactly as sent, `//` included). */
function target(pathname: string): { bucket: string | null; key: string | null } {
  const p = pathname.slice(1);
  if (!p) return { bucket: null, key: null };
  const i = p.indexOf("/");
  if (i < 0) return { bucket: safeDecode(p), key: null };
  const key = p.slice(i + 1);
  return { bucket: safeDecode(p.slice(0, i)), key: key ? safeDecode(key) : null };
}

/**
 * Virtual-hosted-style addressing, as the SDK uses by default against AWS (it reaches the clone
 * through the route proxy, which keeps the signed Host): the bucket is the Host's first labels.
 */
const VIRTUAL_HOST = /^(.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com$/;

/** The request's bucket and key, path-style or virtual-hosted. */
function targetOf(url: URL): { bucket: string | null; key: string | null } {
  const vhost = VIRTUAL_HOST.exec(url.hostname);
  if (!vhost) return target(url.pathname);
  const key = url.pathname.slice(1);
  return { bucket: vhost[1], key: key ? safeDecode(key) : null };
}

/** The path as path-style addressing spells it, whatever the request used. */
const pathStyle = (url: URL) => {
  const vhost = VIRTUAL_HOST.exec(url.hostname);
  return vhost ? `/${vhost[1]}${url.pathname === "/" ? "" : url.pathname}` : url.pathname;
};

/** PUTs of object bytes stream; everything else is small and buffered by the platform. */
export function streamsBody(method: string, url: URL): boolean {
  if (method !== "PUT" && method !== "POST") return false;
  // Object and part bodies stream; small sub-resource bodies (?tagging, ?acl...) are buffered.
  const sub = [...url.searchParams.keys()].filter((n) => SUBRESOURCES.has(n) && n !== "uploadId" && n !== "partNumber");
  const path = pathStyle(url);
  if (method === "POST" && url.search === "" && /^\/[^/]+\/?$/.test(path)) return true; // a browser's form upload
  return method === "PUT" && /^\/[^/]+\/./.test(path) && sub.length === 0;
}

export function s3Router(k: Kernel): VendorHono {
  const app = new Hono<{ Bindings: VendorBindings }>();
  app.on(["GET", "PUT", "POST", "DELETE", "OPTIONS"], "*", (c) => {
    // Browsers' preflights and form uploads carry no SigV4 signature (see browser.ts).
    const url = c.env.url;
    const t = targetOf(url);
    const headers = c.req.raw.headers;
    if (c.req.method === "OPTIONS") return withCors(k, t.bucket, headers, "OPTIONS", () => preflightRoute(k, headers, t.bucket, t.key));
    if (isFormPost(c.req.method, url, t.key, headers)) return withCors(k, t.bucket, headers, "POST", () => postObjectRoute(k, url, headers, t.bucket!, c.env.stream));
    return withCors(k, t.bucket, headers, c.env.method === "HEAD" ? "HEAD" : c.req.method, () => signedRoute(k, c));
  });
  return app;
}

/** Every other operation: SigV4 first, then decode → domain → encode. */
function signedRoute(k: Kernel, c: C): Response {
  const r = decode(k, c);
  const res = dispatch(k, r);
  const extra: Record<string, string> = { "x-amz-request-id": r.id, "x-amz-id-2": r.id };
  // Every object is encrypted at rest (SSE-S3) by default at AWS, and says so.
  const sub = [...r.q.keys()].filter((name) => SUBRESOURCES.has(name));
  const bytesOp = sub.length === 0 || (sub.length === 1 && ((sub[0] === "uploadId" && r.method !== "GET") || (sub[0] === "partNumber" && r.method === "GET")));
  const sse: Record<string, string> = r.key !== null && r.method !== "DELETE" && bytesOp ? { "x-amz-server-side-encryption": "AES256" } : {};
  const finish = (out: Response) => withHeaders(out, out.status < 300 ? { ...extra, ...sse } : extra);
  if (res instanceof Deferred) return deferred(async () => finish(await res.run()));
  return finish(res);
}

function withHeaders(res: Response, extra: Record<string, string>): Response {
  for (const [name, v] of Object.entries(extra)) if (!res.headers.has(name)) res.headers.set(name, v);
  return res;
}

function decode(k: Kernel, c: C): S3Req {
  const url = c.env.url;
  const headers = c.req.raw.headers;
  // The route runs as GET for a HEAD; the signature covers the method the client sent.
  const method = c.req.method;
  const signed = verifySigV4({ methods: [c.env.method], url, headers }, k.world().credentials.s3!.secretAccessKey, k.clock.now());
  const { bucket, key } = targetOf(url);
  const { pairs, ...verified } = signed;
  const q = new Map(pairs);
  q.delete("x-id");
  // A presigned URL's own parameters are its signature, not the operation's sub-resources.
  if (verified.presigned) for (const name of PRESIGN_PARAMS) q.delete(name);
  if (!c.env.stream) {
    if (/^[0-9a-f]{64}$/.test(verified.payloadHash) && sha256Hex(c.env.body) !== verified.payloadHash) {
      throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    if (verified.payloadHash.startsWith("STREAMING-") && c.env.body.length) throw notImplemented("An aws-chunked body on this operation");
  }
  return { method, url, headers, bucket, key, q, body: c.env.body, stream: c.env.stream, verified, id: requestId() };
}

function dispatch(k: Kernel, r: S3Req): Response {
  // Storing bytes in the clear while the client believes they need its key (SSE-C) or a KMS key
  // would be a fake success: these requests answer NotImplemented until the clone encrypts.
  const sse = r.headers.get("x-amz-server-side-encryption");
  const customer = ["x-amz-server-side-encryption-customer-algorithm", "x-amz-copy-source-server-side-encryption-customer-algorithm"].some((h) => r.headers.has(h));
  if ((sse && sse !== "AES256") || customer) {
    throw notImplemented(customer ? "Server-side encryption with customer-provided keys (SSE-C)" : `Server-side encryption with ${sse}`);
  }
  const res = restorePreset(k, r) ?? route(k, r);
  if (res) return slowPutPreset(k, r, res);
  const sub = [...r.q.keys()].find((name) => SUBRESOURCES.has(name));
  throw notImplemented(`${r.method} ${r.bucket === null ? "/" : r.key === null ? "on a bucket" : "on an object"}${sub ? ` ?${sub}` : ""}`);
}

/** GET and PUT ?notification: the bucket's notification configuration (notifications.ts). */
function notificationRoute(k: Kernel, r: S3Req): Response | null {
  requireBucket(k, r.bucket!);
  if (r.method === "GET") return xmlResponse("NotificationConfiguration", notificationXml(configOf(k, r.bucket!)));
  if (r.method !== "PUT") return null;
  putNotification(k, r.bucket!, parseNotification(k, parseXml(r.body, "NotificationConfiguration")), r.id);
  return new Response(null, { status: 200 });
}

/** An object's ACL: the object (or the version asked for) must exist. */
function objectAclRoute(k: Kernel, r: S3Req): Response | null {
  const b = requireBucket(k, r.bucket!);
  resolveVersion(k, b.name, r.key!, r.q.get("versionId"), r.method === "GET" ? "GET" : "PUT", b);
  return aclRoute(k, r.method);
}

/** The operation S3 would run for this method, target and sub-resource; null when none is built. */
function route(k: Kernel, r: S3Req): Response | null {
  const { method, q } = r;
  if (r.bucket === null) {
    if (method === "GET" && q.size === 0) return listBucketsRoute(k);
    if (method === "GET") return null;
    throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  }
  const sub = [...q.keys()].filter((name) => SUBRESOURCES.has(name));
  const only = (name: string) => sub.length === 1 && sub[0] === name;
  if (r.key === null) {
    const bucket = r.bucket;
    if (sub.length === 0) {
      if (method === "PUT") return createBucketRoute(k, r);
      if (method === "DELETE") {
        deleteBucket(k, bucket);
        return new Response(null, { status: 204 });
      }
      if (method === "GET") return listObjectsRoute(k, r);
      return null;
    }
    if (method === "POST" && only("delete")) return deleteObjectsRoute(k, r);
    if (method === "GET" && only("location")) {
      const b = requireBucket(k, bucket);
      return xmlResponse("LocationConstraint", b.region === "us-east-1" ? {} : { "#text": b.region });
    }
    if (method === "GET" && only("uploads")) return listUploadsRoute(k, r);
    if (method === "GET" && only("versions")) return listVersionsRoute(k, r);
    if (only("versioning")) return versioningRoute(k, r);
    if (only("lifecycle")) return lifecycleRoute(k, r);
    if (only("object-lock")) return objectLockRoute(k, r);
    if (only("tagging")) return bucketTaggingRoute(k, r);
    if (only("cors")) return method === "PUT" ? indexCors(k, bucket, bucketCorsRoute(k, r)) : bucketCorsRoute(k, r);
    if (only("policy")) return bucketPolicyRoute(k, r);
    if (only("acl")) {
      requireBucket(k, bucket);
      return aclRoute(k, method);
    }
    if (only("notification")) return notificationRoute(k, r);
    if (only("ownershipControls")) {
      requireBucket(k, bucket);
      return ownershipRoute(method);
    }
    return null;
  }
  validateKey(r.key);
  switch (method) {
    case "PUT":
      if (sub.length === 1 && q.has("uploadId")) {
        return r.headers.has("x-amz-copy-source") ? uploadPartCopyRoute(k, r) : uploadPartRoute(k, r);
      }
      if (only("tagging")) return objectTaggingRoute(k, r);
      if (only("retention") || only("legal-hold")) return objectLockStateRoute(k, r, sub[0] as "retention" | "legal-hold");
      if (only("acl")) return objectAclRoute(k, r);
      if (sub.length) return null;
      return r.headers.has("x-amz-copy-source") ? copyObjectRoute(k, r) : putObjectRoute(k, r);
    case "GET":
      if (only("uploadId")) return listPartsRoute(k, r);
      if (only("tagging")) return objectTaggingRoute(k, r);
      if (only("attributes")) return attributesRoute(k, r);
      if (only("acl")) return objectAclRoute(k, r);
      if (only("retention") || only("legal-hold")) return objectLockStateRoute(k, r, sub[0] as "retention" | "legal-hold");
      if (sub.length) return null;
      return getObjectRoute(k, r);
    case "DELETE":
      if (only("uploadId")) {
        abortUpload(k, requireUpload(k, r.bucket, r.key, q.get("uploadId")!));
        return new Response(null, { status: 204 });
      }
      if (only("tagging")) return objectTaggingRoute(k, r);
      if (sub.length) return null;
      return deleteObjectRoute(k, r);
    case "POST":
      if (only("uploads")) return createUploadRoute(k, r);
      if (only("uploadId")) return completeRoute(k, r);
  }
  return null;
}

/** A path no route matches (other methods, such as OPTIONS preflights): S3's 501 until built. */
export function s3Unmatched(method: string, path: string): Response {
  return s3Errors.notImplemented(method, path);
}
