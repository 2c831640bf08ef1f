// Twilio's wire formats: form bodies (PascalCase keys, repeated keys for lists), RFC 2822 dates in
// API 2010, ISO 8601 dates in the newer APIs, E.164 numbers, and the X-Twilio-Signature scheme.
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { base64 } from "../../lib/crypto.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A decoded form body or query: `get` the first value, `all` every value of a repeated key. */
export class Form {
  private readonly p: URLSearchParams;
  constructor(init: string | URLSearchParams) {
    this.p = typeof init === "string" ? new URLSearchParams(init) : init;
  }
  static of(body: Uint8Array): Form {
    return new Form(decoder.decode(body));
  }
  get(name: string): string | undefined {
    return this.p.get(name) ?? undefined;
  }
  all(name: string): string[] {
    return this.p.getAll(name);
  }
  has(name: string): boolean {
    return this.p.has(name);
  }
}

/** API 2010 timestamps: "Thu, 30 Jul 2015 20:12:31 +0000". */
export const rfc2822 = (ms: number | null) => (ms === null ? null : new Date(ms).toUTCString().replace("GMT", "+0000"));
/** Verify/Lookup timestamps: "2015-07-30T20:12:31Z". */
export const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/**
 * The E.164 form of what an app passed as a phone number, or null. Twilio accepts punctuation
 * and, for North America, ten digits without the country code.
 */
export function e164(v: string | undefined): string | null {
  if (v === undefined) return null;
  const s = v.trim().replace(/[\s().-]/g, "");
  if (/^\+[1-9]\d{6,14}$/.test(s)) return s;
  if (/^[2-9]\d{9}$/.test(s)) return `+1${s}`;
  if (/^1[2-9]\d{9}$/.test(s)) return `+${s}`;
  return null;
}

/** An alphanumeric sender id: 1-11 characters, letters, digits and spaces, at least one letter. */
export const isAlphanumericSender = (v: string) => /^[A-Za-z0-9 ]{1,11}$/.test(v) && /[A-Za-z]/.test(v);

// The GSM 03.38 basic set and its extension (extension characters cost two septets).
const GSM = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXT = new Set("^{}\\[~]|€\f");

/** Segments a body takes: GSM-7 160/153 septets, else UCS-2 70/67 code units. */
export function segments(body: string): number {
  if (body.length === 0) return 1;
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM.has(ch)) septets += 1;
    else if (GSM_EXT.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  return body.length <= 70 ? 1 : Math.ceil(body.length / 67);
}

/** Params as Twilio signs them: sorted keys, each key followed by its value (repeated keys: sorted, distinct values). */
function signedData(url: string, params: URLSearchParams): string {
  const keys = [...new Set(params.keys())].sort();
  let data = url;
  for (const k of keys) for (const v of [...new Set(params.getAll(k))].sort()) data += k + v;
  return data;
}

/**
 * X-Twilio-Signature: base64(HMAC-SHA1(authToken, url + sorted params)), as `twilio.validateRequest`
 * checks it. Synchronous (@noble/hashes): a clock step signs thousands of callbacks, and WebCrypto's
 * promise per signature cost more than the hash itself.
 */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams): string {
  let keyed = keyedBy.get(authToken);
  if (!keyed) {
    // One token signs every callback of a run: key the HMAC once, clone it per signature.
    keyed = hmac.create(sha1, encoder.encode(authToken));
    if (keyedBy.size >= 64) keyedBy.clear();
    keyedBy.set(authToken, keyed);
  }
  return base64(keyed.clone().update(encoder.encode(signedData(url, params))).digest());
}
const keyedBy = new Map<string, ReturnType<typeof hmac.create>>();

/** A form body from pairs, skipping absent values. */
export function formBody(pairs: [string, string | number | null | undefined][]): string {
  const p = new URLSearchParams();
  for (const [k, v] of pairs) if (v !== null && v !== undefined) p.append(k, String(v));
  return p.toString();
}

export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
