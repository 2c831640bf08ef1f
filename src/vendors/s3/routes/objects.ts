// Object operations: put (streamed), get/head (ranges, conditions), copy, batch delete, tagging, attributes.
import { deferred, type Kernel } from "../../../kernel/types.ts";
import { hex } from "../../../lib/crypto.ts";
import { S3Error, invalidArgument, malformedXml, notImplemented } from "../errors.ts";
import { xmlResponse, parseXml, type XmlNode } from "../xml.ts";
import { requireBucket } from "../buckets.ts";
import { checkWrite, evaluate, putObject, type ObjectRow } from "../objects.ts";
import { objectHeaders, parseRange, readConditions, systemHeadersOf, userMetadataOf, isoDate } from "../http.ts";
import { inlineBytes, readSegments, storeUpload, type Segment } from "../storage.ts";
import { tagSetXml, tagsOfHeader, tagsOfXml } from "../tags.ts";
import { resolveVersion, updateVersion, versionIdHeader } from "../versions.ts";
import { lockForWrite, lockHeaders, lockOf } from "../objectlock.ts";
import { expirationHeader } from "../lifecycle.ts";
import { deleteOne } from "./versions.ts";
import { partNumberOf } from "../multipart.ts";
import { checkObjectAcl } from "../acl.ts";
import { notify } from "../notifications.ts";
import { type S3Req, copySourceOf, uploadOf, checksumHeaders, smallBody } from "./request.ts";

export function putObjectRoute(k: Kernel, r: S3Req): Response {
  const bucket = r.bucket!;
  const key = r.key!;
  const lock = lockForWrite(k, requireBucket(k, bucket), r.headers);
  checkObjectAcl(r.headers.get("x-amz-acl"), r.headers);
  const conds = readConditions(r.headers);
  checkWrite(k, bucket, key, conds);
  const headers = systemHeadersOf(r.headers);
  const metadata = userMetadataOf(r.headers);
  const tags = tagsOfHeader(r.headers.get("x-amz-tagging"));
  const upload = uploadOf(r);
  return deferred(async () => {
    const s = await storeUpload(k, upload);
    const etag = `"${hex(s.md5)}"`;
    const row = k.tx(() => {
      requireBucket(k, bucket);
      checkWrite(k, bucket, key, conds);
      const written = putObject(k, { bucket, key, size: s.size, etag, headers, metadata, segments: s.segments, crc32: s.checksums.crc32 ?? null, partsCount: null, tags, lock });
      notify(k, bucket, "ObjectCreated:Put", { key, size: s.size, etag, versionId: written.version_id }, r.id);
      return written;
    });
    return new Response(null, { status: 200, headers: { etag, "x-amz-request-id": r.id, ...checksumHeaders(upload, s), ...writtenHeaders(k, row) } });
  });
}

/** What a write answers besides its ETag: the new version's id (none for a `null` version) and its expiry. */
export function writtenHeaders(k: Kernel, row: ObjectRow): Record<string, string> {
  return { ...(row.version_id ? { "x-amz-version-id": row.version_id } : {}), ...expirationHeader(k, row) };
}

export function getObjectRoute(k: Kernel, r: S3Req): Response {
  const partNumber = r.q.has("partNumber") ? partNumberOf(r.q.get("partNumber")) : null;
  if (partNumber !== null && r.headers.has("range")) throw new S3Error(400, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter");
  const b = requireBucket(k, r.bucket!);
  const o = resolveVersion(k, b.name, r.key!, r.q.get("versionId"), "GET", b);
  const headers = { ...objectHeaders(o, r.q), ...versionIdHeader(k, b, o.version_id), ...(o.lock ? lockHeaders(lockOf(o.lock)) : {}), ...(o.current ? expirationHeader(k, o, b) : {}) };
  const tagCount = Object.keys(JSON.parse(o.tags) as object).length;
  if (tagCount) headers["x-amz-tagging-count"] = String(tagCount);
  if (evaluate(o, readConditions(r.headers)) === "not-modified") {
    return new Response(null, { status: 304, headers: { etag: o.etag, "last-modified": headers["last-modified"] } });
  }
  const range = partNumber !== null ? partRange(o, partNumber) : parseRange(r.headers.get("range"), o.size);
  const segments = JSON.parse(o.segments) as Segment[];
  if (range) {
    const [start, end] = range;
    headers["content-range"] = `bytes ${start}-${end}/${o.size}`;
    headers["content-length"] = String(end - start + 1);
    return new Response(body(k, segments, start, end), { status: 206, headers });
  }
  headers["content-length"] = String(o.size);
  if (o.crc32 && r.headers.get("x-amz-checksum-mode") === "ENABLED") headers["x-amz-checksum-crc32"] = o.crc32;
  return new Response(o.size ? body(k, segments, 0, o.size - 1) : null, { status: 200, headers });
}

/**
 * The bytes of part `n` of a completed multipart upload, as a range; part 1 of any other object is
 * all of it (null: answered whole). Past the last part: 416 InvalidPartNumber, as at S3.
 */
function partRange(o: ObjectRow, n: number): [number, number] | null {
  const unsatisfiable = () => new S3Error(416, "InvalidPartNumber", "The requested partnumber is not satisfiable", { PartNumberRequested: String(n), ActualPartCount: String(o.parts_count ?? 1) });
  if (!o.parts_count) {
    if (n !== 1) throw unsatisfiable();
    return null;
  }
  // Objects completed before part sizes were kept know only their count.
  if (!o.part_sizes) throw notImplemented("GetObject by partNumber of an object completed before this clone kept part sizes");
  const sizes = JSON.parse(o.part_sizes) as number[];
  if (n > sizes.length) throw unsatisfiable();
  const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
  return [start, start + sizes[n - 1] - 1];
}

/** Bytes kept in SQLite are answered at once; R2 bytes stream when the client reads them. */
function body(k: Kernel, segments: Segment[], start: number, end: number): BodyInit {
  return inlineBytes(k, segments, start, end) ?? readSegments(k, segments, start, end);
}

export function copyObjectRoute(k: Kernel, r: S3Req): Response {
  const src = copySourceOf(r.headers);
  const so = resolveVersion(k, src.bucket, src.key, src.versionId);
  const c = readConditions(r.headers, "x-amz-copy-source-");
  // Every failed copy-source condition is a 412 (S3 answers no 304 to a copy).
  if (evaluate(so, c) === "not-modified") throw new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "x-amz-copy-source-If-None-Match" });
  const directive = (r.headers.get("x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") throw invalidArgument("Unknown metadata directive.", "x-amz-metadata-directive", directive);
  const replace = directive === "REPLACE";
  const sameKey = src.bucket === r.bucket && src.key === r.key;
  if (sameKey && src.versionId === undefined && !replace && !r.headers.has("x-amz-storage-class") && !r.headers.has("x-amz-website-redirect-location")) {
    throw new S3Error(400, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  const lock = lockForWrite(k, requireBucket(k, r.bucket!), r.headers);
  checkObjectAcl(r.headers.get("x-amz-acl"), r.headers);
  checkWrite(k, r.bucket!, r.key!, readConditions(r.headers));
  const headers = replace ? systemHeadersOf(r.headers) : (JSON.parse(so.headers) as Record<string, string>);
  if (!replace && r.headers.has("x-amz-storage-class")) Object.assign(headers, { "x-amz-storage-class": r.headers.get("x-amz-storage-class")! });
  const metadata = replace ? userMetadataOf(r.headers) : (JSON.parse(so.metadata) as Record<string, string>);
  const tagging = (r.headers.get("x-amz-tagging-directive") ?? "COPY").toUpperCase();
  if (tagging !== "COPY" && tagging !== "REPLACE") throw invalidArgument("Unknown tagging directive.", "x-amz-tagging-directive", tagging);
  const tags = tagging === "REPLACE" ? tagsOfHeader(r.headers.get("x-amz-tagging")) : (JSON.parse(so.tags) as Record<string, string>);
  const row = putObject(k, {
    bucket: r.bucket!, key: r.key!, size: so.size, etag: so.etag, headers, metadata, segments: JSON.parse(so.segments), crc32: so.crc32, partsCount: so.parts_count,
    partSizes: so.part_sizes ? (JSON.parse(so.part_sizes) as number[]) : null, tags, lock,
  });
  const sourceVersion = versionIdHeader(k, so.bucket, so.version_id)["x-amz-version-id"];
  notify(k, r.bucket!, "ObjectCreated:Copy", { key: r.key!, size: row.size, etag: row.etag, versionId: row.version_id }, r.id);
  return xmlResponse("CopyObjectResult", { LastModified: isoDate(row.last_modified), ETag: row.etag }, {
    ...writtenHeaders(k, row), ...(sourceVersion ? { "x-amz-copy-source-version-id": sourceVersion } : {}),
  });
}

export function deleteObjectsRoute(k: Kernel, r: S3Req): Response {
  requireBucket(k, r.bucket!);
  const doc = parseXml(r.body, "Delete");
  const list = (doc.Object ?? []) as { Key?: unknown; VersionId?: unknown }[];
  if (!Array.isArray(list) || list.length === 0 || list.length > 1000) throw malformedXml();
  const quiet = String(doc.Quiet ?? "false").trim().toLowerCase() === "true";
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  for (const o of list) {
    if (typeof o.Key !== "string") throw malformedXml();
    const one = deleteOne(k, r, o.Key, o.VersionId === undefined ? undefined : String(o.VersionId).trim());
    if (one.error) errors.push(one.error as XmlNode);
    else if (!quiet) deleted.push(one.deleted as XmlNode);
  }
  return xmlResponse("DeleteResult", { Deleted: deleted, Error: errors });
}

export function objectTaggingRoute(k: Kernel, r: S3Req): Response {
  const o = resolveVersion(k, r.bucket!, r.key!, r.q.get("versionId"));
  const version = { "x-amz-version-id": o.version_id };
  if (r.method === "GET") return xmlResponse("Tagging", tagSetXml(JSON.parse(o.tags)), version);
  if (r.method === "DELETE") {
    updateVersion(k, o, "tags", "{}");
    notify(k, o.bucket, "ObjectTagging:Delete", { key: o.key, versionId: o.version_id }, r.id);
    return new Response(null, { status: 204, headers: version });
  }
  // Object PUTs stream (the platform sees only the path), so this small document is read here.
  return deferred(async () => {
    const tags = tagsOfXml(parseXml(await smallBody(r), "Tagging"), 10);
    k.tx(() => {
      const cur = resolveVersion(k, o.bucket, o.key, r.q.get("versionId"));
      updateVersion(k, cur, "tags", JSON.stringify(tags));
      notify(k, cur.bucket, "ObjectTagging:Put", { key: cur.key, versionId: cur.version_id }, r.id);
    });
    return new Response(null, { status: 200, headers: version });
  });
}

export function attributesRoute(k: Kernel, r: S3Req): Response {
  const o = resolveVersion(k, r.bucket!, r.key!, r.q.get("versionId"));
  const wanted = new Set((r.headers.get("x-amz-object-attributes") ?? "").split(",").map((s) => s.trim()).filter(Boolean));
  if (wanted.size === 0) throw new S3Error(400, "InvalidArgument", "Invalid attribute name specified.");
  return xmlResponse("GetObjectAttributesResponse", {
    ETag: wanted.has("ETag") ? o.etag.replace(/"/g, "") : undefined,
    Checksum: wanted.has("Checksum") && o.crc32 ? { ChecksumCRC32: o.crc32, ChecksumType: "FULL_OBJECT" } : undefined,
    ObjectParts: wanted.has("ObjectParts") && o.parts_count ? { PartsCount: o.parts_count } : undefined,
    StorageClass: wanted.has("StorageClass") ? ((JSON.parse(o.headers) as Record<string, string>)["x-amz-storage-class"] ?? "STANDARD") : undefined,
    ObjectSize: wanted.has("ObjectSize") ? o.size : undefined,
  }, { "last-modified": new Date(o.last_modified).toUTCString(), ...versionIdHeader(k, o.bucket, o.version_id) });
}
