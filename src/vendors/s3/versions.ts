// Versioning as S3 does it: a key's current object lives in `s3_objects`; the versions it
// replaced and its delete markers live in `s3_versions`, newest with the highest `seq`. A write on
// an enabled bucket keeps the replaced version, a suspended bucket overwrites the `null` version,
// a delete without a version id leaves a marker, and deleting the current version by id brings
// back the newest remaining one.
import type { Kernel } from "../../kernel/types.ts";
import { S3Error, invalidArgument, noSuchKey } from "./errors.ts";
import { requireBucket, findBucket, type BucketRow } from "./buckets.ts";
import type { ObjectRow } from "./objects.ts";
import { checkDeletable, lockOf } from "./objectlock.ts";

export type Versioning = BucketRow["versioning"];

/** A version of a key, current or not; `version_id` is never null here (`"null"` is the null version). */
export interface Version extends ObjectRow {
  version_id: string;
  marker: number;
  current: boolean;
  seq: number | null;
  noncurrent_since: number | null;
}

const VERSION_ID = /^[A-Za-z0-9]{32}$/;
/** Sorts a key's current object before every stored version. */
const CURRENT_ORD = -Number.MAX_SAFE_INTEGER;

const newVersionId = (k: Kernel) => k.ids.make("", 32);
const versionRowId = (bucket: string, key: string, versionId: string) => `${bucket}/${key}?versionId=${versionId}`;

export function checkVersionId(v: string | undefined): void {
  if (v !== undefined && v !== "null" && !VERSION_ID.test(v)) throw invalidArgument("Invalid version id specified", "versionId", v);
}

function asVersion(o: ObjectRow): Version {
  return { ...o, version_id: o.version_id ?? "null", marker: 0, current: true, seq: null, noncurrent_since: null };
}

function stored(r: Omit<Version, "current">): Version {
  return { ...r, current: false };
}

const nextSeq = (k: Kernel, bucket: string, key: string) =>
  (k.sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM s3_versions WHERE bucket = ? AND key = ?", bucket, key).one().s ?? 0) + 1;

/** Moves the current object into `s3_versions`, noncurrent from now. */
function demoteCurrent(k: Kernel, o: ObjectRow): void {
  const vid = o.version_id ?? "null";
  k.sql.exec(
    `INSERT INTO s3_versions (id, bucket, key, version_id, seq, marker, size, etag, last_modified, headers, metadata, segments, crc32, parts_count, part_sizes, tags, lock, noncurrent_since)
     VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    versionRowId(o.bucket, o.key, vid), o.bucket, o.key, vid, nextSeq(k, o.bucket, o.key), o.size, o.etag, o.last_modified, o.headers, o.metadata, o.segments,
    o.crc32, o.parts_count, o.part_sizes, o.tags, o.lock, k.clock.now(),
  );
  k.sql.exec("DELETE FROM s3_objects WHERE id = ?", o.id);
}

const currentOf = (k: Kernel, bucket: string, key: string) =>
  k.sql.exec<ObjectRow>("SELECT * FROM s3_objects WHERE id = ?", `${bucket}/${key}`).toArray()[0] ?? null;

/** The stored `null` version of a key goes: a suspended bucket's write or delete replaces it. */
const dropStoredNull = (k: Kernel, bucket: string, key: string) => k.sql.exec("DELETE FROM s3_versions WHERE id = ?", versionRowId(bucket, key, "null"));

/**
 * Called before a new current object is written: keeps or drops the one it replaces as the
 * bucket's versioning says, and answers the new version's id (null for the `null` version).
 */
export function prepareWrite(k: Kernel, bucket: string, key: string): string | null {
  const v = findBucket(k, bucket)?.versioning ?? null;
  if (v === null) return null;
  stampNoncurrent(k, bucket, key);
  const cur = currentOf(k, bucket, key);
  if (v === "Enabled") {
    if (cur) demoteCurrent(k, cur);
    return newVersionId(k);
  }
  if (cur && cur.version_id !== null) demoteCurrent(k, cur);
  dropStoredNull(k, bucket, key);
  return null;
}

/** A stored version that was the latest (a delete marker) becomes noncurrent when a newer one arrives. */
const stampNoncurrent = (k: Kernel, bucket: string, key: string) =>
  k.sql.exec("UPDATE s3_versions SET noncurrent_since = ? WHERE bucket = ? AND key = ? AND noncurrent_since IS NULL", k.clock.now(), bucket, key);

function addMarker(k: Kernel, bucket: string, key: string, versionId: string): void {
  const now = k.clock.now();
  stampNoncurrent(k, bucket, key);
  k.sql.exec(
    `INSERT INTO s3_versions (id, bucket, key, version_id, seq, marker, size, etag, last_modified, headers, metadata, segments, tags)
     VALUES (?, ?, ?, ?, ?, 1, 0, '', ?, '{}', '{}', '[]', '{}')`,
    versionRowId(bucket, key, versionId), bucket, key, versionId, nextSeq(k, bucket, key), now,
  );
}

/** After the current object was removed: the newest stored version comes back unless it is a marker. */
function promoteNewest(k: Kernel, bucket: string, key: string): void {
  const top = k.sql.exec<Omit<Version, "current">>("SELECT * FROM s3_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1", bucket, key).toArray()[0];
  if (!top || top.marker) return;
  k.sql.exec(
    `INSERT INTO s3_objects (id, bucket, key, size, etag, last_modified, headers, metadata, segments, crc32, parts_count, part_sizes, tags, version_id, lock)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    `${bucket}/${key}`, bucket, key, top.size, top.etag, top.last_modified, top.headers, top.metadata, top.segments, top.crc32, top.parts_count, top.part_sizes, top.tags,
    top.version_id === "null" ? null : top.version_id, top.lock,
  );
  k.sql.exec("DELETE FROM s3_versions WHERE id = ?", top.id);
}

/** One version by id (`"null"` included), current or stored; null when the key has no such version. */
export function findVersion(k: Kernel, bucket: string, key: string, versionId: string): Version | null {
  const cur = currentOf(k, bucket, key);
  if (cur && (cur.version_id ?? "null") === versionId) return asVersion(cur);
  const r = k.sql.exec<Omit<Version, "current">>("SELECT * FROM s3_versions WHERE id = ?", versionRowId(bucket, key, versionId)).toArray()[0];
  return r ? stored(r) : null;
}

/** The delete marker that is a key's latest version, if it is one. */
export function latestMarker(k: Kernel, bucket: string, key: string): Version | null {
  if (currentOf(k, bucket, key)) return null;
  const top = k.sql.exec<Omit<Version, "current">>("SELECT * FROM s3_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1", bucket, key).toArray()[0];
  return top?.marker ? stored(top) : null;
}

/**
 * The version a read names: the current object, or the one `versionId` names. A delete marker
 * answers as S3 does: 404 NoSuchKey when it is the latest, 405 MethodNotAllowed when named.
 */
export function resolveVersion(k: Kernel, bucket: string, key: string, versionId: string | undefined, method = "GET", checked?: BucketRow): Version {
  if (!checked) requireBucket(k, bucket);
  checkVersionId(versionId);
  if (versionId === undefined) {
    const cur = currentOf(k, bucket, key);
    if (cur) return asVersion(cur);
    const m = latestMarker(k, bucket, key);
    if (m) throw new S3Error(404, "NoSuchKey", "The specified key does not exist.", { Key: key }, { "x-amz-delete-marker": "true", "x-amz-version-id": m.version_id });
    throw noSuchKey(key);
  }
  const v = findVersion(k, bucket, key, versionId);
  if (!v) throw new S3Error(404, "NoSuchVersion", "The specified version does not exist.", { Key: key, VersionId: versionId });
  if (v.marker) {
    throw new S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", { Method: method, ResourceType: "DeleteMarker" }, {
      "x-amz-delete-marker": "true", "x-amz-version-id": v.version_id, "last-modified": new Date(v.last_modified).toUTCString(), allow: "DELETE",
    });
  }
  return v;
}

/** Sets a column of one version, wherever it lives. */
export function updateVersion(k: Kernel, v: Version, column: "tags" | "lock", value: string): void {
  if (v.current) k.sql.exec(`UPDATE s3_objects SET ${column} = ? WHERE id = ?`, value, `${v.bucket}/${v.key}`);
  else k.sql.exec(`UPDATE s3_versions SET ${column} = ? WHERE id = ?`, value, versionRowId(v.bucket, v.key, v.version_id));
}

export interface Deleted {
  /** The marker that was created, or the version deleted was a marker. */
  deleteMarker: boolean;
  /** The version deleted or the marker created; absent on an unversioned bucket. */
  versionId?: string;
}

/**
 * DeleteObject: without a version id, removes the object (unversioned), or leaves a delete marker
 * (`null` when suspended); with one, removes that version for good, unless Object Lock keeps it.
 */
export function deleteKey(k: Kernel, bucket: string, key: string, versionId: string | undefined, bypassGovernance = false): Deleted {
  const b = requireBucket(k, bucket);
  checkVersionId(versionId);
  if (versionId === undefined) {
    if (b.versioning === null) {
      k.sql.exec("DELETE FROM s3_objects WHERE id = ?", `${bucket}/${key}`);
      return { deleteMarker: false };
    }
    const cur = currentOf(k, bucket, key);
    if (b.versioning === "Enabled") {
      if (cur) demoteCurrent(k, cur);
      const id = newVersionId(k);
      addMarker(k, bucket, key, id);
      return { deleteMarker: true, versionId: id };
    }
    if (cur && cur.version_id === null) k.sql.exec("DELETE FROM s3_objects WHERE id = ?", cur.id);
    else if (cur) demoteCurrent(k, cur);
    dropStoredNull(k, bucket, key);
    addMarker(k, bucket, key, "null");
    return { deleteMarker: true, versionId: "null" };
  }
  const v = findVersion(k, bucket, key, versionId);
  if (!v) return { deleteMarker: false, versionId };
  if (!v.marker) checkDeletable(k, lockOf(v.lock), bypassGovernance);
  k.sql.exec(`DELETE FROM ${v.current ? "s3_objects" : "s3_versions"} WHERE id = ?`, v.id);
  // Removing the latest version (or the marker that was latest) makes the newest remaining one current.
  if (!currentOf(k, bucket, key)) promoteNewest(k, bucket, key);
  return { deleteMarker: v.marker === 1, versionId };
}

/** The `x-amz-version-id` a response carries: a real id, or `null` once the bucket has had versioning. */
export function versionIdHeader(k: Kernel, bucket: string | BucketRow, versionId: string | null): Record<string, string> {
  if (versionId !== null && versionId !== "null") return { "x-amz-version-id": versionId };
  return (typeof bucket === "string" ? findBucket(k, bucket) : bucket)?.versioning ? { "x-amz-version-id": "null" } : {};
}

// ---- ListObjectVersions ---------------------------------------------------------------------

export interface VersionsInput {
  prefix: string;
  delimiter: string;
  keyMarker: string;
  versionIdMarker: string;
  maxKeys: number;
}

export interface ListedVersion extends Version {
  latest: boolean;
}

export interface VersionsOutput {
  items: ListedVersion[];
  prefixes: string[];
  truncated: boolean;
  next: { key: string; versionId?: string } | null;
}

type Row = Omit<Version, "current" | "noncurrent_since"> & { ord: number };

const PAGE = 500;
const COLUMNS = "id, bucket, key, version_id, size, etag, last_modified, headers, metadata, segments, crc32, parts_count, part_sizes, tags, lock";

/**
 * Versions and delete markers in S3's order: keys in byte order, each key's versions newest
 * first; rolled into common prefixes at the delimiter. Resumes after (key-marker,
 * version-id-marker); each version, marker or prefix counts once toward max-keys.
 */
export function listVersions(k: Kernel, bucket: string, q: VersionsInput): VersionsOutput {
  requireBucket(k, bucket);
  const out: VersionsOutput = { items: [], prefixes: [], truncated: false, next: null };
  if (q.maxKeys === 0) return out;
  let cursorKey = q.keyMarker;
  let cursorOrd = Number.MAX_SAFE_INTEGER;
  if (q.keyMarker && q.versionIdMarker) {
    const v = findVersion(k, bucket, q.keyMarker, q.versionIdMarker);
    if (v) cursorOrd = v.current ? CURRENT_ORD : -v.seq!;
  }
  if (q.prefix > cursorKey) {
    cursorKey = q.prefix;
    cursorOrd = CURRENT_ORD - 1;
  }
  let skipPrefix = q.delimiter && q.keyMarker.startsWith(q.prefix) && q.keyMarker.endsWith(q.delimiter) && q.keyMarker.indexOf(q.delimiter, q.prefix.length) === q.keyMarker.length - q.delimiter.length ? q.keyMarker : null;
  let prevKey: string | null = q.keyMarker || null;
  const count = () => out.items.length + out.prefixes.length;
  // Each side is ordered and limited on its own index, so a page merges two short runs instead of
  // sorting everything after the cursor.
  const sql = `SELECT * FROM (SELECT ${COLUMNS}, 0 AS marker, NULL AS seq, ${CURRENT_ORD} AS ord FROM s3_objects
        WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND ${CURRENT_ORD} > ?3)) ORDER BY key LIMIT ?4)
      UNION ALL
      SELECT * FROM (SELECT ${COLUMNS}, marker, seq, -seq AS ord FROM s3_versions
        WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND -seq > ?3)) ORDER BY key, seq DESC LIMIT ?4)
    ORDER BY key, ord LIMIT ?4`;
  for (;;) {
    const rows = k.sql.exec<Row>(sql, bucket, cursorKey, cursorOrd, PAGE).toArray();
    for (const r of rows) {
      const latest = r.key !== prevKey;
      prevKey = r.key;
      if (!r.key.startsWith(q.prefix)) {
        if (r.key > q.prefix) return out;
        continue;
      }
      if (skipPrefix && r.key.startsWith(skipPrefix)) continue;
      let prefix: string | null = null;
      if (q.delimiter) {
        const i = r.key.indexOf(q.delimiter, q.prefix.length);
        if (i >= 0) prefix = r.key.slice(0, i + q.delimiter.length);
      }
      if (count() >= q.maxKeys) {
        out.truncated = true;
        return out;
      }
      if (prefix !== null) {
        out.prefixes.push(prefix);
        skipPrefix = prefix;
        out.next = { key: prefix };
        continue;
      }
      out.items.push({ ...r, version_id: r.version_id ?? "null", current: r.ord === CURRENT_ORD, noncurrent_since: null, latest });
      out.next = { key: r.key, versionId: r.version_id ?? "null" };
    }
    if (rows.length < PAGE) return out;
    const last = rows[rows.length - 1];
    cursorKey = last.key;
    cursorOrd = last.ord;
  }
}
