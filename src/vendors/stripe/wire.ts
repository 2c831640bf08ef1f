// Stripe's wire: the Rack-style form codec (qs), typed parameter readers that fail as Stripe does,
// list envelopes and cursors, `expand`, and the request context every domain call receives.
import qs from "qs";
import type { Kernel } from "../../kernel/types.ts";
import { err } from "./errors.ts";
import { storeOf, typeOfId, type ListQuery, type Obj, type Store } from "./store.ts";

/** The API version an account without a pinned one answers with (the SDK's own). */
export const API_VERSION = "2026-10-28.endive";

/** What the domain knows of the request it serves: nothing of HTTP, enough for `event.request`. */
export interface Ctx {
  k: Kernel;
  store: Store;
  requestId: string | null;
  idempotencyKey: string | null;
}

export const ctxOf = (k: Kernel, requestId: string | null = null, idempotencyKey: string | null = null): Ctx => ({ k, store: storeOf(k), requestId, idempotencyKey });

const QS = { depth: 20, arrayLimit: 1000, parameterLimit: 10_000, allowPrototypes: false } as const;

/** Decodes `a[b][0]=1&expand[]=x` into nested objects and arrays, as Rack does. */
export function decodeForm(text: string): Record<string, unknown> {
  return text ? (qs.parse(text, QS) as Record<string, unknown>) : {};
}

type Raw = Record<string, unknown>;

/** A request's parameters, read the way Stripe validates them (names in errors are `a[b]`). */
export class Params {
  constructor(
    readonly raw: Raw,
    readonly prefix = "",
  ) {}

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  /** Refuses any parameter not listed (`expand` is always allowed at the top). */
  allow(...keys: string[]): this {
    for (const key of Object.keys(this.raw)) {
      if (!keys.includes(key) && !(key === "expand" && !this.prefix)) throw err.unknownParam(this.name(key));
    }
    return this;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  /** A string; "" is null (Stripe's way to unset) unless `empty` is kept. */
  str(key: string, opts: { required?: boolean; keepEmpty?: boolean } = {}): string | null | undefined {
    const v = this.raw[key];
    if (v === undefined) {
      if (opts.required) throw err.missingParam(this.name(key));
      return undefined;
    }
    if (typeof v !== "string") throw err.invalidString(this.name(key));
    if (v === "" && !opts.keepEmpty) {
      if (opts.required) throw err.missingParam(this.name(key));
      return null;
    }
    return v;
  }

  reqStr(key: string): string {
    return this.str(key, { required: true }) as string;
  }

  int(key: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === "") {
      if (opts.required) throw err.missingParam(this.name(key));
      return undefined;
    }
    if (typeof v !== "string" || !/^-?\d+$/.test(v)) throw err.invalidInteger(this.name(key), v);
    const n = Number(v);
    if (opts.min !== undefined && n < opts.min) {
      throw err.invalid(`This value must be greater than or equal to ${opts.min}.`, { code: "parameter_invalid_integer", param: this.name(key) });
    }
    if (opts.max !== undefined && n > opts.max) {
      throw err.invalid(`This value must be less than or equal to ${opts.max}.`, { code: "parameter_invalid_integer", param: this.name(key) });
    }
    return n;
  }

  bool(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined || v === "") return undefined;
    if (v === "true") return true;
    if (v === "false") return false;
    throw err.invalidBoolean(this.name(key), v);
  }

  oneOf<T extends string>(key: string, values: readonly T[], opts: { required?: boolean } = {}): T | undefined {
    const v = this.str(key, opts);
    if (v === undefined || v === null) return undefined;
    if (!values.includes(v as T)) throw err.invalidEnum(this.name(key), [...values]);
    return v as T;
  }

  /** A nested hash; "" unsets it (null). */
  obj(key: string, opts: { required?: boolean } = {}): Params | null | undefined {
    const v = this.raw[key];
    if (v === undefined) {
      if (opts.required) throw err.missingParam(this.name(key));
      return undefined;
    }
    if (v === "") return null;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw err.invalidObject(this.name(key));
    return new Params(v as Raw, this.name(key));
  }

  /** An array of hashes (`lines[0][type]=...`), each read as its own Params named `key[i]`. */
  list(key: string): Params[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === "") return v === "" ? [] : undefined;
    const items = Array.isArray(v) ? v : typeof v === "object" && v !== null ? Object.values(v) : null;
    if (!items || !items.every((x) => typeof x === "object" && x !== null && !Array.isArray(x))) throw err.invalidArray(this.name(key));
    return items.map((x, i) => new Params(x as Raw, `${this.name(key)}[${i}]`));
  }

  strings(key: string): string[] | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (v === "") return [];
    const list = Array.isArray(v) ? v : typeof v === "object" && v !== null ? Object.values(v) : null;
    if (!list || !list.every((x) => typeof x === "string")) throw err.invalidArray(this.name(key));
    return list as string[];
  }
}

/** Stripe's metadata update: keys merge, "" unsets a key, `metadata=""` unsets them all. */
export function metadata(p: Params, prev: Record<string, string> = {}): Record<string, string> {
  const v = p.raw.metadata;
  if (v === undefined) return prev;
  if (v === "") return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw err.invalidObject("metadata");
  const out = { ...prev };
  for (const [key, value] of Object.entries(v as Raw)) {
    if (typeof value !== "string") throw err.invalidString(`metadata[${key}]`);
    if (key.length > 40) throw err.invalid(`Metadata keys must be at most 40 characters long, but key '${key}' has ${key.length} characters.`, { param: `metadata[${key}]` });
    if (value.length > 500) throw err.invalid(`Metadata values can have up to 500 characters, but you passed in a value that is ${value.length} characters.`, { param: `metadata[${key}]` });
    if (value === "") delete out[key];
    else out[key] = value;
  }
  if (Object.keys(out).length > 50) throw err.invalid("You can have at most 50 keys in metadata.", { param: "metadata" });
  return out;
}

/** `limit` (1..100, default 10), `starting_after`, `ending_before` and `created` filters. */
export function listQuery(p: Params): ListQuery {
  const limit = p.int("limit", { min: 1, max: 100 }) ?? 10;
  const startingAfter = p.str("starting_after") ?? undefined;
  const endingBefore = p.str("ending_before") ?? undefined;
  let created: Record<string, number> | undefined;
  const c = p.raw.created;
  if (typeof c === "string") created = { "=": p.int("created")! };
  else if (c !== undefined) {
    const o = p.obj("created")!;
    o.allow("gt", "gte", "lt", "lte");
    created = {};
    for (const [op, sym] of [["gt", ">"], ["gte", ">="], ["lt", "<"], ["lte", "<="]] as const) {
      const n = o.int(op);
      if (n !== undefined) created[sym] = n;
    }
  }
  return { limit, startingAfter, endingBefore, created };
}

export const LIST_PARAMS = ["limit", "starting_after", "ending_before", "created"];

/**
 * One page of a list held inside another object (an invoice's lines, a session's items, a
 * subscription's items): in the list's own order, cursors being the items' ids, as the SDK's
 * auto-pagination sends them; an unknown cursor is Stripe's 404 for the `noun`.
 */
export function pageOf<T extends { id: unknown }>(all: T[], q: ListQuery, url: string, noun: string) {
  const cursor = q.startingAfter ?? q.endingBefore;
  const at = cursor === undefined ? -1 : all.findIndex((i) => i.id === cursor);
  if (cursor !== undefined && at < 0) throw err.missing(noun, cursor, q.startingAfter ? "starting_after" : "ending_before");
  if (q.endingBefore) {
    const from = Math.max(0, at - q.limit);
    return { object: "list", data: all.slice(from, at), has_more: from > 0, url };
  }
  return { object: "list", data: all.slice(at + 1, at + 1 + q.limit), has_more: all.length > at + 1 + q.limit, url };
}

export function listJson(url: string, page: { data: Obj[]; has_more: boolean }) {
  return { object: "list", data: page.data, has_more: page.has_more, url };
}

// ---- expand --------------------------------------------------------------------------------

/** Properties Stripe leaves out unless expanded (`charge.refunds` since 2022-11-15). */
type Includable = (s: Ctx, o: Obj) => unknown;
const INCLUDABLE: Record<string, Record<string, Includable>> = {
  charge: {
    refunds: (s, o) => listJson(`/v1/charges/${o.id}/refunds`, s.store.list("refund", { limit: 100 }, { charge: o.id })),
  },
  customer: {
    tax_ids: (s, o) => listJson(`/v1/customers/${o.id}/tax_ids`, s.store.list("tax_id", { limit: 100 }, { customer: o.id })),
  },
};

/** Applies `expand[]` paths (`customer`, `latest_charge.payment_method`, on lists `data.customer`). */
export function expand(s: Ctx, obj: unknown, paths: string[]): unknown {
  for (const path of paths) {
    const parts = path.split(".");
    if (parts.length > 4) throw err.invalid(`You cannot expand more than 4 levels of a property. Property: ${path}`, { param: "expand" });
    expandAt(s, obj, parts, path);
  }
  return obj;
}

function expandAt(s: Ctx, holder: unknown, parts: string[], full: string): void {
  if (holder === null || typeof holder !== "object") return;
  if (Array.isArray(holder)) {
    for (const x of holder) expandAt(s, x, parts, full);
    return;
  }
  const o = holder as Obj;
  const [head, ...rest] = parts;
  let v = o[head];
  const include = INCLUDABLE[String(o.object)]?.[head];
  if (include && (v === undefined || typeof v === "string")) v = o[head] = include(s, o);
  else if (typeof v === "string") {
    const type = typeOfId(v);
    if (!type) throw err.invalid(`This property cannot be expanded (${full}).`, { param: "expand" });
    v = o[head] = s.store.find(type, v, true) ?? v;
  } else if (v === undefined) {
    throw err.invalid(`This property cannot be expanded (${full}).`, { param: "expand" });
  }
  if (rest.length) expandAt(s, v, rest, full);
}

/** The `expand` parameter as a list of paths. */
export function expandPaths(raw: Raw): string[] {
  const v = raw.expand;
  if (v === undefined || v === "") return [];
  if (typeof v === "string") return [v];
  const list = Array.isArray(v) ? v : typeof v === "object" && v !== null ? Object.values(v) : [];
  if (!list.every((x) => typeof x === "string")) throw err.invalidArray("expand");
  return list as string[];
}

// ---- search --------------------------------------------------------------------------------

interface Clause {
  negate: boolean;
  field: string;
  meta: string | null;
  op: ":" | "~" | ">" | "<" | ">=" | "<=";
  value: string | number | null;
}

const CLAUSE = /^(-?)(?:metadata\[(?:'([^']*)'|"([^"]*)")\]|([a-z_]+(?:\.[a-z_]+)*))(:|~|>=|<=|>|<)(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)|(null))/;

/** Parses Stripe's search query language: clauses joined by AND or by OR (not both). */
export function parseSearch(query: string, resource: string, fields: string[]): { clauses: Clause[]; any: boolean } {
  const bad = (why: string) =>
    err.invalid(`Search query is invalid: ${why}. See https://stripe.com/docs/search#search-query-language for the query language.`, { param: "query" });
  let rest = query.trim();
  const clauses: Clause[] = [];
  const joins = new Set<string>();
  while (rest.length) {
    const m = CLAUSE.exec(rest);
    if (!m) throw bad(`unexpected input at \`${rest.slice(0, 20)}\``);
    const meta = m[2] ?? m[3] ?? null;
    const field = meta !== null ? "metadata" : m[4];
    if (meta === null && !fields.includes(field)) {
      throw err.invalid(`Field \`${field}\` is an unsupported search field for resource \`${resource}\`. See https://stripe.com/docs/search#query-fields-for-${resource.replaceAll("_", "-")} for a list of supported fields.`, { param: "query" });
    }
    const raw = m[6] ?? m[7];
    const value = raw !== undefined ? raw.replace(/\\(.)/g, "$1") : m[8] !== undefined ? Number(m[8]) : null;
    clauses.push({ negate: m[1] === "-", field, meta, op: m[5] as Clause["op"], value });
    rest = rest.slice(m[0].length);
    const j = /^\s+(AND|OR)\s+/.exec(rest);
    if (j) {
      joins.add(j[1]);
      rest = rest.slice(j[0].length);
    } else if (rest.trim().length) throw bad(`expected AND or OR at \`${rest.trim().slice(0, 20)}\``);
    else rest = "";
  }
  if (clauses.length === 0) throw bad("the query is empty");
  if (joins.size > 1) throw bad("AND and OR cannot be combined in one query");
  if (clauses.length > 10) throw bad("a query holds at most 10 clauses");
  return { clauses, any: joins.has("OR") };
}

function matches(o: Obj, c: Clause): boolean {
  let v: unknown = c.meta !== null ? (o.metadata as Record<string, string> | undefined)?.[c.meta] : c.field.split(".").reduce<unknown>((x, f) => (x as Raw | null)?.[f], o);
  if (v !== null && typeof v === "object") v = (v as Obj).id;
  let ok: boolean;
  switch (c.op) {
    case ":":
      ok = c.value === null ? v === null || v === undefined : typeof v === "string" && typeof c.value === "string" ? v.toLowerCase() === c.value.toLowerCase() : v === c.value || String(v) === String(c.value);
      break;
    case "~":
      ok = typeof v === "string" && v.toLowerCase().includes(String(c.value).toLowerCase());
      break;
    default: {
      const a = Number(v);
      const b = Number(c.value);
      ok = c.op === ">" ? a > b : c.op === "<" ? a < b : c.op === ">=" ? a >= b : a <= b;
    }
  }
  return c.negate ? !ok : ok;
}

/** A search page: `{ object: "search_result", data, has_more, next_page, url }`. */
export function search(s: Ctx, p: Params, type: Parameters<Store["all"]>[0], resource: string, fields: string[]) {
  p.allow("query", "limit", "page");
  const { clauses, any } = parseSearch(p.reqStr("query"), resource, fields);
  const limit = p.int("limit", { min: 1, max: 100 }) ?? 10;
  const page = p.str("page");
  let offset = 0;
  if (page) {
    const m = /^page_(\d+)$/.exec(page);
    if (!m) throw err.invalid(`Invalid page: ${page}`, { param: "page" });
    offset = Number(m[1]);
  }
  const hits = s.store.all(type).filter((o) => (any ? clauses.some((c) => matches(o, c)) : clauses.every((c) => matches(o, c))));
  const data = hits.slice(offset, offset + limit);
  const has_more = hits.length > offset + limit;
  return { object: "search_result", data, has_more, next_page: has_more ? `page_${offset + limit}` : null, url: `/v1/${resource}/search` };
}
