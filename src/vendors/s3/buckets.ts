// Bucket rules: names, creation with a region, emptiness on delete.
import type { Kernel } from "../../kernel/types.ts";
import { S3Error, noSuchBucket } from "./errors.ts";

export type BucketRow = {
  name: string;
  region: string;
  created_at: number;
  tags: string | null;
  cors: string | null;
  policy: string | null;
  versioning: "Enabled" | "Suspended" | null;
  object_lock: string | null;
  lifecycle: string | null;
  notification: string | null;
};

const NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function validateBucketName(name: string): void {
  if (!NAME.test(name) || name.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith("xn--") || name.endsWith("-s3alias")) {
    throw new S3Error(400, "InvalidBucketName", "The specified bucket is not valid.", { BucketName: name });
  }
}

// Every signed request reads its bucket's row, and buckets rarely change: rows read are kept per
// world, frozen, and dropped by every write to s3_buckets (bucketsChanged) and by rollbacks and
// restores (Kernel.onReload). Names that were not found are kept too, within a bound.
const cache = new WeakMap<Kernel, Map<string, BucketRow | null>>();
const CACHED_NAMES = 1024;

function cacheOf(k: Kernel): Map<string, BucketRow | null> {
  let c = cache.get(k);
  if (!c) {
    const m = (c = new Map());
    cache.set(k, m);
    k.onReload(() => m.clear());
  }
  return c;
}

/** Must follow every statement that writes s3_buckets. */
export function bucketsChanged(k: Kernel): void {
  cache.get(k)?.clear();
}

export function findBucket(k: Kernel, name: string): BucketRow | null {
  const c = cacheOf(k);
  const hit = c.get(name);
  if (hit !== undefined) return hit;
  const row = k.sql.exec<BucketRow>("SELECT * FROM s3_buckets WHERE name = ?", name).toArray()[0] ?? null;
  if (c.size >= CACHED_NAMES) c.clear();
  c.set(name, row && Object.freeze(row));
  return row;
}

export function requireBucket(k: Kernel, name: string): BucketRow {
  const b = findBucket(k, name);
  if (!b) throw noSuchBucket(name);
  return b;
}

/** Creates a bucket; `constraint` is the LocationConstraint (none means us-east-1). */
export function createBucket(k: Kernel, name: string, constraint: string | null, defaultRegion: string): BucketRow {
  validateBucketName(name);
  if (constraint === defaultRegion && defaultRegion === "us-east-1") {
    throw new S3Error(400, "InvalidLocationConstraint", "The specified location-constraint is not valid", { LocationConstraint: constraint });
  }
  const existing = findBucket(k, name);
  // S3's legacy us-east-1 behaviour: re-creating a bucket you own there is a 200 that changes nothing.
  if (existing && existing.region === "us-east-1" && !constraint) return existing;
  if (existing) {
    throw new S3Error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", { BucketName: name });
  }
  const row: BucketRow = { name, region: constraint || defaultRegion, created_at: k.clock.now(), tags: null, cors: null, policy: null, versioning: null, object_lock: null, lifecycle: null, notification: null };
  k.sql.exec("INSERT INTO s3_buckets (name, region, created_at) VALUES (?, ?, ?)", row.name, row.region, row.created_at);
  bucketsChanged(k);
  return row;
}

export function listBuckets(k: Kernel): BucketRow[] {
  return k.sql.exec<BucketRow>("SELECT * FROM s3_buckets ORDER BY name").toArray();
}

export function deleteBucket(k: Kernel, name: string): void {
  requireBucket(k, name);
  const used = k.sql.exec<{ n: number }>("SELECT EXISTS (SELECT 1 FROM s3_objects WHERE bucket = ?) OR EXISTS (SELECT 1 FROM s3_versions WHERE bucket = ?) AS n", name, name).one().n;
  if (used) throw new S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", { BucketName: name });
  for (const u of k.sql.exec<{ id: string }>("SELECT id FROM s3_uploads WHERE bucket = ?", name).toArray()) {
    k.sql.exec("DELETE FROM s3_parts WHERE upload_id = ?", u.id);
  }
  k.sql.exec("DELETE FROM s3_uploads WHERE bucket = ?", name);
  k.sql.exec("DELETE FROM s3_buckets WHERE name = ?", name);
  bucketsChanged(k);
  k.jobs.cancel("s3.lifecycle", name);
}

/** Sets (or, with null, removes) a bucket's tag set, CORS configuration or policy (stored as JSON text). */
export function setBucketConfig(k: Kernel, name: string, field: "tags" | "cors" | "policy", value: unknown | null): void {
  requireBucket(k, name);
  k.sql.exec(`UPDATE s3_buckets SET ${field} = ? WHERE name = ?`, value === null ? null : typeof value === "string" ? value : JSON.stringify(value), name);
  bucketsChanged(k);
}

/** A bucket policy must be a JSON document with a Statement; it is kept as sent. */
export function validatePolicy(text: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new S3Error(400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc) || !("Statement" in doc)) {
    throw new S3Error(400, "MalformedPolicy", "Missing required field Statement");
  }
  return text;
}
