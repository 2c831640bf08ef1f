// The multipart/form-data body of a browser POST upload, read the way S3 reads it: the fields
// before the file part are small (S3 caps them) and parsed whole; the file's bytes stream on and
// are never held whole. Hand-written because the multipart libraries that run in workerd buffer
// every part, the file included, before they hand it over.
import { S3Error } from "./errors.ts";

/** What precedes the file part: S3 refuses more than this (MaxPostPreDataLengthExceeded). */
export const PRE_DATA_MAX = 20 * 1024;

export interface FormHead {
  /** Fields before the file, by lower-case name (S3 matches field names case-insensitively). */
  fields: Map<string, string>;
  /** The file part's filename and Content-Type; null when the form has no file part. */
  file: { filename: string; contentType: string | null } | null;
  /** Every byte read so far: the fields, the file part's headers and perhaps the file's first bytes. */
  buffered: Uint8Array;
  /** Where the file's bytes start in `buffered`. */
  dataStart: number;
}

const enc = new TextEncoder();
const utf8 = new TextDecoder();

export const malformedPost = (detail = "The body of your POST request is not well-formed multipart/form-data.") => new S3Error(400, "MalformedPOSTRequest", detail);

/** The boundary of a `multipart/form-data` Content-Type, or null when it is not one. */
export function boundaryOf(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

/** First index of `needle` in `hay` at or after `from`, or -1 (a native scan for its first byte). */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `name="..."` and `filename="..."` of a part's Content-Disposition. */
function disposition(headers: string): { name: string | null; filename: string | null; contentType: string | null } {
  let name: string | null = null;
  let filename: string | null = null;
  let contentType: string | null = null;
  for (const line of headers.split("\r\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const h = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    if (h === "content-type") contentType = v;
    if (h !== "content-disposition") continue;
    const param = (p: string) => {
      const m = new RegExp(`;\\s*${p}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(v) ?? new RegExp(`;\\s*${p}=([^;]*)`, "i").exec(v);
      return m ? m[1].trim().replace(/\\(.)/g, "$1") : null;
    };
    name = param("name");
    filename = param("filename");
  }
  return { name, filename, contentType };
}

/**
 * Parses `buf` up to the file part's data: null when more bytes are needed. Throws
 * MalformedPOSTRequest on a body that is not multipart/form-data with this boundary.
 */
function parseHead(buf: Uint8Array, boundary: string, final: boolean): Omit<FormHead, "buffered"> | null {
  const dash = enc.encode(`--${boundary}`);
  const delimiter = enc.encode(`\r\n--${boundary}`);
  const fields = new Map<string, string>();
  let at = indexOfBytes(buf, dash);
  if (at < 0) {
    if (final) throw malformedPost();
    return null;
  }
  at += dash.length;
  for (;;) {
    if (buf.length < at + 2) {
      if (final) throw malformedPost();
      return null;
    }
    if (buf[at] === 45 && buf[at + 1] === 45) return { fields, file: null, dataStart: -1 };
    const headEnd = indexOfBytes(buf, enc.encode("\r\n\r\n"), at);
    if (headEnd < 0) {
      if (final) throw malformedPost();
      return null;
    }
    const d = disposition(utf8.decode(buf.subarray(at + 2, headEnd + 2)));
    if (d.name === null) throw malformedPost();
    const start = headEnd + 4;
    if (d.name.toLowerCase() === "file") {
      return { fields, file: { filename: d.filename ?? "", contentType: d.contentType }, dataStart: start };
    }
    const end = indexOfBytes(buf, delimiter, start);
    if (end < 0) {
      if (final) throw malformedPost();
      return null;
    }
    const name = d.name.toLowerCase();
    // S3 refuses a field given twice rather than pick one.
    if (fields.has(name)) throw new S3Error(400, "InvalidArgument", `Conflicting query string parameters: ${name}`, { ArgumentName: "ResourceType", ArgumentValue: name });
    fields.set(name, utf8.decode(buf.subarray(start, end)));
    at = end + delimiter.length;
  }
}

/**
 * Reads a form's fields, up to the start of its file part, from `reader`; the bytes read stay in
 * `buffered`, so a caller can hand the body on whole. Fields past PRE_DATA_MAX are refused.
 */
export async function readFormHead(reader: ReadableStreamDefaultReader<Uint8Array>, boundary: string): Promise<FormHead> {
  let buf: Uint8Array = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (!done) buf = concat(buf, value);
    const head = parseHead(buf, boundary, done);
    if (head) {
      if (head.dataStart > PRE_DATA_MAX) throw preDataTooLarge();
      return { ...head, buffered: buf };
    }
    if (buf.length > PRE_DATA_MAX + 64 * 1024) throw preDataTooLarge();
  }
}

const preDataTooLarge = () => new S3Error(400, "MaxPostPreDataLengthExceeded", "Your POST request fields preceding the upload file were too large.", { MaxPostPreDataLength: String(PRE_DATA_MAX) });

/**
 * The file's bytes from `head.dataStart` to the closing delimiter, as they arrive. A tail that could
 * be the start of the delimiter is held back until the next chunk decides; bytes after the
 * delimiter (fields after the file, which S3 ignores) are read and dropped.
 */
export async function* fileData(head: FormHead, reader: ReadableStreamDefaultReader<Uint8Array>, boundary: string): AsyncGenerator<Uint8Array> {
  const delimiter = enc.encode(`\r\n--${boundary}`);
  let pending = head.buffered.subarray(head.dataStart);
  let ended = false;
  for (;;) {
    const i = indexOfBytes(pending, delimiter);
    if (i >= 0) {
      if (i > 0) yield pending.subarray(0, i);
      break;
    }
    // Keep what could be a delimiter cut in two; everything before it is file data.
    const keep = Math.min(pending.length, delimiter.length - 1);
    if (pending.length > keep) yield pending.subarray(0, pending.length - keep);
    pending = pending.subarray(pending.length - keep);
    if (ended) throw malformedPost();
    const { done, value } = await reader.read();
    if (done) ended = true;
    else pending = concat(pending, value);
  }
  for (;;) {
    const { done } = await reader.read();
    if (done) return;
  }
}
