// Versioning, lifecycle and Object Lock: Get/PutBucketVersioning, ListObjectVersions, DeleteObject
// (markers, version ids), Get/Put/DeleteBucketLifecycleConfiguration, Get/PutObjectLockConfiguration,
// Get/PutObjectRetention and Get/PutObjectLegalHold.
import type { Kernel } from "../../../kernel/types.ts";
import { S3Error, malformedXml, notImplemented } from "../errors.ts";
import { xmlResponse, parseXml } from "../xml.ts";
import { bucketsChanged, requireBucket } from "../buckets.ts";
import { isoDate } from "../http.ts";
import { deleteKey, listVersions, resolveVersion, updateVersion, versionIdHeader, type Deleted } from "../versions.ts";
import { noLifecycle, rulesOf, rulesOfXml, rulesXml, setLifecycle } from "../lifecycle.ts";
import { legalHoldUpdate, legalHoldXml, lockConfigOfXml, lockConfigXml, lockOf, putLockConfig, retentionUpdate, retentionXml, bucketLockOf } from "../objectlock.ts";
import { type S3Req, owner, maxOf, encoder } from "./request.ts";
import { notify } from "../notifications.ts";

const bypassOf = (r: S3Req) => (r.headers.get("x-amz-bypass-governance-retention") ?? "").trim().toLowerCase() === "true";

export function versioningRoute(k: Kernel, r: S3Req): Response {
  const b = requireBucket(k, r.bucket!);
  if (r.method === "GET") return xmlResponse("VersioningConfiguration", b.versioning ? { Status: b.versioning } : {});
  if (r.method !== "PUT") throw notImplemented(`${r.method} ?versioning`);
  const doc = parseXml(r.body, "VersioningConfiguration");
  const status = doc.Status;
  if (status !== "Enabled" && status !== "Suspended") throw malformedXml();
  const mfa = doc.MfaDelete ?? doc.MFADelete;
  if (mfa !== undefined && mfa !== "Disabled" && mfa !== "Enabled") throw malformedXml();
  if (mfa === "Enabled") throw notImplemented("MFA Delete");
  if (status === "Suspended" && bucketLockOf(b)) {
    throw new S3Error(409, "InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.", { BucketName: b.name });
  }
  k.sql.exec("UPDATE s3_buckets SET versioning = ? WHERE name = ?", status, b.name);
  bucketsChanged(k);
  return new Response(null, { status: 200 });
}

export function listVersionsRoute(k: Kernel, r: S3Req): Response {
  const q = r.q;
  const enc = encoder(q);
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const maxKeys = maxOf(q, "max-keys");
  const keyMarker = q.get("key-marker") ?? "";
  const versionIdMarker = q.get("version-id-marker") ?? "";
  if (versionIdMarker && !keyMarker) throw new S3Error(400, "InvalidArgument", "A version-id marker cannot be specified without a key marker.", { ArgumentName: "version-id-marker", ArgumentValue: versionIdMarker });
  const b = requireBucket(k, r.bucket!);
  const out = listVersions(k, b.name, { prefix, delimiter, keyMarker, versionIdMarker, maxKeys });
  const storageClass = (headers: string) => (JSON.parse(headers) as Record<string, string>)["x-amz-storage-class"] ?? "STANDARD";
  return xmlResponse("ListVersionsResult", {
    Name: b.name, Prefix: enc(prefix), KeyMarker: enc(keyMarker), VersionIdMarker: versionIdMarker,
    NextKeyMarker: out.truncated && out.next ? enc(out.next.key) : undefined,
    NextVersionIdMarker: out.truncated && out.next?.versionId ? out.next.versionId : undefined,
    MaxKeys: maxKeys, Delimiter: delimiter ? enc(delimiter) : undefined, IsTruncated: out.truncated,
    EncodingType: q.has("encoding-type") ? "url" : undefined,
    Version: out.items.filter((v) => !v.marker).map((v) => ({
      Key: enc(v.key), VersionId: v.version_id, IsLatest: v.latest, LastModified: isoDate(v.last_modified), ETag: v.etag, Size: v.size,
      Owner: owner(k), StorageClass: storageClass(v.headers),
    })),
    DeleteMarker: out.items.filter((v) => v.marker).map((v) => ({
      Key: enc(v.key), VersionId: v.version_id, IsLatest: v.latest, LastModified: isoDate(v.last_modified), Owner: owner(k),
    })),
    CommonPrefixes: out.prefixes.map((p) => ({ Prefix: enc(p) })),
  }, { "x-amz-bucket-region": b.region });
}

export function deleteObjectRoute(k: Kernel, r: S3Req): Response {
  const d = deleteKey(k, r.bucket!, r.key!, r.q.get("versionId"), bypassOf(r));
  removed(k, r, r.key!, r.q.get("versionId"), d);
  const headers: Record<string, string> = {};
  if (d.deleteMarker) headers["x-amz-delete-marker"] = "true";
  if (d.versionId !== undefined) headers["x-amz-version-id"] = d.versionId;
  return new Response(null, { status: 204, headers });
}

/** The notification of a deletion: a marker made (no version named), or a version or object gone. */
function removed(k: Kernel, r: S3Req, key: string, versionId: string | undefined, d: Deleted): void {
  const marker = d.deleteMarker && versionId === undefined;
  notify(k, r.bucket!, marker ? "ObjectRemoved:DeleteMarkerCreated" : "ObjectRemoved:Delete", { key, versionId: versionId ?? d.versionId ?? null }, r.id);
}

/** DeleteObjects' entry for one object: what was deleted, or its error. */
export function deleteOne(k: Kernel, r: S3Req, key: string, versionId: string | undefined): { deleted?: Record<string, unknown>; error?: Record<string, unknown> } {
  try {
    const d = deleteKey(k, r.bucket!, key, versionId, bypassOf(r));
    removed(k, r, key, versionId, d);
    if (versionId === undefined) return { deleted: { Key: key, ...(d.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: d.versionId } : {}) } };
    return { deleted: { Key: key, VersionId: versionId, ...(d.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: versionId } : {}) } };
  } catch (e) {
    if (!(e instanceof S3Error) || e.status >= 500) throw e;
    return { error: { Key: key, VersionId: versionId, Code: e.code, Message: e.message } };
  }
}

export function lifecycleRoute(k: Kernel, r: S3Req): Response {
  const b = requireBucket(k, r.bucket!);
  if (r.method === "GET") {
    const rules = rulesOf(b);
    if (!rules.length) throw noLifecycle(b.name);
    return xmlResponse("LifecycleConfiguration", rulesXml(rules));
  }
  if (r.method === "PUT") {
    setLifecycle(k, b.name, rulesOfXml(k, parseXml(r.body, "LifecycleConfiguration")));
    return new Response(null, { status: 200 });
  }
  if (r.method === "DELETE") {
    setLifecycle(k, b.name, null);
    return new Response(null, { status: 204 });
  }
  throw notImplemented(`${r.method} ?lifecycle`);
}

export function objectLockRoute(k: Kernel, r: S3Req): Response {
  const b = requireBucket(k, r.bucket!);
  if (r.method === "GET") return xmlResponse("ObjectLockConfiguration", lockConfigXml(b));
  if (r.method !== "PUT") throw notImplemented(`${r.method} ?object-lock`);
  putLockConfig(k, b.name, lockConfigOfXml(parseXml(r.body, "ObjectLockConfiguration")));
  return new Response(null, { status: 200 });
}

/** Get/PutObjectRetention and Get/PutObjectLegalHold, on the current version or the one named. */
export function objectLockStateRoute(k: Kernel, r: S3Req, which: "retention" | "legal-hold"): Response {
  const b = requireBucket(k, r.bucket!);
  const v = resolveVersion(k, b.name, r.key!, r.q.get("versionId"));
  const lock = lockOf(v.lock);
  const version = versionIdHeader(k, b.name, v.version_id);
  if (r.method === "GET") {
    return which === "retention" ? xmlResponse("Retention", retentionXml(b, lock), version) : xmlResponse("LegalHold", legalHoldXml(b, lock), version);
  }
  if (r.method !== "PUT") throw notImplemented(`${r.method} ?${which}`);
  const next = which === "retention"
    ? retentionUpdate(k, b, lock, parseXml(r.body, "Retention"), bypassOf(r))
    : legalHoldUpdate(b, lock, parseXml(r.body, "LegalHold"));
  updateVersion(k, v, "lock", JSON.stringify(next));
  return new Response(null, { status: 200, headers: version });
}
