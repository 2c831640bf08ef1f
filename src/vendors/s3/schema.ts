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
});

export const objects = sqliteTable(
  "s3_objects",
  {
    /** `<bucket>/<key>`: one column naming the resource for snapshot diffs. */
    id: text("id").primaryKey(),
    bucket: text("bucket").notNull(),
    key: text("key").notNull(),
    size: integer("size").notNull(),
    etag: text("etag").notNull(),
    lastModified: integer("last_modified").notNull(),
    /** System headers (Content-Type, Cache-Control, ...) as a JSON object, lower-case names. */
    headers: text("headers").notNull(),
    /** User metadata (x-amz-meta-*) as a JSON object, names without the prefix. */
    metadata: text("metadata").notNull(),
    /** JSON array of `[storageKey, offset, length]` (`blob:<sha256>` in kernel_blobs, or an R2 key). */
    segments: text("segments").notNull(),
    crc32: text("crc32"),
    partsCount: integer("parts_count"),
    /** Object tags as a JSON object. */
    tags: text("tags").notNull().default("{}"),
  },
  (t) => [index("s3_objects_bucket_key").on(t.bucket, t.key)],
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
