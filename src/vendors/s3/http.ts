// What S3 reads from and writes to HTTP headers: system and user metadata, ranges, conditions.
import { S3Error } from "./errors.ts";
import type { Conditions, ObjectRow } from "./objects.ts";

/** System headers stored with an object and answered on GET/HEAD, by their lower-case names. */
export const SYSTEM_HEADERS = ["content-type", "cache-control", "content-disposition", "content-encoding", "content-language", "expires", "x-amz-website-redirect-location", "x-amz-storage-class"];
const DEFAULT_TYPE = "binary/octet-stream";
const META = "x-amz-meta-";
const MAX_METADATA = 2048;

export function systemHeadersOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SYSTEM_HEADERS) {
    let v = h.get(name);
    // aws-chunked is how the body travelled, not how the object is encoded.
    if (name === "content-encoding" && v !== null) v = v.split(",").map((s) => s.trim()).filter((s) => s && s !== "aws-chunked").join(", ") || null;
    if (v !== null) out[name] = v;
  }
  out["content-type"] ??= DEFAULT_TYPE;
  if (out["x-amz-storage-class"] === "STANDARD") delete out["x-amz-storage-class"];
  return out;
}

export function userMetadataOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  let size = 0;
  h.forEach((v, name) => {
    if (!name.startsWith(META)) return;
    const n = name.slice(META.length);
    out[n] = v;
    size += n.length + v.length;
  });
  if (size > MAX_METADATA) throw new S3Error(400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.", { Size: String(size), MaxSizeAllowed: String(MAX_METADATA) });
  return out;
}

export const httpDate = (ms: number) => new Date(ms).toUTCString();
export const isoDate = (ms: number) => new Date(ms).toISOString();

/** The headers of a GET/HEAD answer for an object; `response-*` query overrides apply. */
export function objectHeaders(o: ObjectRow, q: Map<string, string>): Record<string, string> {
  const h: Record<string, string> = {
    etag: o.etag,
    "last-modified": httpDate(o.last_modified),
    "accept-ranges": "bytes",
  };
  Object.assign(h, JSON.parse(o.headers) as Record<string, string>);
  for (const [k, v] of Object.entries(JSON.parse(o.metadata) as Record<string, string>)) h[`${META}${k}`] = v;
  if (o.parts_count) h["x-amz-mp-parts-count"] = String(o.parts_count);
  for (const name of ["content-type", "content-language", "expires", "cache-control", "content-disposition", "content-encoding"]) {
    const v = q.get(`response-${name}`);
    if (v !== undefined) h[name] = v;
  }
  return h;
}

/**
 * A single `bytes=` range against `size`: null when absent or not one well-formed range (S3
 * then serves the whole object), `[start, end]` inclusive, or InvalidRange when unsatisfiable.
 */
export function parseRange(header: string | null, size: number): [number, number] | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) throw invalidRange(size, header);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return null;
  }
  if (start >= size) throw invalidRange(size, header);
  return [start, end];
}

const invalidRange = (size: number, header: string) =>
  new S3Error(416, "InvalidRange", "The requested range is not satisfiable", { RangeRequested: header, ActualObjectSize: String(size) }, { "content-range": `bytes */${size}` });

export const readConditions = (h: Headers, prefix = ""): Conditions => ({
  ifMatch: h.get(`${prefix}if-match`),
  ifNoneMatch: h.get(`${prefix}if-none-match`),
  ifModifiedSince: h.get(`${prefix}if-modified-since`),
  ifUnmodifiedSince: h.get(`${prefix}if-unmodified-since`),
});

/** S3's `encoding-type=url`: keys percent-encoded, `/` kept. */
export const urlEncodeKey = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%2F/g, "/");
