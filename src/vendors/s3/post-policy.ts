// A browser POST upload's authority: the signed policy document (SigV4, or SigV2 as older tools
// send it) and S3's rules for checking the form against it, on the run clock.
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { base64, fromBase64, safeEqual } from "../../lib/crypto.ts";
import { S3Error, signatureMismatch } from "./errors.ts";
import { hmacHex, signingKey } from "./sigv4.ts";

const enc = new TextEncoder();

/** Fields a policy need not cover (S3's own list, plus any `x-ignore-` field). */
const UNCOVERED = new Set(["policy", "x-amz-signature", "signature", "awsaccesskeyid", "file", "bucket"]);

export const policyDenied = (why: string) => new S3Error(403, "AccessDenied", `Invalid according to Policy: ${why}`);
const invalidPolicy = (why: string) => new S3Error(400, "InvalidPolicyDocument", `Invalid Policy: ${why}`);

/** The access key id a form presents (SigV4 `x-amz-credential` or SigV2 `AWSAccessKeyId`). */
export function formAccessKey(fields: Map<string, string>): string | null {
  const cred = fields.get("x-amz-credential");
  if (cred) return cred.split("/")[0] || null;
  return fields.get("awsaccesskeyid") || null;
}

/** Checks the policy's signature with the run's secret; throws S3's error when it does not hold. */
export function verifyPolicySignature(fields: Map<string, string>, creds: { accessKeyId: string; secretAccessKey: string }): void {
  const policy = fields.get("policy")!;
  const algorithm = fields.get("x-amz-algorithm");
  if (algorithm !== undefined || fields.has("x-amz-credential")) {
    if (algorithm !== "AWS4-HMAC-SHA256") throw new S3Error(400, "InvalidArgument", "Unsupported algorithm", { ArgumentName: "x-amz-algorithm", ArgumentValue: algorithm ?? "" });
    const cred = (fields.get("x-amz-credential") ?? "").split("/");
    const sig = fields.get("x-amz-signature");
    if (!sig) throw missingField("X-Amz-Signature");
    if (cred.length !== 5 || cred[4] !== "aws4_request" || !fields.get("x-amz-date")) {
      throw new S3Error(400, "InvalidArgument", "Bucket POST must contain a field named 'x-amz-credential', 'x-amz-date' and 'x-amz-signature'.", { ArgumentName: "x-amz-credential", ArgumentValue: fields.get("x-amz-credential") ?? "" });
    }
    if (!safeEqual(cred[0], creds.accessKeyId)) throw invalidKey();
    if (!safeEqual(hmacHex(signingKey(creds.secretAccessKey, cred[1], cred[2], cred[3]), policy), sig.toLowerCase())) throw signatureMismatch();
    return;
  }
  const key = fields.get("awsaccesskeyid");
  const sig = fields.get("signature");
  if (!key) throw new S3Error(403, "AccessDenied", "Access Denied");
  if (!sig) throw missingField("Signature");
  if (!safeEqual(key, creds.accessKeyId)) throw invalidKey();
  if (!safeEqual(base64(hmac(sha1, enc.encode(creds.secretAccessKey), enc.encode(policy))), sig)) throw signatureMismatch();
}

const missingField = (name: string) =>
  new S3Error(400, "InvalidArgument", `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, { ArgumentName: name, ArgumentValue: "" });
const invalidKey = () => new S3Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");

export interface Policy {
  expiration: number;
  conditions: unknown[];
}

export function decodePolicy(b64: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64(b64.trim())));
  } catch {
    throw invalidPolicy("Invalid JSON.");
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw invalidPolicy("Invalid JSON.");
  const { expiration, conditions } = doc as Record<string, unknown>;
  if (expiration === undefined) throw invalidPolicy("Policy missing expiration.");
  // ISO 8601 in UTC only, as S3 reads it (Date.parse would take other forms too).
  const iso = typeof expiration === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(expiration);
  const at = iso ? Date.parse(expiration as string) : NaN;
  if (Number.isNaN(at)) throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (conditions === undefined) throw invalidPolicy("Policy missing conditions.");
  if (!Array.isArray(conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a List.");
  return { expiration: at, conditions };
}

export interface FormFacts {
  /** Form fields by lower-case name, `key` already with `${filename}` replaced. */
  fields: Map<string, string>;
  bucket: string;
}

/** The bounds of `content-length-range`, when the policy sets them. */
export interface SizeRange {
  min: number;
  max: number;
}

const shown = (c: unknown) => JSON.stringify(c).replace(/,/g, ", ");

/**
 * Checks the form against the policy as S3 does: not expired on the run clock; every condition
 * holds; every field (but the signature's own and `x-ignore-*`) is named by a condition.
 * Answers the content-length-range, checked once the file's size is known.
 */
export function checkPolicy(p: Policy, form: FormFacts, nowMs: number): SizeRange | null {
  if (nowMs > p.expiration) throw policyDenied("Policy expired.");
  const covered = new Set<string>();
  let range: SizeRange | null = null;
  const valueOf = (name: string) => (name === "bucket" ? form.bucket : form.fields.get(name));
  const check = (op: string, field: string, want: string, shownAs: unknown) => {
    const name = field.toLowerCase();
    covered.add(name);
    const have = valueOf(name);
    const ok =
      have !== undefined &&
      (op === "eq" ? have === want : name === "content-type" ? have.split(",").every((v) => v.trim().startsWith(want)) : have.startsWith(want));
    if (!ok) throw policyDenied(`Policy Condition failed: ${shown(shownAs)}`);
  };
  for (const c of p.conditions) {
    if (Array.isArray(c)) {
      const op = String(c[0]).toLowerCase();
      if (op === "content-length-range") {
        const [min, max] = [Number(c[1]), Number(c[2])];
        if (c.length !== 3 || !Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) throw invalidPolicy(`Invalid 'content-length-range' condition: ${shown(c)}`);
        range = { min, max };
        continue;
      }
      if ((op !== "eq" && op !== "starts-with") || c.length !== 3 || typeof c[1] !== "string" || !c[1].startsWith("$") || typeof c[2] !== "string") {
        throw invalidPolicy(`Invalid condition: ${shown(c)}`);
      }
      check(op, c[1].slice(1), c[2], c);
    } else if (c && typeof c === "object") {
      if (Object.keys(c).length !== 1) throw invalidPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.");
      for (const [field, want] of Object.entries(c)) {
        if (typeof want !== "string") throw invalidPolicy(`Invalid simple-condition value: ${shown(want)}`);
        check("eq", field, want, ["eq", `$${field}`, want]);
      }
    } else {
      throw invalidPolicy(`Invalid condition: ${shown(c)}`);
    }
  }
  const extra = [...form.fields.keys()].filter((n) => !UNCOVERED.has(n) && !n.startsWith("x-ignore-") && !covered.has(n));
  if (extra.length) throw policyDenied(`Extra input fields: ${extra.join(", ")}`);
  return range;
}

/** The file's size against the policy's content-length-range: EntityTooLarge / EntityTooSmall as S3 answers. */
export function checkSize(range: SizeRange | null, size: number): void {
  if (!range) return;
  if (size > range.max) throw new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", { ProposedSize: String(size), MaxSizeAllowed: String(range.max) });
  if (size < range.min) throw new S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", { ProposedSize: String(size), MinSizeAllowed: String(range.min) });
}
