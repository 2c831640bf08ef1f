// Bucket operations: create, list, listings of keys and versions, tagging, CORS, policy.
import type { Kernel } from "../../../kernel/types.ts";
import { S3Error, invalidArgument, malformedXml, notImplemented } from "../errors.ts";
import { checkBucketAcl } from "../acl.ts";
import { xmlResponse, parseXml, type XmlNode } from "../xml.ts";
import { createBucket, findBucket, listBuckets, requireBucket, setBucketConfig, validatePolicy } from "../buckets.ts";
import { listObjects, type ListOutput } from "../objects.ts";
import { isoDate } from "../http.ts";
import { tagSetXml, tagsOfXml } from "../tags.ts";
import { corsOfXml, corsXml } from "../cors.ts";
import { enableObjectLock } from "../objectlock.ts";
import { type S3Req, owner, maxOf, encoder } from "./request.ts";

export function listBucketsRoute(k: Kernel): Response {
  const region = k.world().credentials.s3!.region;
  return xmlResponse("ListAllMyBucketsResult", {
    Owner: owner(k),
    Buckets: { Bucket: listBuckets(k).map((b) => ({ Name: b.name, CreationDate: isoDate(b.created_at), BucketRegion: b.region })) },
  }, { "x-amz-bucket-region": region });
}

export function createBucketRoute(k: Kernel, r: S3Req): Response {
  checkBucketAcl(r.headers);
  let constraint: string | null = null;
  if (r.body.length) {
    const cfg = parseXml(r.body, "CreateBucketConfiguration");
    const lc = cfg.LocationConstraint;
    if (lc !== undefined && typeof lc !== "string") throw malformedXml();
    constraint = lc?.trim() || null;
  }
  const existed = findBucket(k, r.bucket!) !== null;
  const b = createBucket(k, r.bucket!, constraint, k.world().credentials.s3!.region);
  if (!existed && (r.headers.get("x-amz-bucket-object-lock-enabled") ?? "").trim().toLowerCase() === "true") enableObjectLock(k, b.name);
  return new Response(null, { status: 200, headers: { location: `/${b.name}` } });
}

function contentsOf(k: Kernel, out: ListOutput, enc: (s: string) => string, withOwner: boolean): XmlNode {
  return {
    Contents: out.contents.map((o) => ({
      Key: enc(o.key), LastModified: isoDate(o.last_modified), ETag: o.etag, Size: o.size,
      ...(withOwner ? { Owner: owner(k) } : {}),
      StorageClass: (JSON.parse(o.headers) as Record<string, string>)["x-amz-storage-class"] ?? "STANDARD",
    })),
    CommonPrefixes: out.prefixes.map((p) => ({ Prefix: enc(p) })),
  };
}

const tokenOf = (key: string) => btoa(String.fromCharCode(...new TextEncoder().encode(key)));

function keyOfToken(t: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(t), (ch) => ch.charCodeAt(0)));
  } catch {
    throw invalidArgument("The continuation token provided is incorrect", "continuation-token", t);
  }
}

export function listObjectsRoute(k: Kernel, r: S3Req): Response {
  const q = r.q;
  const enc = encoder(q);
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const maxKeys = maxOf(q, "max-keys");
  const region = requireBucket(k, r.bucket!).region;
  const common = { Name: r.bucket!, Prefix: enc(prefix), Delimiter: delimiter ? enc(delimiter) : undefined, MaxKeys: maxKeys, EncodingType: q.has("encoding-type") ? "url" : undefined };
  const headers = { "x-amz-bucket-region": region };
  if (q.get("list-type") === "2") {
    const token = q.get("continuation-token");
    const startAfter = q.get("start-after");
    const after = token !== undefined ? keyOfToken(token) : (startAfter ?? "");
    const out = listObjects(k, r.bucket!, { prefix, delimiter, after, maxKeys });
    return xmlResponse("ListBucketResult", {
      ...common,
      KeyCount: out.contents.length + out.prefixes.length,
      IsTruncated: out.truncated,
      ContinuationToken: token,
      NextContinuationToken: out.truncated && out.last !== null ? tokenOf(out.last) : undefined,
      StartAfter: startAfter === undefined ? undefined : enc(startAfter),
      ...contentsOf(k, out, enc, q.get("fetch-owner") === "true"),
    }, headers);
  }
  if (q.has("list-type")) throw invalidArgument("Invalid List Type specified in Request", "list-type", q.get("list-type"));
  const marker = q.get("marker") ?? "";
  const out = listObjects(k, r.bucket!, { prefix, delimiter, after: marker, maxKeys });
  return xmlResponse("ListBucketResult", {
    ...common,
    Marker: enc(marker),
    NextMarker: out.truncated && out.last !== null ? enc(out.last) : undefined,
    IsTruncated: out.truncated,
    ...contentsOf(k, out, enc, true),
  }, headers);
}

export function bucketTaggingRoute(k: Kernel, r: S3Req): Response {
  const b = requireBucket(k, r.bucket!);
  if (r.method === "GET") {
    if (!b.tags) throw new S3Error(404, "NoSuchTagSet", "The TagSet does not exist", { BucketName: b.name });
    return xmlResponse("Tagging", tagSetXml(JSON.parse(b.tags)));
  }
  if (r.method === "PUT") setBucketConfig(k, b.name, "tags", tagsOfXml(parseXml(r.body, "Tagging"), 50));
  else if (r.method === "DELETE") setBucketConfig(k, b.name, "tags", null);
  else throw notImplemented(`${r.method} ?tagging`);
  return new Response(null, { status: r.method === "PUT" ? 200 : 204 });
}

export function bucketCorsRoute(k: Kernel, r: S3Req): Response {
  const b = requireBucket(k, r.bucket!);
  if (r.method === "GET") {
    if (!b.cors) throw new S3Error(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist", { BucketName: b.name });
    return xmlResponse("CORSConfiguration", corsXml(JSON.parse(b.cors)));
  }
  if (r.method === "PUT") setBucketConfig(k, b.name, "cors", corsOfXml(parseXml(r.body, "CORSConfiguration")));
  else if (r.method === "DELETE") setBucketConfig(k, b.name, "cors", null);
  else throw notImplemented(`${r.method} ?cors`);
  return new Response(null, { status: r.method === "PUT" ? 200 : 204 });
}

/** Get/Put/DeleteBucketPolicy: the document is stored and returned as sent; access is not evaluated against it. */
export function bucketPolicyRoute(k: Kernel, r: S3Req): Response {
  const b = requireBucket(k, r.bucket!);
  if (r.method === "GET") {
    if (!b.policy) throw new S3Error(404, "NoSuchBucketPolicy", "The bucket policy does not exist", { BucketName: b.name });
    return new Response(b.policy, { status: 200, headers: { "content-type": "application/json" } });
  }
  if (r.method === "PUT") setBucketConfig(k, b.name, "policy", validatePolicy(new TextDecoder().decode(r.body)));
  else if (r.method === "DELETE") setBucketConfig(k, b.name, "policy", null);
  else throw notImplemented(`${r.method} ?policy`);
  return new Response(null, { status: 204 });
}
