// Multipart uploads: parts are stored as they arrive; completing references them in order, so the
// object's bytes are never copied.
import type { Kernel } from "../../kernel/types.ts";
import { hex } from "../../lib/crypto.ts";
import { S3Error, invalidArgument, noSuchUpload } from "./errors.ts";
import { requireBucket } from "./buckets.ts";
import { findObject, putObject, type ObjectRow } from "./objects.ts";
import { md5Bytes } from "./checksums.ts";
import type { Segment } from "./storage.ts";

export type UploadRow = {
  id: string;
  bucket: string;
  key: string;
  initiated: number;
  headers: string;
  metadata: string;
  tags: string;
  /** Object Lock asked for at initiation (JSON), or null. */
  lock: string | null;
};

export type PartRow = {
  upload_id: string;
  part_number: number;
  size: number;
  etag: string;
  last_modified: number;
  segments: string;
  crc32: string | null;
};

const MIN_PART = 5 * 1024 * 1024;

export function createUpload(k: Kernel, bucket: string, key: string, headers: Record<string, string>, metadata: Record<string, string>, tags: Record<string, string>): UploadRow {
  requireBucket(k, bucket);
  const row: UploadRow = {
    id: k.ids.make("s3u", 61), bucket, key, initiated: k.clock.now(), headers: JSON.stringify(headers), metadata: JSON.stringify(metadata), tags: JSON.stringify(tags), lock: null,
  };
  k.sql.exec(
    "INSERT INTO s3_uploads (id, bucket, key, initiated, headers, metadata, tags) VALUES (?, ?, ?, ?, ?, ?, ?)",
    row.id, bucket, key, row.initiated, row.headers, row.metadata, row.tags,
  );
  return row;
}

export function requireUpload(k: Kernel, bucket: string, key: string, id: string): UploadRow {
  requireBucket(k, bucket);
  const u = k.sql.exec<UploadRow>("SELECT * FROM s3_uploads WHERE id = ?", id).toArray()[0];
  if (!u || u.bucket !== bucket || u.key !== key) throw noSuchUpload(id);
  return u;
}

export function partNumberOf(v: string | null | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw invalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", String(v));
  return n;
}

export function putPart(k: Kernel, uploadId: string, partNumber: number, p: { size: number; etag: string; segments: Segment[]; crc32: string | null }): number {
  const at = k.clock.now();
  k.sql.exec(
    "INSERT OR REPLACE INTO s3_parts (upload_id, part_number, size, etag, last_modified, segments, crc32) VALUES (?, ?, ?, ?, ?, ?, ?)",
    uploadId, partNumber, p.size, p.etag, at, JSON.stringify(p.segments), p.crc32,
  );
  return at;
}

export function listParts(k: Kernel, uploadId: string, marker: number, max: number): { parts: PartRow[]; truncated: boolean } {
  const rows = k.sql.exec<PartRow>("SELECT * FROM s3_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?", uploadId, marker, max + 1).toArray();
  return { parts: rows.slice(0, max), truncated: rows.length > max };
}

export function abortUpload(k: Kernel, u: UploadRow): void {
  k.sql.exec("DELETE FROM s3_parts WHERE upload_id = ?", u.id);
  k.sql.exec("DELETE FROM s3_uploads WHERE id = ?", u.id);
}

const bare = (etag: string) => etag.trim().replace(/^"|"$/g, "");

/** Completes an upload from the parts the client names, in order; ETag is `"<md5 of the parts' md5s>-N"`. */
export function completeUpload(k: Kernel, u: UploadRow, requested: { partNumber: number; etag: string }[]): ObjectRow {
  if (requested.length === 0) throw new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
  const stored = new Map(k.sql.exec<PartRow>("SELECT * FROM s3_parts WHERE upload_id = ?", u.id).toArray().map((p) => [p.part_number, p]));
  const chosen: PartRow[] = [];
  let prev = 0;
  for (const r of requested) {
    if (r.partNumber <= prev) throw new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.", { UploadId: u.id });
    prev = r.partNumber;
    const p = stored.get(r.partNumber);
    if (!p || bare(p.etag) !== bare(r.etag)) {
      throw new S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.", {
        UploadId: u.id, PartNumber: String(r.partNumber), ETag: r.etag,
      });
    }
    chosen.push(p);
  }
  chosen.forEach((p, i) => {
    if (i < chosen.length - 1 && p.size < MIN_PART) {
      throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", { ProposedSize: String(p.size), MinSizeAllowed: String(MIN_PART), PartNumber: String(p.part_number), ETag: p.etag });
    }
  });
  const md5s = new Uint8Array(chosen.length * 16);
  chosen.forEach((p, i) => md5s.set(Uint8Array.from(bare(p.etag).match(/../g)!.map((h) => parseInt(h, 16))), i * 16));
  const segments: Segment[] = chosen.flatMap((p) => JSON.parse(p.segments) as Segment[]);
  const row = putObject(k, {
    bucket: u.bucket, key: u.key, size: chosen.reduce((n, p) => n + p.size, 0), etag: `"${hex(md5Bytes(md5s))}-${chosen.length}"`,
    headers: JSON.parse(u.headers), metadata: JSON.parse(u.metadata), segments, crc32: null, partsCount: chosen.length,
    partSizes: chosen.map((p) => p.size), tags: JSON.parse(u.tags),
    lock: u.lock ? JSON.parse(u.lock) : null,
  });
  abortUpload(k, u);
  const now = k.clock.now();
  k.sql.exec("INSERT INTO s3_completed_uploads (id, bucket, key, etag, version_id, completed_at) VALUES (?, ?, ?, ?, ?, ?)", u.id, u.bucket, u.key, row.etag, row.version_id, now);
  // A retry comes within moments of the lost answer; a day of the run clock is plenty.
  k.sql.exec("DELETE FROM s3_completed_uploads WHERE completed_at < ?", now - 86_400_000);
  return row;
}

/**
 * The object an upload completed into, when a CompleteMultipartUpload is sent again and the key
 * still holds it: S3 answers the retry with the same result rather than NoSuchUpload.
 */
export function completedInto(k: Kernel, bucket: string, key: string, uploadId: string): ObjectRow | null {
  const done = k.sql.exec<{ etag: string; version_id: string | null }>("SELECT etag, version_id FROM s3_completed_uploads WHERE id = ? AND bucket = ? AND key = ?", uploadId, bucket, key).toArray()[0];
  if (!done) return null;
  const o = findObject(k, bucket, key);
  return o && o.etag === done.etag && o.version_id === done.version_id ? o : null;
}

export function listUploads(k: Kernel, bucket: string, q: { prefix: string; keyMarker: string; uploadIdMarker: string; max: number }): { uploads: UploadRow[]; truncated: boolean } {
  requireBucket(k, bucket);
  const rows = k.sql
    .exec<UploadRow>(
      "SELECT * FROM s3_uploads WHERE bucket = ? AND instr(key, ?) = 1 AND (key > ? OR (key = ? AND id > ?)) ORDER BY key, initiated, id LIMIT ?",
      bucket, q.prefix, q.keyMarker, q.keyMarker, q.uploadIdMarker, q.max + 1,
    )
    .toArray();
  return { uploads: rows.slice(0, q.max), truncated: rows.length > q.max };
}
