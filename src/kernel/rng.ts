import type { Meta } from "./meta.ts";

// A counter-based generator: value n of stream s is a pure function of (seed, s, n). The counters
// live in kernel_meta, so a world replays the same ids and chaos draws for the same seed and the
// same sequence of requests, and a restored snapshot continues where it was taken.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string, salt: number): number {
  let h = 0x811c9dc5 ^ salt;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix(h);
}

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export class Rng {
  private readonly seed: number[];

  constructor(private readonly meta: Meta, seed: string) {
    this.seed = [0, 1, 2, 3].map((i) => hashString(seed, i * 0x9e3779b9));
  }

  // An id is 24 words of one stream: its hash is kept rather than recomputed for each.
  private lastStream = "";
  private lastHash = hashString("", 0x5bd1e995);

  /** The i-th 32-bit word of draw `n` of `stream`. */
  word(stream: string, n: number, i: number): number {
    if (stream !== this.lastStream) {
      this.lastStream = stream;
      this.lastHash = hashString(stream, 0x5bd1e995);
    }
    const s = this.lastHash;
    return fmix(this.seed[i & 3] ^ fmix((s + Math.imul(n, 0x9e3779b1) + Math.imul(i + 1, 0x632be5ab)) >>> 0));
  }

  /** Advances the stream by `by` draws; answers the last one's number. */
  next(stream: string, by = 1): number {
    return this.meta.incr(`rng.${stream}`, by);
  }

  /** Reserves `count` draws of `stream` at once; answers the first (the rest follow it). */
  reserve(stream: string, count: number): number {
    return this.meta.incr(`rng.${stream}`, count) - count + 1;
  }

  /** A float in [0, 1) from the stream, advancing it. */
  float(stream: string): number {
    return this.word(stream, this.next(stream), 0) / 0x1_0000_0000;
  }
}

export class Ids {
  constructor(private readonly rng: Rng) {}

  /**
   * A vendor-shaped id, deterministic for the run's seed: `cus_` + 14 base62 chars, `SM` + 32 hex...
   * @example ids.make("cus_", 14)
   */
  make(prefix: string, length = 24, alphabet: "b62" | "hex" = "b62"): string {
    const n = this.rng.next(`id.${prefix}`);
    let s = prefix;
    for (let i = 0; i < length; i++) {
      const w = this.rng.word(`id.${prefix}`, n, i);
      s += alphabet === "hex" ? (w & 15).toString(16) : B62[w % 62];
    }
    return s;
  }

  /** `count` ids of `make`'s form, the same ones `count` calls would give, for one counter write. */
  makeMany(prefix: string, count: number, length = 24, alphabet: "b62" | "hex" = "b62"): string[] {
    if (count <= 0) return [];
    const last = this.rng.next(`id.${prefix}`, count);
    const out: string[] = [];
    for (let n = last - count + 1; n <= last; n++) {
      let s = prefix;
      for (let i = 0; i < length; i++) {
        const w = this.rng.word(`id.${prefix}`, n, i);
        s += alphabet === "hex" ? (w & 15).toString(16) : B62[w % 62];
      }
      out.push(s);
    }
    return out;
  }

  /** `makeMany` with `make`'s argument order, for bulk work written against it. */
  many(prefix: string, length: number, count: number): string[] {
    return this.makeMany(prefix, count, length);
  }

  /** A UUID v4-shaped id (Resend, Svix message ids), deterministic like `make`. */
  uuid(stream = "uuid"): string {
    const h = this.make(`${stream}:`, 32, "hex").slice(stream.length + 1);
    const v = ((parseInt(h[16], 16) & 3) | 8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${v}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
