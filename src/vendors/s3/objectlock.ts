// Object Lock: a bucket's default retention, a version's retention and legal hold, and the rule
// that a locked version cannot be deleted (a governance lock yields to the bypass header).
import type { Kernel } from "../../kernel/types.ts";
import { S3Error, malformedXml } from "./errors.ts";
import { bucketsChanged, requireBucket, type BucketRow } from "./buckets.ts";
import type { XmlNode } from "./xml.ts";

export type LockMode = "GOVERNANCE" | "COMPLIANCE";

/** A version's lock, stored as JSON in its row: retention (mode and until, ms) and legal hold. */
export interface Lock {
  mode?: LockMode;
  until?: number;
  legalHold?: "ON" | "OFF";
}

/** A bucket's Object Lock: present once enabled; `rule` is its default retention. */
export interface BucketLock {
  rule?: { mode: LockMode; days?: number; years?: number };
}

const DAY = 86_400_000;
const MODES = new Set(["GOVERNANCE", "COMPLIANCE"]);

export const bucketLockOf = (b: BucketRow): BucketLock | null => (b.object_lock ? (JSON.parse(b.object_lock) as BucketLock) : null);
export const lockOf = (json: string | null): Lock => (json ? (JSON.parse(json) as Lock) : {});

const missingConfig = () => new S3Error(400, "InvalidRequest", "Bucket is missing Object Lock Configuration");

/** A bucket created with `x-amz-bucket-object-lock-enabled: true`: lock on, versioning enabled for good. */
export function enableObjectLock(k: Kernel, bucket: string): void {
  k.sql.exec("UPDATE s3_buckets SET object_lock = ?, versioning = 'Enabled' WHERE name = ?", JSON.stringify({}), bucket);
  bucketsChanged(k);
}

/** PutObjectLockConfiguration's document, validated as S3 does. */
export function lockConfigOfXml(doc: Record<string, unknown>): BucketLock {
  if (doc.ObjectLockEnabled !== "Enabled") throw malformedXml();
  const rule = doc.Rule as { DefaultRetention?: Record<string, unknown> } | undefined;
  if (rule === undefined || (rule as unknown) === "") return {};
  const d = rule.DefaultRetention;
  if (!d || typeof d !== "object") throw malformedXml();
  if (typeof d.Mode !== "string" || !MODES.has(d.Mode)) throw malformedXml();
  if ((d.Days === undefined) === (d.Years === undefined)) throw malformedXml();
  const n = Number(d.Days ?? d.Years);
  if (!Number.isInteger(n) || n <= 0) throw new S3Error(400, "InvalidRetentionPeriod", "Default retention period must be a positive integer value.");
  return { rule: { mode: d.Mode as LockMode, ...(d.Days !== undefined ? { days: n } : { years: n }) } };
}

export function putLockConfig(k: Kernel, bucket: string, cfg: BucketLock): void {
  const b = requireBucket(k, bucket);
  if (!b.object_lock && b.versioning !== "Enabled") {
    throw new S3Error(409, "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
  }
  k.sql.exec("UPDATE s3_buckets SET object_lock = ?, versioning = 'Enabled' WHERE name = ?", JSON.stringify(cfg), bucket);
  bucketsChanged(k);
}

export function lockConfigXml(b: BucketRow): XmlNode {
  const cfg = bucketLockOf(b);
  if (!cfg) throw new S3Error(404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket", { BucketName: b.name });
  const r = cfg.rule;
  return { ObjectLockEnabled: "Enabled", Rule: r ? { DefaultRetention: { Mode: r.mode, Days: r.days, Years: r.years } } : undefined };
}

/** The lock a new version gets: the request's `x-amz-object-lock-*` headers, else the bucket's default retention. */
export function lockForWrite(k: Kernel, b: BucketRow, h: Headers): Lock | null {
  const mode = h.get("x-amz-object-lock-mode");
  const until = h.get("x-amz-object-lock-retain-until-date");
  const hold = h.get("x-amz-object-lock-legal-hold");
  const cfg = bucketLockOf(b);
  if (mode === null && until === null && hold === null) {
    const r = cfg?.rule;
    if (!r) return null;
    const now = k.clock.now();
    const end = r.days ? now + r.days * DAY : new Date(now).setUTCFullYear(new Date(now).getUTCFullYear() + r.years!);
    return { mode: r.mode, until: end };
  }
  if (!cfg) throw missingConfig();
  if ((mode === null) !== (until === null)) {
    throw new S3Error(400, "InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied");
  }
  const lock: Lock = {};
  if (mode !== null) {
    if (!MODES.has(mode)) throw new S3Error(400, "InvalidArgument", "Unknown wormMode directive.");
    const t = Date.parse(until!);
    if (Number.isNaN(t)) throw new S3Error(400, "InvalidArgument", "The retain until date must be provided in ISO 8601 format");
    if (t <= k.clock.now()) throw new S3Error(400, "InvalidArgument", "The retain until date must be in the future!");
    Object.assign(lock, { mode: mode as LockMode, until: t });
  }
  if (hold !== null) {
    if (hold !== "ON" && hold !== "OFF") throw new S3Error(400, "InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'");
    lock.legalHold = hold;
  }
  return lock;
}

/** The retention a PutObjectRetention may set over `cur`: shortening or loosening needs a governance bypass, never possible under compliance. */
export function retentionUpdate(k: Kernel, b: BucketRow, cur: Lock, doc: Record<string, unknown>, bypass: boolean): Lock {
  if (!bucketLockOf(b)) throw missingConfig();
  const mode = doc.Mode;
  if (typeof mode !== "string" || !MODES.has(mode)) throw malformedXml();
  const t = typeof doc.RetainUntilDate === "string" ? Date.parse(doc.RetainUntilDate) : NaN;
  if (Number.isNaN(t)) throw malformedXml();
  if (t <= k.clock.now()) throw new S3Error(400, "InvalidArgument", "The retain until date must be in the future!");
  if (cur.mode && cur.until !== undefined && cur.until > k.clock.now()) {
    const loosens = mode !== cur.mode || t < cur.until;
    if (loosens && (cur.mode === "COMPLIANCE" || !bypass)) throw new S3Error(403, "AccessDenied", "Access Denied because object protected by object lock.");
  }
  return { ...cur, mode: mode as LockMode, until: t };
}

export function legalHoldUpdate(b: BucketRow, cur: Lock, doc: Record<string, unknown>): Lock {
  if (!bucketLockOf(b)) throw missingConfig();
  if (doc.Status !== "ON" && doc.Status !== "OFF") throw malformedXml();
  return { ...cur, legalHold: doc.Status };
}

export function retentionXml(b: BucketRow, l: Lock): XmlNode {
  if (!bucketLockOf(b)) throw missingConfig();
  if (!l.mode) throw new S3Error(404, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration");
  return { Mode: l.mode, RetainUntilDate: new Date(l.until!).toISOString() };
}

export function legalHoldXml(b: BucketRow, l: Lock): XmlNode {
  if (!bucketLockOf(b)) throw missingConfig();
  if (!l.legalHold) throw new S3Error(404, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration");
  return { Status: l.legalHold };
}

/** Refuses deleting a locked version: legal hold or compliance always, governance unless bypassed. */
export function checkDeletable(k: Kernel, l: Lock, bypass: boolean): void {
  const retained = l.mode !== undefined && l.until !== undefined && l.until > k.clock.now();
  if (l.legalHold === "ON" || (retained && (l.mode === "COMPLIANCE" || !bypass))) {
    throw new S3Error(403, "AccessDenied", "Access Denied because object protected by object lock.");
  }
}

/** The `x-amz-object-lock-*` headers of a GET/HEAD. */
export function lockHeaders(l: Lock): Record<string, string> {
  const h: Record<string, string> = {};
  if (l.mode) {
    h["x-amz-object-lock-mode"] = l.mode;
    h["x-amz-object-lock-retain-until-date"] = new Date(l.until!).toISOString();
  }
  if (l.legalHold) h["x-amz-object-lock-legal-hold"] = l.legalHold;
  return h;
}
