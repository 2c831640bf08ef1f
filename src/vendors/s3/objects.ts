// Object rules: the rows, preconditions, listings with delimiters and markers.
import type { Kernel } from "../../kernel/types.ts";
import { S3Error, noSuchKey, preconditionFailed } from "./errors.ts";
import { requireBucket } from "./buckets.ts";
import type { Segment } from "./storage.ts";
import type { Lock } from "./objectlock.ts";
import { prepareWrite } from "./versions.ts";

export type ObjectRow = {
  id: string;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  last_modified: number;
  headers: string;
  metadata: string;
  segments: string;
  crc32: string | null;
  parts_count: number | null;
  /** A completed multipart upload's part sizes (JSON array), or null. */
  part_sizes: string | null;
  tags: string;
  /** The version id; null is the `null` version. */
  version_id: string | null;
  /** Object Lock state as JSON (see objectlock.ts), or null. */
  lock: string | null;
};

export interface NewObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  segments: Segment[];
  crc32: string | null;
  partsCount: number | null;
  /** Sizes of the parts in order, for a completed multipart upload (GET ?partNumber). */
  partSizes?: number[] | null;
  tags: Record<string, string>;
  /** Object Lock of the new version (request headers or the bucket's default retention). */
  lock?: Lock | null;
}

const MAX_KEY_BYTES = 1024;

export function validateKey(key: string): void {
  if (new TextEncoder().encode(key).byteLength > MAX_KEY_BYTES) throw new S3Error(400, "KeyTooLongError", "Your key is too long");
}

export function findObject(k: Kernel, bucket: string, key: string): ObjectRow | null {
  return k.sql.exec<ObjectRow>("SELECT * FROM s3_objects WHERE id = ?", `${bucket}/${key}`).toArray()[0] ?? null;
}

export function requireObject(k: Kernel, bucket: string, key: string): ObjectRow {
  requireBucket(k, bucket);
  const o = findObject(k, bucket, key);
  if (!o) throw noSuchKey(key);
  return o;
}

/** Writes the key's new current version; on a versioned bucket the one it replaces is kept (versions.ts). */
export function putObject(k: Kernel, o: NewObject): ObjectRow {
  const versionId = prepareWrite(k, o.bucket, o.key);
  const row: ObjectRow = {
    id: `${o.bucket}/${o.key}`, bucket: o.bucket, key: o.key, size: o.size, etag: o.etag, last_modified: k.clock.now(),
    headers: JSON.stringify(o.headers), metadata: JSON.stringify(o.metadata), segments: JSON.stringify(o.segments), crc32: o.crc32, parts_count: o.partsCount,
    part_sizes: o.partSizes ? JSON.stringify(o.partSizes) : null, tags: JSON.stringify(o.tags), version_id: versionId, lock: o.lock ? JSON.stringify(o.lock) : null,
  };
  k.sql.exec(
    "INSERT OR REPLACE INTO s3_objects (id, bucket, key, size, etag, last_modified, headers, metadata, segments, crc32, parts_count, part_sizes, tags, version_id, lock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    row.id, row.bucket, row.key, row.size, row.etag, row.last_modified, row.headers, row.metadata, row.segments, row.crc32, row.parts_count, row.part_sizes, row.tags, row.version_id, row.lock,
  );
  return row;
}

// ---- preconditions --------------------------------------------------------------------------

export interface Conditions {
  ifMatch?: string | null;
  ifNoneMatch?: string | null;
  ifModifiedSince?: string | null;
  ifUnmodifiedSince?: string | null;
}

const etagList = (h: string) => h.split(",").map((t) => t.trim().replace(/^W\//, "").replace(/^"|"$/g, ""));
const matches = (h: string, etag: string) => etagList(h).some((t) => t === "*" || t === etag.replace(/"/g, ""));
const secondsOf = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * RFC 7232 as S3 applies it to reads: If-Match, then If-Unmodified-Since (when If-Match is
 * absent) fail with 412; If-None-Match, then If-Modified-Since (when If-None-Match is absent)
 * answer 304.
 */
export function evaluate(row: ObjectRow, c: Conditions): "ok" | "not-modified" {
  const lm = secondsOf(row.last_modified);
  if (c.ifMatch != null) {
    if (!matches(c.ifMatch, row.etag)) throw preconditionFailed("If-Match");
  } else if (c.ifUnmodifiedSince != null) {
    const t = Date.parse(c.ifUnmodifiedSince);
    if (!Number.isNaN(t) && lm > t) throw preconditionFailed("If-Unmodified-Since");
  }
  if (c.ifNoneMatch != null) {
    if (matches(c.ifNoneMatch, row.etag)) return "not-modified";
  } else if (c.ifModifiedSince != null) {
    const t = Date.parse(c.ifModifiedSince);
    if (!Number.isNaN(t) && lm <= t) return "not-modified";
  }
  return "ok";
}

/** Conditional writes: If-None-Match: * refuses an existing key, If-Match needs the current ETag. */
export function checkWrite(k: Kernel, bucket: string, key: string, c: Conditions): void {
  if (c.ifNoneMatch == null && c.ifMatch == null) return;
  const cur = findObject(k, bucket, key);
  if (c.ifNoneMatch != null) {
    if (c.ifNoneMatch.trim() !== "*") throw new S3Error(501, "NotImplemented", "A header you provided implies functionality that is not implemented", { Header: "If-None-Match" });
    if (cur) throw preconditionFailed("If-None-Match");
  }
  if (c.ifMatch != null) {
    if (!cur) throw noSuchKey(key);
    if (!matches(c.ifMatch, cur.etag)) throw preconditionFailed("If-Match");
  }
}

// ---- listings -------------------------------------------------------------------------------

export interface ListInput {
  prefix: string;
  delimiter: string;
  /** Keys after this one (start-after, marker, or the continuation token's key). */
  after: string;
  maxKeys: number;
}

export interface ListOutput {
  contents: ObjectRow[];
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned: where the next page starts. */
  last: string | null;
}

const PAGE = 500;

/**
 * Keys in UTF-8 byte order (SQLite's BINARY collation is S3's order), rolled into common
 * prefixes at the delimiter; each key or prefix counts once toward max-keys.
 */
export function listObjects(k: Kernel, bucket: string, q: ListInput): ListOutput {
  requireBucket(k, bucket);
  const out: ListOutput = { contents: [], prefixes: [], truncated: false, last: null };
  if (q.maxKeys === 0) return out;
  let cursor = q.after;
  let inclusive = false;
  if (q.prefix > cursor) {
    cursor = q.prefix;
    inclusive = true;
  }
  // Resuming after a common prefix skips every key under it.
  let skipPrefix = q.delimiter && q.after.startsWith(q.prefix) && q.after.slice(q.prefix.length).indexOf(q.delimiter) === q.after.length - q.prefix.length - q.delimiter.length ? q.after : null;
  const count = () => out.contents.length + out.prefixes.length;
  for (;;) {
    const rows = k.sql
      .exec<ObjectRow>(`SELECT * FROM s3_objects WHERE bucket = ? AND key ${inclusive ? ">=" : ">"} ? ORDER BY key LIMIT ?`, bucket, cursor, PAGE)
      .toArray();
    for (const r of rows) {
      if (!r.key.startsWith(q.prefix)) {
        if (r.key > q.prefix) return out;
        continue;
      }
      if (skipPrefix && r.key.startsWith(skipPrefix)) continue;
      let item: string = r.key;
      let isPrefix = false;
      if (q.delimiter) {
        const i = r.key.indexOf(q.delimiter, q.prefix.length);
        if (i >= 0) {
          item = r.key.slice(0, i + q.delimiter.length);
          isPrefix = true;
        }
      }
      if (count() >= q.maxKeys) {
        out.truncated = true;
        return out;
      }
      if (isPrefix) {
        out.prefixes.push(item);
        skipPrefix = item;
      } else {
        out.contents.push(r);
      }
      out.last = item;
    }
    if (rows.length < PAGE) return out;
    cursor = rows[rows.length - 1].key;
    inclusive = false;
  }
}
