// The S3 chaos presets that act on particular operations, which a method and path glob cannot
// single out: `slow_put` delays PutObject and UploadPart (not CreateBucket, tagging or copies);
// `503_restore` answers SlowDown to RestoreObject and to reads of objects in an archive class.
import { Deferred, deferred, type Kernel } from "../../kernel/types.ts";
import { s3Error } from "./errors.ts";
import { findObject } from "./objects.ts";

/** How much longer a PutObject or UploadPart takes while `slow_put` fires. */
export const SLOW_PUT_MS = 2000;
const ARCHIVE = new Set(["GLACIER", "DEEP_ARCHIVE"]);

export interface PresetTarget {
  method: string;
  bucket: string | null;
  key: string | null;
  q: Map<string, string>;
  headers: Headers;
  url: URL;
}

/**
 * SlowDown when `503_restore` fires for this RestoreObject or read of an archived object. Answered,
 * not thrown: a thrown error would roll back the count of the rule's firings.
 */
export function restorePreset(k: Kernel, r: PresetTarget): Response | null {
  if (r.bucket === null || r.key === null) return null;
  const restore = r.method === "POST" && r.q.has("restore");
  const read = r.method === "GET" && (r.q.size === 0 || (r.q.size === 1 && r.q.has("partNumber")));
  if (!restore && !read) return null;
  // Every GET would otherwise read its object twice: the storage class only matters while armed.
  if (!k.chaos.armed("s3", "503_restore")) return null;
  if (read) {
    const o = findObject(k, r.bucket, r.key);
    const cls = o ? (JSON.parse(o.headers) as Record<string, string>)["x-amz-storage-class"] : undefined;
    if (!cls || !ARCHIVE.has(cls)) return null;
  }
  if (!k.chaos.take("s3", "503_restore", r.method === "POST" ? "POST" : "GET", r.url.pathname)) return null;
  return s3Error(503, "SlowDown", "Please reduce your request rate.");
}

/** `res`, delayed when `slow_put` fires for this PutObject or UploadPart. */
export function slowPutPreset(k: Kernel, r: PresetTarget, res: Response): Response {
  if (r.method !== "PUT" || r.key === null || r.headers.has("x-amz-copy-source")) return res;
  const part = r.q.size === 2 && r.q.has("partNumber") && r.q.has("uploadId");
  if (r.q.size !== 0 && !part) return res;
  if (!k.chaos.take("s3", "slow_put", "PUT", r.url.pathname)) return res;
  return deferred(async () => {
    await scheduler.wait(SLOW_PUT_MS);
    return res instanceof Deferred ? res.run() : res;
  });
}
