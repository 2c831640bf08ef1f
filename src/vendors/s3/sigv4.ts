// SigV4 verification, written here rather than with @smithy/signature-v4: vendor handlers are
// synchronous (one SQLite transaction per request) and that signer is promise-based; and S3's
// canonical URI is the path exactly as sent (no normalisation, no double encoding), which is
// simplest to reproduce from the raw request. HMAC/SHA-256 are @noble/hashes (synchronous).
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hex, safeEqual } from "../../lib/crypto.ts";
import { S3Error, signatureMismatch } from "./errors.ts";

const enc = new TextEncoder();
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** What a verified request told about its payload and, for signed chunks, how to check them. */
export interface Verified {
  /** `x-amz-content-sha256` (or UNSIGNED-PAYLOAD): a hex digest the body must match, or a STREAMING-* mode. */
  payloadHash: string;
  presigned: boolean;
  /** For STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the seed signature and what signs each chunk. */
  chunkSigning?: { seed: string; amzDate: string; scope: string; key: Uint8Array };
}

/** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX upper-case. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The query's `[name, value]` pairs as sent (still percent-encoded), in order. */
function rawPairs(search: string): [string, string][] {
  const q = search.startsWith("?") ? search.slice(1) : search;
  if (!q) return [];
  return q.split("&").filter(Boolean).map((p) => {
    const i = p.indexOf("=");
    return i < 0 ? [p, ""] : [p.slice(0, i), p.slice(i + 1)];
  });
}

// Decoding and re-encoding every name and value was a sixth of a presigned GET's signature check;
// most of them are plain text, which both leave as it is.
const decoded = (s: string) => (s.includes("%") ? safeDecode(s) : s);
const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const canonical = (raw: string) => (UNRESERVED.test(raw) ? raw : uriEncode(safeDecode(raw)));

/** The raw query as `[name, value]` pairs, decoded, in order. */
export function queryPairs(search: string): [string, string][] {
  return rawPairs(search).map(([k, v]) => [decoded(k), decoded(v)]);
}

/** SigV4's canonical query string from the pairs as sent, less any named `skip`. */
function canonicalQuery(raw: [string, string][], skip?: string): string {
  const out: [string, string][] = [];
  for (const [k, v] of raw) {
    const name = canonical(k);
    if (name !== skip) out.push([name, canonical(v)]);
  }
  return out
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

const keyCache = new Map<string, Uint8Array>();
export function signingKey(secret: string, date: string, region: string, service: string): Uint8Array {
  const id = `${secret}/${date}/${region}/${service}`;
  let k = keyCache.get(id);
  if (!k) {
    k = hmac(sha256, enc.encode(`AWS4${secret}`), enc.encode(date));
    for (const part of [region, service, "aws4_request"]) k = hmac(sha256, k, enc.encode(part));
    if (keyCache.size > 256) keyCache.clear();
    keyCache.set(id, k);
  }
  return k;
}

/** HMACs keyed by a (cached) signing key, their pads hashed once: a request's MAC clones one. */
const macs = new WeakMap<Uint8Array, ReturnType<typeof hmac.create>>();
export function hmacHex(key: Uint8Array, text: string): string {
  let mac = macs.get(key);
  if (!mac) macs.set(key, (mac = hmac.create(sha256, key)));
  return hex(mac.clone().update(enc.encode(text)).digest());
}
export const sha256Hex = (data: string | Uint8Array) => hex(sha256(typeof data === "string" ? enc.encode(data) : data));

interface Parsed {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
  /** The canonical query string (a presigned URL's signature left out). */
  query: string;
  /** Every pair, decoded, the signature's too. */
  all: [string, string][];
  expires?: number;
}

const malformedHeader = (m: string) => new S3Error(400, "AuthorizationHeaderMalformed", `The authorization header is malformed; ${m}`);
const malformedQuery = (m: string) => new S3Error(400, "AuthorizationQueryParametersError", m);

function parseCredential(cred: string, fail: (m: string) => S3Error) {
  const parts = cred.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request") throw fail("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
  if (parts[3] !== "s3") throw fail(`incorrect service "${parts[3]}". This endpoint belongs to "s3".`);
  return { accessKey: parts[0], date: parts[1], region: parts[2], service: parts[3] };
}

function parse(headers: Headers, search: string): Parsed {
  const raw = rawPairs(search);
  const pairs = raw.map(([k, v]) => [decoded(k), decoded(v)] as [string, string]);
  const auth = headers.get("authorization");
  if (auth) {
    if (!auth.startsWith("AWS4-HMAC-SHA256 ")) {
      throw new S3Error(400, "InvalidArgument", "Unsupported Authorization Type", { ArgumentName: "Authorization", ArgumentValue: auth.split(" ")[0] });
    }
    const fields = new Map(auth.slice(17).split(",").map((f) => {
      const t = f.trim();
      const i = t.indexOf("=");
      return [t.slice(0, i), t.slice(i + 1)] as [string, string];
    }));
    const cred = fields.get("Credential");
    const sh = fields.get("SignedHeaders");
    const sig = fields.get("Signature");
    if (!cred || !sh || !sig) throw malformedHeader("a non-empty Credential, SignedHeaders and Signature are required.");
    const amzDate = headers.get("x-amz-date") ?? "";
    const payloadHash = headers.get("x-amz-content-sha256");
    if (!payloadHash) throw new S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
    return { ...parseCredential(cred, malformedHeader), signedHeaders: sh.split(";"), signature: sig, amzDate, payloadHash, query: canonicalQuery(raw), all: pairs };
  }
  const q = new Map(pairs);
  if (q.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") throw malformedQuery("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  const cred = q.get("X-Amz-Credential");
  const sig = q.get("X-Amz-Signature");
  const sh = q.get("X-Amz-SignedHeaders");
  const amzDate = q.get("X-Amz-Date");
  const expires = Number(q.get("X-Amz-Expires"));
  if (!cred || !sig || !sh || !amzDate) throw malformedQuery("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
  if (!Number.isInteger(expires) || expires < 0) throw malformedQuery("X-Amz-Expires should be a number");
  if (expires > 604800) throw malformedQuery("X-Amz-Expires must be less than a week (in seconds) that is; 604800");
  return {
    ...parseCredential(cred, malformedQuery),
    signedHeaders: sh.split(";"),
    signature: sig,
    amzDate,
    payloadHash: q.get("X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD",
    query: canonicalQuery(raw, "X-Amz-Signature"),
    all: pairs,
    expires,
  };
}

/** `20261123T153000Z` as epoch ms, or NaN. */
function amzDateMs(d: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

/**
 * Verifies a request's SigV4 signature (Authorization header or presigned query) with the run's
 * secret; presigned URLs expire on the run clock (`nowMs`). `methods` lists the methods the
 * signature may have been made for (a HEAD reaches the vendor router as a GET). Answers the
 * query's pairs too, decoded, so the request is parsed once.
 */
export function verifySigV4(req: { methods: string[]; url: URL; headers: Headers }, secret: string, nowMs: number): Verified & { pairs: [string, string][] } {
  const p = parse(req.headers, req.url.search);
  const dateMs = amzDateMs(p.amzDate);
  if (Number.isNaN(dateMs)) throw new S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  if (p.amzDate.slice(0, 8) !== p.date) throw new S3Error(403, "SignatureDoesNotMatch", "The credential date does not match the request date.");
  if (p.expires !== undefined && nowMs > dateMs + p.expires * 1000) {
    throw new S3Error(403, "AccessDenied", "Request has expired", {
      "X-Amz-Expires": String(p.expires),
      Expires: new Date(dateMs + p.expires * 1000).toISOString(),
      ServerTime: new Date(nowMs).toISOString(),
    });
  }
  const signed = [...p.signedHeaders].sort();
  const canonicalHeaders = signed
    .map((h) => {
      let v = req.headers.get(h);
      if (v === null && h === "host") v = req.url.host;
      return `${h}:${(v ?? "").trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const scope = `${p.date}/${p.region}/${p.service}/aws4_request`;
  const key = signingKey(secret, p.date, p.region, p.service);
  const path = req.url.pathname || "/";
  const ok = req.methods.some((method) => {
    const canonical = `${method}\n${path}\n${p.query}\n${canonicalHeaders}\n${p.signedHeaders.join(";")}\n${p.payloadHash}`;
    const toSign = `AWS4-HMAC-SHA256\n${p.amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    return safeEqual(hmacHex(key, toSign), p.signature);
  });
  if (!ok) throw signatureMismatch();
  const chunked = p.payloadHash.startsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  return { payloadHash: p.payloadHash, presigned: p.expires !== undefined, pairs: p.all, chunkSigning: chunked ? { seed: p.signature, amzDate: p.amzDate, scope, key } : undefined };
}

/** The access key id a request presents, from either form. */
export function accessKeyOf(req: Request): string | null {
  const h = req.headers.get("authorization");
  const m = h && /Credential=([^/,\s]+)\//.exec(h);
  if (m) return m[1];
  // Read off the raw URL: parsing it whole cost more than the rest of this on every request.
  const q = /[?&]X-Amz-Credential=([^&#]*)/.exec(req.url);
  if (!q) return null;
  const cred = safeDecode(q[1].replaceAll("+", " "));
  return cred.split("/")[0] || null;
}
