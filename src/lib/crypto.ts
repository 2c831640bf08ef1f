import { sha256 } from "@noble/hashes/sha2.js";

const enc = new TextEncoder();

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function hex(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

export function randomHex(bytes: number): string {
  return hex(crypto.getRandomValues(new Uint8Array(bytes)));
}

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Random base62 text for secrets (never from the run's seeded generator: secrets must not replay). */
export function randomBase62(length: number): string {
  const b = crypto.getRandomValues(new Uint8Array(length * 2));
  let s = "";
  for (let i = 0; i < b.length && s.length < length; i++) if (b[i] < 248) s += B62[b[i] % 62];
  return s.length === length ? s : s + randomBase62(length - s.length);
}

export async function sha256Hex(data: string | ArrayBuffer | Uint8Array): Promise<string> {
  const buf = typeof data === "string" ? enc.encode(data) : data;
  return hex(await crypto.subtle.digest("SHA-256", buf));
}

/**
 * SHA-256 without awaiting: vendor handlers run inside one synchronous SQLite transaction
 * (workerd's async transaction costs ~0.4 ms a request), so they cannot await WebCrypto.
 */
export function sha256HexSync(data: string | Uint8Array): string {
  return hex(sha256(typeof data === "string" ? enc.encode(data) : data));
}

/** Constant-time string equality, so credential checks leak no prefix length. */
export function safeEqual(a: string, b: string): boolean {
  const ab = enc.encode(a);
  const bb = enc.encode(b);
  if (ab.length !== bb.length) {
    crypto.subtle.timingSafeEqual(ab, ab);
    return false;
  }
  return crypto.subtle.timingSafeEqual(ab, bb);
}

export function base64(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
