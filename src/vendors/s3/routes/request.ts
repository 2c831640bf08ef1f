// What every S3 route reads from a decoded request: its target, query, body, verified signature.
import type { Kernel } from "../../../kernel/types.ts";
import { readCapped } from "../../../lib/read-capped.ts";
import { S3Error, invalidArgument, malformedXml, notImplemented } from "../errors.ts";
import { sha256Hex, type Verified } from "../sigv4.ts";
import { urlEncodeKey } from "../http.ts";
import type { Stored, Upload } from "../storage.ts";
import { isChecksum } from "../checksums.ts";

/** One decoded request: where it goes and what it carries. */
export interface S3Req {
  method: string;
  url: URL;
  headers: Headers;
  bucket: string | null;
  key: string | null;
  q: Map<string, string>;
  body: Uint8Array;
  stream: ReadableStream<Uint8Array> | null;
  verified: Verified;
  id: string;
}

const MAX_OBJECT = 5 * 1024 ** 3;

export const owner = (k: Kernel) => ({ ID: sha256Hex(k.world().worldId), DisplayName: "molar" });

export function maxOf(q: Map<string, string>, name: string, cap = 1000): number {
  const v = q.get(name);
  if (v === undefined) return cap;
  const n = Number(v);
  if (v === "" || !Number.isInteger(n) || n < 0) throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, v);
  return Math.min(n, cap);
}

export function encoder(q: Map<string, string>): (s: string) => string {
  const e = q.get("encoding-type");
  if (e === undefined) return (s) => s;
  if (e.toLowerCase() !== "url") throw invalidArgument("Invalid Encoding Method specified in Request", "encoding-type", e);
  return urlEncodeKey;
}

const MAX_DOCUMENT = 1024 * 1024;

/** A streamed body that must be a small document: read whole (capped) and checked against its signed hash. */
export async function smallBody(r: S3Req): Promise<Uint8Array> {
  if (!r.stream) return r.body;
  const body = await readCapped(r.stream, MAX_DOCUMENT);
  if (!body) throw malformedXml();
  if (r.verified.payloadHash.startsWith("STREAMING-")) throw notImplemented("An aws-chunked body on this operation");
  if (/^[0-9a-f]{64}$/.test(r.verified.payloadHash) && sha256Hex(body) !== r.verified.payloadHash) {
    throw new S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return body;
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=...]`, URL-encoded. */
export function copySourceOf(h: Headers): { bucket: string; key: string; versionId?: string } {
  let src = h.get("x-amz-copy-source")!;
  const qi = src.indexOf("?");
  let versionId: string | undefined;
  if (qi >= 0) {
    versionId = new URLSearchParams(src.slice(qi + 1)).get("versionId") ?? undefined;
    src = src.slice(0, qi);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(src);
  } catch {
    decoded = src;
  }
  if (decoded.startsWith("/")) decoded = decoded.slice(1);
  const i = decoded.indexOf("/");
  if (i <= 0 || i === decoded.length - 1) throw invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", "x-amz-copy-source", src);
  return { bucket: decoded.slice(0, i), key: decoded.slice(i + 1), versionId };
}

export function uploadOf(r: S3Req): Upload {
  const h = r.headers;
  const chunked = (h.get("content-encoding") ?? "").split(",").some((s) => s.trim() === "aws-chunked") || r.verified.payloadHash.startsWith("STREAMING-");
  const raw = chunked ? h.get("x-amz-decoded-content-length") : (h.get("content-length") ?? (r.stream ? null : "0"));
  const length = raw === null ? NaN : Number(raw);
  if (!Number.isInteger(length) || length < 0) throw new S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
  if (length > MAX_OBJECT) throw new S3Error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", { ProposedSize: String(length), MaxSizeAllowed: String(MAX_OBJECT) });
  const md5 = h.get("content-md5") ?? undefined;
  if (md5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(md5)) throw new S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
  return { stream: r.stream, length, chunked, verified: r.verified, md5, checksum: checksumOf(h) };
}

/** The flexible checksum a request uses: sent as a header, announced as a trailer, or named only. */
function checksumOf(h: Headers): Upload["checksum"] {
  let named: string | null = null;
  h.forEach((v, name) => {
    if (name.startsWith("x-amz-checksum-") && name !== "x-amz-checksum-mode" && name !== "x-amz-checksum-type" && name !== "x-amz-checksum-algorithm") named = name.slice(15);
  });
  const trailer = h.get("x-amz-trailer");
  const algorithm = named ?? (trailer?.startsWith("x-amz-checksum-") ? trailer.slice(15) : null) ?? h.get("x-amz-sdk-checksum-algorithm")?.toLowerCase() ?? null;
  if (algorithm === null) return undefined;
  if (!isChecksum(algorithm)) throw notImplemented(`The ${algorithm.toUpperCase()} checksum algorithm`);
  return { name: algorithm, value: named ? h.get(`x-amz-checksum-${named}`)! : undefined };
}

/** `x-amz-checksum-<name>` answered for the algorithm the client used. */
export function checksumHeaders(u: Upload, s: Stored): Record<string, string> {
  return u.checksum ? { [`x-amz-checksum-${u.checksum.name}`]: s.checksums[u.checksum.name]! } : {};
}
