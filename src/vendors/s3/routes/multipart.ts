// Multipart uploads: create, upload part (streamed) or part copy, complete, abort, list parts and uploads.
import { deferred, type Kernel } from "../../../kernel/types.ts";
import { hex } from "../../../lib/crypto.ts";
import { S3Error, invalidArgument, malformedXml } from "../errors.ts";
import { xmlResponse, parseXml } from "../xml.ts";
import { checkWrite, evaluate, type ObjectRow } from "../objects.ts";
import { requireBucket } from "../buckets.ts";
import { resolveVersion, versionIdHeader } from "../versions.ts";
import { lockForWrite } from "../objectlock.ts";
import { writtenHeaders } from "./objects.ts";
import { checkObjectAcl } from "../acl.ts";
import { notify } from "../notifications.ts";
import { completedInto, completeUpload, createUpload, listParts, listUploads, partNumberOf, putPart, requireUpload } from "../multipart.ts";
import { readConditions, systemHeadersOf, userMetadataOf, isoDate } from "../http.ts";
import { readSegments, sliceSegments, storeUpload, type Segment, type Upload } from "../storage.ts";
import { CHECKSUMS, Digests, base64 } from "../checksums.ts";
import { tagsOfHeader } from "../tags.ts";
import { type S3Req, owner, maxOf, encoder, copySourceOf, uploadOf, checksumHeaders } from "./request.ts";

export function createUploadRoute(k: Kernel, r: S3Req): Response {
  const lock = lockForWrite(k, requireBucket(k, r.bucket!), r.headers);
  checkObjectAcl(r.headers.get("x-amz-acl"), r.headers);
  const u = createUpload(k, r.bucket!, r.key!, systemHeadersOf(r.headers), userMetadataOf(r.headers), tagsOfHeader(r.headers.get("x-amz-tagging")));
  if (lock) k.sql.exec("UPDATE s3_uploads SET lock = ? WHERE id = ?", JSON.stringify(lock), u.id);
  return xmlResponse("InitiateMultipartUploadResult", { Bucket: u.bucket, Key: u.key, UploadId: u.id });
}

export function uploadPartRoute(k: Kernel, r: S3Req): Response {
  const partNumber = partNumberOf(r.q.get("partNumber"));
  const uploadId = r.q.get("uploadId") ?? "";
  requireUpload(k, r.bucket!, r.key!, uploadId);
  const upload = uploadOf(r);
  return deferred(async () => {
    const s = await storeUpload(k, upload);
    const etag = `"${hex(s.md5)}"`;
    k.tx(() => {
      requireUpload(k, r.bucket!, r.key!, uploadId);
      putPart(k, uploadId, partNumber, { size: s.size, etag, segments: s.segments, crc32: s.checksums.crc32 ?? null });
    });
    return new Response(null, { status: 200, headers: { etag, "x-amz-request-id": r.id, ...checksumHeaders(upload, s) } });
  });
}

/** UploadPartCopy: the part references the source's bytes; only its MD5 needs reading them. */
export function uploadPartCopyRoute(k: Kernel, r: S3Req): Response {
  const partNumber = partNumberOf(r.q.get("partNumber"));
  const uploadId = r.q.get("uploadId") ?? "";
  requireUpload(k, r.bucket!, r.key!, uploadId);
  const src = copySourceOf(r.headers);
  const so = resolveVersion(k, src.bucket, src.key, src.versionId);
  if (evaluate(so, readConditions(r.headers, "x-amz-copy-source-")) === "not-modified") {
    throw new S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", { Condition: "x-amz-copy-source-If-None-Match" });
  }
  let start = 0;
  let end = so.size - 1;
  const range = r.headers.get("x-amz-copy-source-range");
  if (range !== null) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(range.trim());
    if (!m || Number(m[2]) < Number(m[1])) throw invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy", "x-amz-copy-source-range", range);
    [start, end] = [Number(m[1]), Number(m[2])];
    if (end >= so.size) throw new S3Error(400, "InvalidRange", "The requested range is not satisfiable", { RangeRequested: range, ActualObjectSize: String(so.size) });
  }
  const segments = so.size ? sliceSegments(JSON.parse(so.segments) as Segment[], start, end) : [];
  const size = so.size ? end - start + 1 : 0;
  return deferred(async () => {
    const digests = new Digests([CHECKSUMS.crc32]);
    if (size) {
      const reader = readSegments(k, segments, 0, size - 1).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await digests.update(value);
      }
    }
    const d = await digests.finish();
    const etag = `"${hex(d.get("MD5")!)}"`;
    const at = k.tx(() => {
      requireUpload(k, r.bucket!, r.key!, uploadId);
      return putPart(k, uploadId, partNumber, { size, etag, segments, crc32: base64(d.get(CHECKSUMS.crc32)!) });
    });
    const sourceVersion = versionIdHeader(k, so.bucket, so.version_id)["x-amz-version-id"];
    return xmlResponse("CopyPartResult", { LastModified: isoDate(at), ETag: etag }, sourceVersion ? { "x-amz-copy-source-version-id": sourceVersion } : {});
  });
}

export function completeRoute(k: Kernel, r: S3Req): Response {
  requireBucket(k, r.bucket!);
  const again = completedInto(k, r.bucket!, r.key!, r.q.get("uploadId")!);
  if (again) return completeResult(k, again);
  const u = requireUpload(k, r.bucket!, r.key!, r.q.get("uploadId")!);
  const doc = parseXml(r.body, "CompleteMultipartUpload");
  const parts = (doc.Part ?? []) as { PartNumber?: unknown; ETag?: unknown }[];
  const requested = parts.map((p) => {
    if (typeof p.ETag !== "string") throw malformedXml();
    return { partNumber: partNumberOf(String(p.PartNumber).trim()), etag: p.ETag.trim() };
  });
  checkWrite(k, u.bucket, u.key, readConditions(r.headers));
  const row = completeUpload(k, u, requested);
  notify(k, row.bucket, "ObjectCreated:CompleteMultipartUpload", { key: row.key, size: row.size, etag: row.etag, versionId: row.version_id }, r.id);
  return completeResult(k, row);
}

function completeResult(k: Kernel, row: ObjectRow): Response {
  return xmlResponse("CompleteMultipartUploadResult", {
    Location: `${k.world().urls.s3}/${encodeURIComponent(row.bucket)}/${row.key.split("/").map(encodeURIComponent).join("/")}`,
    Bucket: row.bucket, Key: row.key, ETag: row.etag,
  }, writtenHeaders(k, row));
}

export function listPartsRoute(k: Kernel, r: S3Req): Response {
  const u = requireUpload(k, r.bucket!, r.key!, r.q.get("uploadId")!);
  const marker = r.q.has("part-number-marker") ? maxOf(r.q, "part-number-marker", 10000) : 0;
  const max = maxOf(r.q, "max-parts");
  const { parts, truncated } = listParts(k, u.id, marker, max);
  return xmlResponse("ListPartsResult", {
    Bucket: u.bucket, Key: u.key, UploadId: u.id,
    PartNumberMarker: marker,
    NextPartNumberMarker: parts.length ? parts[parts.length - 1].part_number : marker,
    MaxParts: max, IsTruncated: truncated,
    Part: parts.map((p) => ({ PartNumber: p.part_number, LastModified: isoDate(p.last_modified), ETag: p.etag, Size: p.size })),
    Initiator: owner(k), Owner: owner(k), StorageClass: "STANDARD",
  });
}

export function listUploadsRoute(k: Kernel, r: S3Req): Response {
  const q = r.q;
  const enc = encoder(q);
  const prefix = q.get("prefix") ?? "";
  const keyMarker = q.get("key-marker") ?? "";
  const uploadIdMarker = keyMarker ? (q.get("upload-id-marker") ?? "") : "";
  const max = maxOf(q, "max-uploads");
  const { uploads, truncated } = listUploads(k, r.bucket!, { prefix, keyMarker, uploadIdMarker, max });
  const last = uploads[uploads.length - 1];
  return xmlResponse("ListMultipartUploadsResult", {
    Bucket: r.bucket!, KeyMarker: enc(keyMarker), UploadIdMarker: uploadIdMarker,
    NextKeyMarker: last ? enc(last.key) : undefined, NextUploadIdMarker: last?.id,
    Prefix: enc(prefix), MaxUploads: max, IsTruncated: truncated,
    EncodingType: q.has("encoding-type") ? "url" : undefined,
    Upload: uploads.map((u) => ({
      Key: enc(u.key), UploadId: u.id, Initiator: owner(k), Owner: owner(k),
      StorageClass: (JSON.parse(u.headers) as Record<string, string>)["x-amz-storage-class"] ?? "STANDARD",
      Initiated: isoDate(u.initiated),
    })),
  });
}
