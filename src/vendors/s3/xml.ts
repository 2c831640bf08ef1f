// S3's XML codec: fast-xml-parser both ways, S3's namespace on every answer.
import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { malformedXml } from "./errors.ts";

const NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export const xmlEscape = (s: string) => s.replace(/[<>&"'\r]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A node of an answer: scalars become text, arrays repeat the element, undefined is left out. */
export type XmlValue = string | number | boolean | undefined | null | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@", suppressEmptyNode: false, processEntities: false });

function escapeAll(v: XmlValue): XmlValue {
  if (typeof v === "string") return xmlEscape(v);
  if (Array.isArray(v)) return v.map(escapeAll);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, k.startsWith("@") ? x : escapeAll(x)]));
  return v;
}

/**
 * An S3 XML answer body.
 * @example xmlDoc("ListAllMyBucketsResult", { Buckets: { Bucket: [{ Name: "a" }] } })
 */
export function xmlDoc(root: string, body: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: { "@xmlns": NS, ...(escapeAll(body) as XmlNode) } })}`;
}

export function xmlResponse(root: string, body: XmlNode, headers: Record<string, string> = {}, status = 200): Response {
  return new Response(xmlDoc(root, body), { status, headers: { "content-type": "application/xml", ...headers } });
}

/** Elements that repeat in request documents: always arrays, even when one is sent. */
const ARRAYS = new Set(["Object", "Part", "Tag", "CORSRule", "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader"]);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  // Keys may be pure whitespace (" ", "_ "); trimming would delete a different object than the one named.
  trimValues: false,
  isArray: (name) => ARRAYS.has(name),
});

/** A request body's root element, or MalformedXML. */
export function parseXml(bytes: Uint8Array, root: string): Record<string, unknown> {
  const text = new TextDecoder().decode(bytes);
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text, true) as Record<string, unknown>;
  } catch {
    throw malformedXml();
  }
  const node = doc[root];
  if (node === undefined) throw malformedXml();
  // An element with no children parses to its (possibly whitespace-only) text.
  return typeof node === "string" ? {} : (node as Record<string, unknown>);
}
