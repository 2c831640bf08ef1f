const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a duration such as `30d`, `1d12h`, `90s` or `250ms` into milliseconds.
 * @example parseDuration("1d12h") // 129600000
 * @returns null when the text is not a duration (so callers answer their own 4xx).
 */
export function parseDuration(text: unknown): number | null {
  if (typeof text !== "string" || text.length === 0 || text.length > 64) return null;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed = re.lastIndex;
  }
  return consumed === text.length && Number.isFinite(total) ? Math.round(total) : null;
}
