// Twilio's two list shapes: API 2010 pages (relative `*_page_uri`, keyset `PageToken`) and the
// newer APIs' `meta` block (absolute `*_page_url` back at the clone).
import type { Kernel } from "../../kernel/types.ts";
import { badRequest, invalidParam } from "./errors.ts";
import type { Form } from "./format.ts";

/** Paging of API 2010: `PageSize` (default 50, at most 1000), `Page`, and a keyset `PageToken`. */
function pageParams(q: Form): { size: number; page: number; after: number | null } {
  const size = q.get("PageSize") === undefined ? 50 : Number(q.get("PageSize"));
  if (!Number.isInteger(size) || size < 1 || size > 1000) throw badRequest(20001, "PageSize must be an integer between 1 and 1000.");
  const page = q.get("Page") === undefined ? 0 : Number(q.get("Page"));
  if (!Number.isInteger(page) || page < 0) throw badRequest(20001, "Page must be a non-negative integer.");
  const token = q.get("PageToken");
  let after: number | null = null;
  if (token !== undefined) {
    const m = /^PA(\d+)$/.exec(token);
    if (!m) throw badRequest(20001, `Invalid PageToken: ${token}`);
    after = Number(m[1]);
  } else if (page > 0) throw badRequest(20001, "A PageToken is required to fetch a page other than the first.");
  return { size, page, after };
}

/** A 2010-style list page, newest first; the next page resumes after the last row's position. */
export function page2010<T extends { seq: number }>(
  base: string,
  key: string,
  q: Form,
  filters: [string, string | undefined][],
  fetch: (after: number | null, limit: number) => T[],
  encode: (row: T) => unknown,
) {
  const { size, page, after } = pageParams(q);
  const rows = fetch(after, size + 1);
  const more = rows.length > size;
  const shown = rows.slice(0, size);
  const qs = (extra: [string, string][]) => {
    const p = new URLSearchParams();
    for (const [k, v] of filters) if (v !== undefined) p.append(k, v);
    for (const [k, v] of extra) p.append(k, v);
    return `${base}?${p.toString()}`;
  };
  const start = page * size;
  const first = qs([["PageSize", String(size)], ["Page", "0"]]);
  return {
    [key]: shown.map(encode),
    end: shown.length ? start + shown.length - 1 : start,
    first_page_uri: first,
    next_page_uri: more ? qs([["PageSize", String(size)], ["Page", String(page + 1)], ["PageToken", `PA${shown[shown.length - 1].seq}`]]) : null,
    page,
    page_size: size,
    previous_page_uri: null,
    start,
    uri: page === 0 ? first : qs([["PageSize", String(size)], ["Page", String(page)], ["PageToken", `PA${after}`]]),
  };
}


/** A newer-API list page (Verify, Messaging v1): ordered by `seq`, `meta` URLs point at the clone. */
export function metaPage<T>(
  k: Kernel,
  path: string,
  key: string,
  q: Form,
  fetch: (limit: number, offset: number) => T[],
  encode: (row: T) => unknown,
) {
  const size = q.get("PageSize") === undefined ? 50 : Number(q.get("PageSize"));
  if (!Number.isInteger(size) || size < 1 || size > 1000) throw invalidParam("PageSize");
  const page = q.get("Page") === undefined ? 0 : Number(q.get("Page"));
  if (!Number.isInteger(page) || page < 0) throw invalidParam("Page");
  const rows = fetch(size + 1, page * size);
  const url = (p: number) => `${k.world().urls.twilio}${path}?PageSize=${size}&Page=${p}`;
  return {
    [key]: rows.slice(0, size).map(encode),
    meta: {
      page,
      page_size: size,
      first_page_url: url(0),
      previous_page_url: page > 0 ? url(page - 1) : null,
      url: url(page),
      next_page_url: rows.length > size ? url(page + 1) : null,
      key,
    },
  };
}
