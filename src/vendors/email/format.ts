// Resend's wire formats: timestamps like "2023-04-03 22:13:42.674+00", addresses like "Name <a@b.c>".
export const resendTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "+00");

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

/** The bare address of `a@b.c` or `Name <a@b.c>`, or null when it is neither. */
export function addressOf(value: string): string | null {
  const v = value.trim();
  const m = /^(?:"?[^"<>]*"?\s*)?<([^<>]+)>$/.exec(v);
  const addr = m ? m[1].trim() : v;
  return EMAIL.test(addr) ? addr : null;
}

export function asList(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  return null;
}

const UNIT: Record<string, number> = { second: 1e3, minute: 6e4, min: 6e4, hour: 36e5, day: 864e5 };

/** Resend accepts ISO 8601 or natural language such as "in 1 min" / "in 2 hours". */
export function parseWhen(v: string, now: number): number | null {
  const m = /^in\s+(\d+)\s*(seconds?|minutes?|mins?|hours?|days?)$/i.exec(v.trim());
  if (m) return now + Number(m[1]) * UNIT[m[2].toLowerCase().replace(/s$/, "")];
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}
