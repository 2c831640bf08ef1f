// Lifecycle rules: the configuration's codec and validation, and the daily run that applies them.
// S3 applies rules once a day: an object N days old is expired at the first midnight UTC after
// `created + N days`, so the run is a job at each midnight of the run's clock while a bucket has
// rules, and advancing the clock fires each midnight in turn.
import type { Kernel } from "../../kernel/types.ts";
import { S3Error, invalidArgument, malformedXml, notImplemented, requestId } from "./errors.ts";
import { bucketsChanged, findBucket, requireBucket, type BucketRow } from "./buckets.ts";
import type { ObjectRow } from "./objects.ts";
import type { XmlNode } from "./xml.ts";
import { deleteKey } from "./versions.ts";
import { notify } from "./notifications.ts";
import { checkDeletable, lockOf } from "./objectlock.ts";
import { abortUpload, type UploadRow } from "./multipart.ts";

export const LIFECYCLE_JOB = "s3.lifecycle";
const DAY = 86_400_000;

export interface Filter {
  prefix?: string;
  tags?: [string, string][];
  /** The tags (and prefix, sizes) came inside `<And>`. */
  and?: boolean;
  gt?: number;
  lt?: number;
}

export interface Rule {
  id: string;
  status: "Enabled" | "Disabled";
  /** The legacy top-level `<Prefix>` (kept apart from `<Filter>` so the configuration reads back as sent). */
  prefix?: string;
  filter?: Filter;
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean };
  noncurrent?: { days: number; newer?: number };
  abortDays?: number;
}

/** The first midnight UTC at or after `t`. */
export const midnightAfter = (t: number) => Math.ceil(t / DAY) * DAY;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function positive(v: unknown, what: string): number {
  const n = Number(v);
  if (typeof v !== "string" || !/^-?\d+$/.test(v.trim()) || n <= 0) throw invalidArgument(`'${what}' for ${what === "Days" ? "Expiration" : "NoncurrentVersionExpiration"} action must be a positive integer`);
  return n;
}

function tagsOf(v: unknown): [string, string][] {
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((t: { Key?: unknown; Value?: unknown }) => {
    if (typeof t?.Key !== "string") throw malformedXml();
    return [t.Key, str(t.Value) ?? ""];
  });
}

function filterOf(f: unknown): Filter {
  if (f === "" || f === undefined) return {};
  if (typeof f !== "object" || f === null) throw malformedXml();
  const o = f as Record<string, unknown>;
  const parts = ["Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan"].filter((n) => o[n] !== undefined);
  if (parts.length > 1) throw malformedXml();
  const size = (v: unknown) => (v === undefined ? undefined : Number(v));
  if (o.And !== undefined) {
    const a = (o.And === "" ? {} : o.And) as Record<string, unknown>;
    return { and: true, prefix: str(a.Prefix), tags: tagsOf(a.Tag), gt: size(a.ObjectSizeGreaterThan), lt: size(a.ObjectSizeLessThan) };
  }
  return { prefix: str(o.Prefix), tags: o.Tag !== undefined ? tagsOf(o.Tag) : undefined, gt: size(o.ObjectSizeGreaterThan), lt: size(o.ObjectSizeLessThan) };
}

/** PutBucketLifecycleConfiguration's document, validated as S3 does. */
export function rulesOfXml(k: Kernel, doc: Record<string, unknown>): Rule[] {
  const list = doc.Rule;
  const raw = (Array.isArray(list) ? list : list === undefined ? [] : [list]) as Record<string, unknown>[];
  if (raw.length === 0 || raw.length > 1000) throw malformedXml();
  const ids = new Set<string>();
  return raw.map((r) => {
    if (typeof r !== "object" || r === null) throw malformedXml();
    if (r.Transition !== undefined || r.NoncurrentVersionTransition !== undefined) {
      // A malformed transition is refused as S3 refuses it; a well-formed one names storage classes the clone does not have.
      for (const t of [r.Transition].flat() as { Date?: unknown }[]) {
        if (t?.Date !== undefined && (!/^\d{4}-\d{2}-\d{2}/.test(String(t.Date)) || Number.isNaN(Date.parse(String(t.Date))))) throw invalidArgument("Invalid date specified for Transition action");
      }
      throw notImplemented("Lifecycle transitions between storage classes");
    }
    const id = str(r.ID) ?? k.ids.make("", 48, "hex");
    if (id.length > 255) throw invalidArgument("ID length should not exceed allowed limit of 255");
    if (ids.has(id)) throw invalidArgument("Rule ID must be unique. Found same ID for more than one rule");
    ids.add(id);
    if (r.Status !== "Enabled" && r.Status !== "Disabled") throw malformedXml();
    if (r.Prefix !== undefined && r.Filter !== undefined) throw malformedXml();
    const rule: Rule = { id, status: r.Status };
    if (r.Prefix !== undefined) rule.prefix = str(r.Prefix) ?? "";
    else rule.filter = filterOf(r.Filter);
    const e = r.Expiration as Record<string, unknown> | undefined;
    if (e !== undefined) {
      const given = ["Days", "Date", "ExpiredObjectDeleteMarker"].filter((n) => e[n] !== undefined);
      if (given.length !== 1) throw malformedXml();
      if (e.Days !== undefined) rule.expiration = { days: positive(e.Days, "Days") };
      else if (e.Date !== undefined) {
        const t = Date.parse(String(e.Date));
        if (!/^\d{4}-\d{2}-\d{2}/.test(String(e.Date)) || Number.isNaN(t)) throw invalidArgument("Invalid date specified for Expiration action");
        if (t % DAY !== 0) throw invalidArgument("'Date' must be at midnight GMT");
        rule.expiration = { date: t };
      } else {
        const v = String(e.ExpiredObjectDeleteMarker).trim();
        if (v !== "true" && v !== "false") throw malformedXml();
        if (rule.filter?.tags?.length) throw invalidArgument("ExpiredObjectDeleteMarker cannot be specified with object tags");
        rule.expiration = { expiredObjectDeleteMarker: v === "true" };
      }
    }
    const n = r.NoncurrentVersionExpiration as Record<string, unknown> | undefined;
    if (n !== undefined) {
      rule.noncurrent = { days: positive(n.NoncurrentDays, "NoncurrentDays") };
      if (n.NewerNoncurrentVersions !== undefined) rule.noncurrent.newer = positive(n.NewerNoncurrentVersions, "NewerNoncurrentVersions");
    }
    const a = r.AbortIncompleteMultipartUpload as Record<string, unknown> | undefined;
    if (a !== undefined) {
      const d = Number(a.DaysAfterInitiation);
      if (!Number.isInteger(d) || d <= 0) throw invalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
      rule.abortDays = d;
    }
    if (!rule.expiration && !rule.noncurrent && rule.abortDays === undefined) throw invalidArgument("At least one action needs to be specified in a rule");
    return rule;
  });
}

function filterXml(f: Filter): XmlNode {
  const tag = (t: [string, string]) => ({ Key: t[0], Value: t[1] });
  if (f.and) return { And: { Prefix: f.prefix, Tag: (f.tags ?? []).map(tag), ObjectSizeGreaterThan: f.gt, ObjectSizeLessThan: f.lt } };
  return { Prefix: f.prefix, Tag: f.tags?.length ? tag(f.tags[0]) : undefined, ObjectSizeGreaterThan: f.gt, ObjectSizeLessThan: f.lt };
}

export function rulesXml(rules: Rule[]): XmlNode {
  return {
    Rule: rules.map((r) => ({
      ID: r.id,
      Prefix: r.prefix,
      Filter: r.filter ? filterXml(r.filter) : undefined,
      Status: r.status,
      Expiration: r.expiration
        ? { Days: r.expiration.days, Date: r.expiration.date !== undefined ? new Date(r.expiration.date).toISOString() : undefined, ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker }
        : undefined,
      NoncurrentVersionExpiration: r.noncurrent ? { NoncurrentDays: r.noncurrent.days, NewerNoncurrentVersions: r.noncurrent.newer } : undefined,
      AbortIncompleteMultipartUpload: r.abortDays !== undefined ? { DaysAfterInitiation: r.abortDays } : undefined,
    })),
  };
}

export const rulesOf = (b: BucketRow | null): Rule[] => (b?.lifecycle ? (JSON.parse(b.lifecycle) as Rule[]) : []);

export function noLifecycle(bucket: string): S3Error {
  return new S3Error(404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", { BucketName: bucket });
}

/** Stores the rules and arms the daily run at the next midnight of the run clock. */
export function setLifecycle(k: Kernel, bucket: string, rules: Rule[] | null): void {
  requireBucket(k, bucket);
  k.sql.exec("UPDATE s3_buckets SET lifecycle = ? WHERE name = ?", rules ? JSON.stringify(rules) : null, bucket);
  bucketsChanged(k);
  k.jobs.cancel(LIFECYCLE_JOB, bucket);
  if (rules) k.jobs.schedule("s3", LIFECYCLE_JOB, midnightAfter(k.clock.now() + 1), {}, bucket);
}

const prefixOf = (r: Rule) => r.prefix ?? r.filter?.prefix ?? "";

function matches(r: Rule, o: { key: string; size: number; tags: string }): boolean {
  if (r.status !== "Enabled" || !o.key.startsWith(prefixOf(r))) return false;
  const f = r.filter;
  if (!f) return true;
  if (f.gt !== undefined && !(o.size > f.gt)) return false;
  if (f.lt !== undefined && !(o.size < f.lt)) return false;
  if (f.tags?.length) {
    const tags = JSON.parse(o.tags) as Record<string, string>;
    if (!f.tags.every(([key, v]) => tags[key] === v)) return false;
  }
  return true;
}

/** When the current object `o` expires under `r`, or null. */
function expiryOf(r: Rule, o: { last_modified: number }): number | null {
  if (r.expiration?.days) return midnightAfter(o.last_modified + r.expiration.days * DAY);
  if (r.expiration?.date !== undefined) return Math.max(r.expiration.date, midnightAfter(o.last_modified));
  return null;
}

/** `x-amz-expiration` of a current object: the earliest expiry its bucket's rules give it. */
export function expirationHeader(k: Kernel, o: ObjectRow, b: BucketRow | null = findBucket(k, o.bucket)): Record<string, string> {
  if (!b?.lifecycle) return {};
  let best: { at: number; id: string } | null = null;
  for (const r of rulesOf(b)) {
    if (!matches(r, o)) continue;
    const at = expiryOf(r, o);
    if (at !== null && (!best || at < best.at)) best = { at, id: r.id };
  }
  return best ? { "x-amz-expiration": `expiry-date="${new Date(best.at).toUTCString()}", rule-id="${best.id}"` } : {};
}

type StoredVersion = { id: string; key: string; size: number; tags: string; marker: number; seq: number; lock: string | null; noncurrent_since: number | null; version_id: string; last_modified: number };

/**
 * One day's run over a bucket at `now`: expires current objects (a delete marker on a versioned
 * bucket), removes noncurrent versions past their days and lone expired delete markers, and aborts
 * stale multipart uploads. Locked versions stay. With the `lifecycle_early_delete` chaos preset,
 * everything falls due a day early.
 */
export function applyLifecycle(k: Kernel, bucket: string, now: number): string | void {
  const b = findBucket(k, bucket);
  const rules = rulesOf(b).filter((r) => r.status === "Enabled");
  if (!b || rules.length === 0) return;
  const horizon = k.chaos.take("s3", "lifecycle_early_delete") ? now + DAY : now;
  let expired = 0;
  let noncurrent = 0;
  let markers = 0;
  let aborted = 0;
  for (const r of rules) {
    const prefix = prefixOf(r);
    if (r.expiration?.days || r.expiration?.date !== undefined) {
      // The horizon is a midnight, so "due by the horizon" is "modified by the horizon less the rule's days".
      const modifiedBy = r.expiration.days ? horizon - r.expiration.days * DAY : horizon;
      const current = k.sql.exec<ObjectRow>("SELECT * FROM s3_objects WHERE bucket = ? AND instr(key, ?) = 1 AND last_modified <= ?", bucket, prefix, modifiedBy).toArray();
      for (const o of current) {
        const at = expiryOf(r, o);
        if (at === null || at > horizon || !matches(r, o)) continue;
        if (b.versioning === null) {
          try {
            checkDeletable(k, lockOf(o.lock), false);
          } catch {
            continue;
          }
        }
        const d = deleteKey(k, bucket, o.key, undefined);
        notify(k, bucket, d.deleteMarker ? "LifecycleExpiration:DeleteMarkerCreated" : "LifecycleExpiration:Delete", { key: o.key, versionId: d.versionId ?? null }, requestId());
        expired++;
      }
    }
    if (b.versioning !== null && (r.noncurrent || r.expiration)) {
      const stored = k.sql.exec<StoredVersion>(
        "SELECT id, key, size, tags, marker, seq, lock, noncurrent_since, version_id, last_modified FROM s3_versions WHERE bucket = ? AND instr(key, ?) = 1 ORDER BY key, seq DESC",
        bucket, prefix,
      ).toArray();
      const byKey = new Map<string, StoredVersion[]>();
      for (const v of stored) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
      for (const [key, list] of byKey) {
        const hasCurrent = k.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM s3_objects WHERE id = ?", `${bucket}/${key}`).one().n > 0;
        let remaining = list.length + (hasCurrent ? 1 : 0);
        if (r.noncurrent) {
          let newer = 0;
          for (const [i, v] of list.entries()) {
            const isLatest = !hasCurrent && i === 0;
            if (isLatest || !matches(r, v)) continue;
            newer++;
            if (r.noncurrent.newer !== undefined && newer <= r.noncurrent.newer) continue;
            const since = v.noncurrent_since ?? v.last_modified;
            if (midnightAfter(since + r.noncurrent.days * DAY) > horizon) continue;
            if (!v.marker) {
              try {
                checkDeletable(k, lockOf(v.lock), false);
              } catch {
                continue;
              }
            }
            k.sql.exec("DELETE FROM s3_versions WHERE id = ?", v.id);
            remaining--;
            noncurrent++;
          }
        }
        // A delete marker that is all that is left of a key is an expired object delete marker.
        const top = list.find((v) => k.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM s3_versions WHERE id = ?", v.id).one().n > 0);
        const lone = !hasCurrent && remaining === 1 && top?.marker === 1 && matches(r, top);
        const markerDue = r.expiration?.expiredObjectDeleteMarker || (r.expiration?.days !== undefined && midnightAfter(top!.last_modified + r.expiration.days * DAY) <= horizon);
        if (lone && markerDue) {
          k.sql.exec("DELETE FROM s3_versions WHERE id = ?", top!.id);
          markers++;
        }
      }
    }
    if (r.abortDays !== undefined) {
      const uploads = k.sql.exec<UploadRow>("SELECT * FROM s3_uploads WHERE bucket = ? AND instr(key, ?) = 1", bucket, prefix).toArray();
      for (const u of uploads) {
        if (midnightAfter(u.initiated + r.abortDays * DAY) > horizon) continue;
        abortUpload(k, u);
        aborted++;
      }
    }
  }
  // A day on which nothing was due is not reported, so a long advance lists only the days that acted.
  if (expired + noncurrent + markers + aborted === 0) return;
  return `s3 lifecycle ${bucket}: ${expired} expired, ${noncurrent} noncurrent versions removed, ${markers} delete markers removed, ${aborted} uploads aborted`;
}

/** The daily job: apply the rules at its midnight, then arm the next one while rules remain. */
export function lifecycleJobs(k: Kernel) {
  return {
    [LIFECYCLE_JOB]: (_payload: Record<string, unknown>, job: { dueAt: number; ref: string | null }) => {
      const bucket = job.ref!;
      const result = applyLifecycle(k, bucket, job.dueAt);
      if (rulesOf(findBucket(k, bucket)).length) k.jobs.schedule("s3", LIFECYCLE_JOB, job.dueAt + DAY, {}, bucket);
      return result;
    },
  };
}
