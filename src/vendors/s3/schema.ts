// Tables of the S3 clone, prefixed `s3_`. Rows hold metadata only; object bytes live in R2 and a
// row names them as segments (`[r2Key, offset, length]`), so a copy or a completed multipart
// upload references bytes already stored instead of rewriting them.
import { sqliteTable, text, integer, index, primaryKey } from "drizzle-orm/sqlite-core";

export const buckets = sqliteTable("s3_buckets", {
  name: text("name").primaryKey(),
  region: text("region").notNull(),
  createdAt: integer("created_at").notNull(),
  /** Bucket tags as a JSON object, or null when the bucket has no tag set. */
  tags: text("tags"),
  /** The CORS configuration as JSON rules, or null. */
  cors: text("cors"),
  /** The bucket policy document as sent (stored and returned; not enforced), or null. */
  policy: text("policy"),
  /** Versioning status: null (never configured), `Enabled` or `Suspended`. */
  versioning: text("versioning"),
  /** Object Lock as JSON `{ rule?: { mode, days?, years? } }` when the bucket was created with it, or null. */
  objectLock: text("object_lock"),
  /** Lifecycle rules as JSON (the parsed configuration), or null. */
  lifecycle: text("lifecycle"),
  /** The notification configuration as JSON (notifications.ts), or null. */
  notification: text("notification"),
});

/** What a stored object version holds, current (`s3_objects`) or not (`s3_versions`). */
const storedColumns = () => ({
  size: integer("size").notNull(),
  etag: text("etag").notNull(),
  lastModified: integer("last_modified").notNull(),
  /** System headers (Content-Type, Cache-Control, ...) as a JSON object, lower-case names. */
  headers: text("headers").notNull(),
  /** User metadata (x-amz-meta-*) as a JSON object, names without the prefix. */
  metadata: text("metadata").notNull(),
  /** JSON array of `[storageKey, offset, length]` (see storage.ts: kernel_blobs, kernel_chunks, or an R2 key of older bodies). */
  segments: text("segments").notNull(),
  crc32: text("crc32"),
  partsCount: integer("parts_count"),
  /** A completed multipart upload's part sizes in order (JSON array), for GETs by partNumber; null otherwise. */
  partSizes: text("part_sizes"),
  /** Object tags as a JSON object. */
  tags: text("tags").notNull().default("{}"),
  /** Object Lock state as JSON `{ mode?, until?, legalHold? }`, or null. */
  lock: text("lock"),
});

export const objects = sqliteTable(
  "s3_objects",
  {
    /** `<bucket>/<key>`: one column naming the resource for snapshot diffs. */
    id: text("id").primaryKey(),
    bucket: text("bucket").notNull(),
    key: text("key").notNull(),
    ...storedColumns(),
    /** The version id; null is S3's `null` version (written while versioning was off or suspended). */
    versionId: text("version_id"),
  },
  (t) => [index("s3_objects_bucket_key").on(t.bucket, t.key)],
);

/**
 * Every version of a key that is not its current object: noncurrent versions and delete markers
 * (a key whose latest version is a marker has no `s3_objects` row). The current object stays in
 * `s3_objects`, so unversioned reads and listings never look here.
 */
export const versions = sqliteTable(
  "s3_versions",
  {
    /** `<bucket>/<key>?versionId=<id>`: names the resource for snapshot diffs. */
    id: text("id").primaryKey(),
    bucket: text("bucket").notNull(),
    key: text("key").notNull(),
    /** S3's version id, `null` included. */
    versionId: text("version_id").notNull(),
    /** Order of versions within a key: higher is newer. */
    seq: integer("seq").notNull(),
    /** 1 for a delete marker (then size 0 and no bytes). */
    marker: integer("marker").notNull().default(0),
    ...storedColumns(),
    /** When a newer version replaced it: noncurrent-version lifecycle rules count from here. */
    noncurrentSince: integer("noncurrent_since"),
  },
  (t) => [index("s3_versions_bucket_key_seq").on(t.bucket, t.key, t.seq)],
);

export const uploads = sqliteTable(
  "s3_uploads",
  {
    id: text("id").primaryKey(),
    bucket: text("bucket").notNull(),
    key: text("key").notNull(),
    initiated: integer("initiated").notNull(),
    headers: text("headers").notNull(),
    metadata: text("metadata").notNull(),
    tags: text("tags").notNull().default("{}"),
    /** Object Lock asked for at initiation (JSON, as on objects), applied when it completes. */
    lock: text("lock"),
  },
  (t) => [index("s3_uploads_bucket_key").on(t.bucket, t.key, t.id)],
);

export const parts = sqliteTable(
  "s3_parts",
  {
    uploadId: text("upload_id").notNull(),
    partNumber: integer("part_number").notNull(),
    size: integer("size").notNull(),
    etag: text("etag").notNull(),
    lastModified: integer("last_modified").notNull(),
    /** JSON array of `[r2Key, offset, length]` (a part copied from a range references its source). */
    segments: text("segments").notNull(),
    crc32: text("crc32"),
  },
  (t) => [primaryKey({ columns: [t.uploadId, t.partNumber] })],
);

/**
 * Multipart uploads completed: a client retrying CompleteMultipartUpload (its answer was lost)
 * gets the same result, as at S3, while the key still holds that object.
 */
export const completedUploads = sqliteTable("s3_completed_uploads", {
  id: text("id").primaryKey(),
  bucket: text("bucket").notNull(),
  key: text("key").notNull(),
  etag: text("etag").notNull(),
  versionId: text("version_id"),
  completedAt: integer("completed_at").notNull(),
});
