// Tag sets of objects and buckets: S3's limits and its two encodings (the `x-amz-tagging` query
// string header and the `<Tagging><TagSet><Tag>` document).
import { S3Error } from "./errors.ts";
import type { XmlNode } from "./xml.ts";

const invalidTag = (message: string) => new S3Error(400, "InvalidTag", message);

export function validateTags(pairs: [string, string][], max: number): Record<string, string> {
  if (pairs.length > max) throw new S3Error(400, max === 10 ? "BadRequest" : "InvalidTag", `Object tags cannot be greater than ${max}`);
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (k.length === 0 || k.length > 128) throw invalidTag("The TagKey you have provided is invalid");
    if (v.length > 256) throw invalidTag("The TagValue you have provided is invalid");
    if (k in out) throw invalidTag("Cannot provide multiple Tags with the same key");
    if (k.startsWith("aws:")) throw invalidTag("Your TagKey cannot be prefixed with aws:");
    out[k] = v;
  }
  return out;
}

/** `x-amz-tagging: k1=v1&k2=v2` (URL query encoding). */
export function tagsOfHeader(h: string | null): Record<string, string> {
  if (h === null || h === "") return {};
  return validateTags([...new URLSearchParams(h)], 10);
}

/** The `<Tagging>` document of a PUT ?tagging. */
export function tagsOfXml(doc: Record<string, unknown>, max: number): Record<string, string> {
  const set = doc.TagSet as { Tag?: { Key?: unknown; Value?: unknown }[] } | "" | undefined;
  const list = set && typeof set === "object" ? (set.Tag ?? []) : [];
  return validateTags(list.map((t) => [String(t.Key ?? ""), String(t.Value ?? "")]), max);
}

export const tagSetXml = (tags: Record<string, string>): XmlNode => ({ TagSet: { Tag: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } });
