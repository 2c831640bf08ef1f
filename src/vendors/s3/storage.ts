// Object bytes, streamed both ways: uploads are decoded (aws-chunked), hashed and written as they
// arrive; downloads read the stored segments lazily. Small bodies are content-addressed rows of
// `kernel_blobs` (segment key `blob:<sha256>`), carried by snapshots; large ones are
// content-addressed chunks of `kernel_chunks` (`chunk:<worldId>/<sha256>`, see kernel/blobs.ts),
// referenced by snapshots. Either is written once and never rewritten (copies and completed
// multipart uploads reference it). Segments that name an R2 key are bodies stored before chunks.
import type { Kernel } from "../../kernel/types.ts";
import { S3Error, badDigest } from "./errors.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { CHECKSUMS, Digests, type ChecksumName } from "./checksums.ts";
import { hmacHex, EMPTY_SHA256, type Verified } from "./sigv4.ts";
import { base64, hex } from "../../lib/crypto.ts";
import { CHUNK_SIZE, chunkRef } from "../../kernel/blobs.ts";

/** `[storageKey, offset, length]`: a run of stored bytes; the key is `blob:<sha256>`, `chunk:<worldId>/<sha256>` or an R2 key. */
export type Segment = [string, number, number];

export interface Stored {
  segments: Segment[];
  size: number;
  md5: Uint8Array;
  /** Base64 flexible checksums: always CRC32, and the client's own algorithm. */
  checksums: Partial<Record<ChecksumName, string>>;
}

const incomplete = () => new S3Error(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.");

const CRLF = (b: Uint8Array) => {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
};
const latin1 = new TextDecoder("latin1");

/**
 * Decodes `Content-Encoding: aws-chunked`: `<hex size>[;chunk-signature=...]\r\n<data>\r\n`...,
 * a zero chunk, then trailer lines (`x-amz-checksum-crc32:...`) collected into `trailers`. Signed
 * chunks are verified as they end.
 */
async function* dechunk(reader: Reads, trailers: Map<string, string>, sig?: Verified["chunkSigning"]): AsyncGenerator<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  const fill = async (): Promise<boolean> => {
    const { done, value } = await reader.read();
    if (done) return false;
    if (buf.length === 0) buf = value;
    else {
      const n = new Uint8Array(buf.length + value.length);
      n.set(buf);
      n.set(value, buf.length);
      buf = n;
    }
    return true;
  };
  const line = async (eofOk = false): Promise<string | null> => {
    let i: number;
    while ((i = CRLF(buf)) < 0) {
      if (!(await fill())) {
        if (eofOk) return null;
        throw incomplete();
      }
    }
    const s = latin1.decode(buf.subarray(0, i));
    buf = buf.subarray(i + 2);
    return s;
  };
  let prev = sig?.seed ?? "";
  for (;;) {
    const header = (await line())!;
    const [sizeHex, ...ext] = header.split(";");
    const size = parseInt(sizeHex.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new S3Error(400, "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes");
    const chunkSig = ext.find((e) => e.startsWith("chunk-signature="))?.slice(16);
    const hasher = sig ? sha256.create() : null;
    let remaining = size;
    while (remaining > 0) {
      if (buf.length === 0 && !(await fill())) throw incomplete();
      const take = Math.min(remaining, buf.length);
      const piece = buf.subarray(0, take);
      hasher?.update(piece);
      yield piece;
      buf = buf.subarray(take);
      remaining -= take;
    }
    if (sig) {
      const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${sig.amzDate}\n${sig.scope}\n${prev}\n${EMPTY_SHA256}\n${hex(hasher!.digest())}`;
      const want = hmacHex(sig.key, toSign);
      if (chunkSig !== want) throw new S3Error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
      prev = want;
    }
    if (size === 0) break;
    if ((await line()) !== "") throw incomplete();
  }
  for (;;) {
    const t = await line(true);
    if (t === null || t === "") break;
    const i = t.indexOf(":");
    if (i > 0) trailers.set(t.slice(0, i).trim().toLowerCase(), t.slice(i + 1).trim());
  }
}

type Reads = { read(): Promise<ReadableStreamReadResult<Uint8Array>> };

/** Bytes per read from a byte stream: each read costs a turn of the event loop, whatever its size. */
const READ_SIZE = 256 * 1024;

/**
 * A reader that takes a byte stream (a request body) in pieces of up to READ_SIZE with workerd's
 * BYOB `readAtLeast`, rather than the few KiB a default reader yields; other streams as they come.
 */
function largeReads(stream: ReadableStream<Uint8Array>): Reads {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    return stream.getReader();
  }
  return {
    async read() {
      const { done, value } = await byob.readAtLeast(READ_SIZE / 4, new Uint8Array(READ_SIZE));
      if (value && value.byteLength > 0) return { done: false, value };
      return { done: true, value: undefined };
    },
  };
}

async function* plain(reader: Reads): AsyncGenerator<Uint8Array> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

export interface Upload {
  stream: ReadableStream<Uint8Array> | null;
  /** Decoded length: x-amz-decoded-content-length for aws-chunked, else Content-Length. */
  length: number;
  chunked: boolean;
  verified: Verified;
  /** Content-MD5 (base64), when sent. */
  md5?: string;
  /** The flexible checksum the client uses, if any, and its value when sent as a header (else a trailer brings it). */
  checksum?: { name: ChecksumName; value?: string };
}

/** Bodies up to this size are one row of `kernel_blobs` (snapshot bundles carry them); larger ones are chunks. */
export const INLINE_MAX = 64 * 1024;
const BLOB = "blob:";
/** `chunk:<worldId>/<sha256>`: a piece of `kernel_chunks`, written by that world (see Chunks). */
const CHUNK = "chunk:";

function concat(pieces: Uint8Array[], size: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const buf = new Uint8Array(size);
  let at = 0;
  for (const p of pieces) {
    buf.set(p, at);
    at += p.byteLength;
  }
  return buf;
}

/**
 * The body in pieces of exactly CHUNK_SIZE (the last one shorter): fixed boundaries make the same
 * bytes the same chunks whatever the network's framing. A plain body is read straight into
 * chunk-sized buffers; decoded aws-chunked data is copied into them.
 */
async function* chunksOf(u: Upload, trailers: Map<string, string>): AsyncGenerator<Uint8Array> {
  if (!u.stream) return;
  // A small body gets a buffer of its own size, not a whole chunk's.
  const size = Math.min(CHUNK_SIZE, Math.max(1, u.length));
  if (!u.chunked) {
    let byob: ReadableStreamBYOBReader | null = null;
    try {
      byob = u.stream.getReader({ mode: "byob" });
    } catch {
      /* not a byte stream: framed below */
    }
    if (byob) {
      for (;;) {
        const { value } = await byob.readAtLeast(size, new Uint8Array(size));
        if (!value || value.byteLength === 0) return;
        yield value;
      }
    }
  }
  const reader = largeReads(u.stream);
  let buf = new Uint8Array(size);
  let at = 0;
  for await (const piece of u.chunked ? dechunk(reader, trailers, u.verified.chunkSigning) : plain(reader)) {
    for (let off = 0; off < piece.byteLength; ) {
      const n = Math.min(size - at, piece.byteLength - off);
      buf.set(piece.subarray(off, off + n), at);
      at += n;
      off += n;
      if (at === size) {
        yield buf;
        buf = new Uint8Array(size);
        at = 0;
      }
    }
  }
  if (at > 0) yield buf.subarray(0, at);
}

/**
 * Streams an upload into storage, hashing it on the way, and checks every digest: small bodies
 * become a content-addressed row of `kernel_blobs` (snapshots carry them), larger ones
 * content-addressed chunks written as they arrive (snapshots reference them). Nothing of a
 * failed upload stays: chunks only it wrote are deleted.
 */
export async function storeUpload(k: Kernel, u: Upload): Promise<Stored> {
  const hexHash = /^[0-9a-f]{64}$/.test(u.verified.payloadHash);
  const algs = [CHECKSUMS.crc32, ...(u.checksum ? [CHECKSUMS[u.checksum.name]] : []), ...(hexHash ? [CHECKSUMS.sha256] : [])];
  const digests = new Digests(algs);
  const trailers = new Map<string, string>();
  if (u.length > 0 && !u.stream) throw incomplete();
  const owner = {};
  const shas: string[] = [];
  let segments: Segment[] = [];
  let failed = true;
  try {
    const pieces: Uint8Array[] = [];
    for await (const piece of chunksOf(u, trailers)) {
      if (digests.size + piece.byteLength > u.length) throw incomplete();
      await digests.update(piece);
      if (u.length <= INLINE_MAX) pieces.push(piece);
      else {
        const sha = await k.chunks.put(piece, owner);
        shas.push(sha);
        segments.push([chunkRef(k.world().worldId, sha), 0, piece.byteLength]);
      }
    }
    if (digests.size !== u.length) throw incomplete();
    const d = await digests.finish();
    if (hexHash && hex(d.get(CHECKSUMS.sha256)!) !== u.verified.payloadHash) {
      throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", { ClientComputedContentSHA256: u.verified.payloadHash, S3ComputedContentSHA256: hex(d.get(CHECKSUMS.sha256)!) });
    }
    const md5 = d.get("MD5")!;
    if (u.md5 !== undefined && u.md5 !== base64(md5)) throw badDigest("Content-MD5");
    const checksums: Partial<Record<ChecksumName, string>> = { crc32: base64(d.get(CHECKSUMS.crc32)!) };
    if (u.checksum) {
      const name = u.checksum.name;
      const computed = base64(d.get(CHECKSUMS[name])!);
      checksums[name] = computed;
      const sent = trailers.get(`x-amz-checksum-${name}`) ?? u.checksum.value;
      if (sent !== undefined && sent !== computed) throw badDigest(name.toUpperCase());
    }
    if (u.length > 0 && u.length <= INLINE_MAX) {
      const bytes = concat(pieces, u.length);
      const sha = k.tx(() => k.blobs.put(bytes));
      segments = [[`${BLOB}${sha}`, 0, u.length]];
    }
    failed = false;
    return { segments, size: digests.size, md5, checksums };
  } finally {
    k.chunks.settle(owner, shas, failed);
  }
}

/** The bytes of segments that are all `kernel_blobs` rows, read now; null when any is not. */
export function inlineBytes(k: Kernel, segments: Segment[], start: number, end: number): Uint8Array | null {
  const parts = sliceSegments(segments, start, end);
  if (!parts.every(([key]) => key.startsWith(BLOB))) return null;
  const out: Uint8Array[] = [];
  for (const [key, offset, length] of parts) {
    const b = k.blobs.get(key.slice(BLOB.length));
    if (!b) throw new Error(`s3: stored bytes ${key} are gone`);
    out.push(b.subarray(offset, offset + length));
  }
  return concat(out, end - start + 1);
}

/** The segments covering bytes `[start, end]` (inclusive) of `segments`: a range copy references, never copies. */
export function sliceSegments(segments: Segment[], start: number, end: number): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (const [key, off, len] of segments) {
    const segStart = pos;
    pos += len;
    if (pos <= start || segStart > end) continue;
    const from = Math.max(start, segStart) - segStart;
    const to = Math.min(end, pos - 1) - segStart;
    out.push([key, off + from, to - from + 1]);
  }
  return out;
}

/**
 * The bytes `[start, end]` (inclusive) of an object's segments, read only when consumed: rows of
 * `kernel_blobs` and `kernel_chunks`, or R2 objects (bodies stored before chunks existed).
 */
export function readSegments(k: Kernel, segments: Segment[], start: number, end: number): ReadableStream<Uint8Array> {
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (const [key, offset, length] of sliceSegments(segments, start, end)) {
      if (key.startsWith(BLOB) || key.startsWith(CHUNK)) {
        const slash = key.indexOf("/");
        const b = key.startsWith(BLOB) ? k.blobs.get(key.slice(BLOB.length)) : await k.chunks.get(key.slice(CHUNK.length, slash), key.slice(slash + 1));
        if (!b) throw new Error(`s3: stored bytes ${key} are gone`);
        yield b.subarray(offset, offset + length);
        continue;
      }
      const obj = await k.bucket.get(key, { range: { offset, length } });
      if (!obj) throw new Error(`s3: stored bytes ${key} are gone`);
      const r = largeReads(obj.body);
      for (;;) {
        const { done, value } = await r.read();
        if (done) break;
        yield value;
      }
    }
  }
  const it = gen();
  // workerd's `expectedLength` gives the answer its Content-Length; a high-water mark of 0 means
  // R2 is first read when the client reads (a HEAD, served by this GET, never reads).
  return new ReadableStream<Uint8Array>(
    {
      expectedLength: end - start + 1,
      async pull(ctrl) {
        const { done, value } = await it.next();
        if (done) ctrl.close();
        else ctrl.enqueue(value);
      },
      async cancel() {
        await it.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

