// Renewals due at one instant, done in bulk. Subscriptions alike (same prices and quantities, same
// kind of card, plainly active, charged automatically, nothing pending) form a group. The first of
// a group renews through the ordinary code (renewOne) while every row it writes and every id it
// mints is recorded; its rows become templates whose per-subscription parts (ids, the customer's
// fields, the invoice number, the subscription itself) are slots. The rest of the group is then
// written by a handful of INSERT ... SELECT statements over their slot values: the same rows, in
// the same order and with the same ids the ordinary code would have written (ids come from the
// same seeded streams, reserved at once), and their webhook messages queued by one statement per
// chunk. Anything the recording cannot reproduce (chaos, a failed payment, pending invoice items,
// a job besides the next renewal) sends the rest of the group through the ordinary code instead.
import type { Kernel } from "../../kernel/types.ts";
import type { Ids } from "../../kernel/rng.ts";
import type { Jobs } from "../../kernel/jobs.ts";
import { Store, TABLES, type Obj, type ObjectType } from "./store.ts";
import { BULK_SLOTS } from "./schema.ts";
import type { Ctx } from "./wire.ts";

/** Below this many subscriptions due together, each renews through the ordinary code. */
const BULK_MIN = 4;
/** Subscriptions written per statement (their slot values travel as one JSON parameter). */
const CHUNK = 400;
const RENEWALS = "stripe.subscription_renewals";

type Piece = string | { slot: number; raw: boolean };
interface Minted { prefix: string; length: number; value: string }
interface Recording { ctx: Ctx; minted: Minted[]; ops: { op: string; type: ObjectType; id: string }[]; foreign: string[]; enqueued: () => number }

/** A Ctx whose store and kernel record what the ordinary code writes and mints. */
function recorder(k: Kernel): Recording {
  const minted: Minted[] = [];
  const foreign: string[] = [];
  const ids = Object.create(k.ids) as Ids;
  ids.make = (prefix: string, length = 24, alphabet: "b62" | "hex" = "b62") => {
    const value = k.ids.make(prefix, length, alphabet);
    if (alphabet !== "b62") foreign.push(`hex id ${prefix}`);
    minted.push({ prefix, length, value });
    return value;
  };
  const jobs = Object.create(k.jobs) as Jobs;
  jobs.schedule = (kind, type, dueAt, payload, ref) => {
    if (type !== RENEWALS) foreign.push(`job ${type}`);
    return k.jobs.schedule(kind, type, dueAt, payload, ref);
  };
  jobs.reschedule = (type, ref, dueAt) => {
    if (type !== RENEWALS) foreign.push(`job ${type}`);
    return k.jobs.reschedule(type, ref, dueAt);
  };
  jobs.cancel = (type, ref) => {
    foreign.push(`cancel ${type}`);
    return k.jobs.cancel(type, ref);
  };
  // Webhook messages of the prototype's events are counted; clones get theirs from deliveriesOf.
  let enqueued = 0;
  const outbox = new Proxy(k.outbox, {
    get: (t, p) => {
      if (p === "enqueue") enqueued++;
      else foreign.push(`outbox ${String(p)}`);
      const v = Reflect.get(t, p) as unknown;
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  const rk: Kernel = { ...k, ids, jobs, outbox };
  const ops: Recording["ops"] = [];
  class RecordingStore extends Store {
    override insert(type: ObjectType, obj: Obj, internal: unknown = null): Obj {
      ops.push({ op: "insert", type, id: obj.id });
      return super.insert(type, obj, internal);
    }
    override save(type: ObjectType, obj: Obj): Obj {
      ops.push({ op: "save", type, id: obj.id });
      return super.save(type, obj);
    }
    override setInternal(type: ObjectType, id: string, internal: unknown): void {
      ops.push({ op: "setInternal", type, id });
      super.setInternal(type, id, internal);
    }
    override markDeleted(type: ObjectType, id: string, tombstone: Obj): void {
      ops.push({ op: "markDeleted", type, id });
      super.markDeleted(type, id, tombstone);
    }
    override remove(type: ObjectType, id: string): void {
      ops.push({ op: "remove", type, id });
      super.remove(type, id);
    }
  }
  return { ctx: { k: rk, store: new RecordingStore(rk), requestId: null, idempotencyKey: null }, minted, ops, foreign, enqueued: () => enqueued };
}

interface Member {
  sub: Obj;
  customer: string;
  pm: string;
}

/** The per-subscription values a template's slots take, in slot order. */
interface Slots {
  names: string[];
  index: Map<string, number>;
}

interface Template {
  table: string;
  /** Rows this table gets per renewal, and this row's place among them. */
  perRenewal: number;
  r: number;
  id: Piece[];
  data: Piece[];
  internal: Piece[] | null;
}

const CUSTOMER_FIELDS = ["customer_address", "customer_email", "customer_name", "customer_phone", "customer_shipping", "customer_tax_exempt"] as const;
const OPEN = "\u27e6";
const CLOSE = "\u27e7";

/**
 * Renews every subscription due at `at`: alike ones in bulk, the others through `renewOne`.
 * Answers what each renewal did, in the order they were done.
 */
export function renewDue(s: Ctx, at: number, renewOne: (s: Ctx, id: string) => string | undefined): string[] {
  const rows = s.k.sql.exec<{ id: string; data: string; internal: string | null }>("SELECT id, data, internal FROM stripe_subscriptions WHERE renews_at = ? AND deleted = 0 ORDER BY seq", at).toArray();
  const done: string[] = [];
  const one = (id: string) => {
    const what = renewOne(s, id);
    if (what) done.push(what);
  };
  const chaos = s.k.chaos.list().some((r) => r.kind === "stripe" && r.status === null);
  if (rows.length < BULK_MIN || chaos) {
    rows.forEach((r) => one(r.id));
    return done;
  }
  const customers = new Map<string, Obj | null>();
  const customerOf = (id: string) => {
    if (!customers.has(id)) customers.set(id, s.store.find("customer", id));
    return customers.get(id)!;
  };
  const shapes = new Map<string, string | null>();
  const shapeOf = (pmId: string) => {
    if (!shapes.has(pmId)) {
      const pm = s.store.find("payment_method", pmId);
      // Two cards alike but for their ids, owner and creation pay alike.
      const rest = pm ? { ...pm, id: null, customer: null, created: null } : null;
      shapes.set(pmId, rest ? JSON.stringify(rest) + JSON.stringify(s.store.internal("payment_method", pmId)) : null);
    }
    return shapes.get(pmId)!;
  };
  const groups = new Map<string, Member[]>();
  const singles: string[] = [];
  // A renewal of a customer with pending invoice items takes them in: one of a kind.
  const waiting = new Set(s.k.sql.exec<{ c: string }>("SELECT DISTINCT json_extract(data, '$.customer') AS c FROM stripe_invoice_items WHERE deleted = 0 AND json_extract(data, '$.invoice') IS NULL").toArray().map((r) => r.c));
  // So does one whose credit balance or tax ids the invoice takes in: the templates cannot vary them.
  const special = "SELECT id AS c FROM stripe_customers WHERE id IN (SELECT json_extract(data, '$.customer') FROM stripe_subscriptions WHERE renews_at = ? AND deleted = 0) " +
    "AND json_extract(data, '$.balance') != 0 UNION SELECT json_extract(data, '$.customer') FROM stripe_tax_ids WHERE deleted = 0";
  for (const r of s.k.sql.exec<{ c: string }>(special, at).toArray()) waiting.add(r.c);
  for (const r of rows) {
    const sub = JSON.parse(r.data) as Obj;
    const internal = r.internal ? (JSON.parse(r.internal) as { pending?: unknown[] }) : {};
    const items = (sub.items as { data: Obj[] }).data;
    const plain = sub.status === "active" && !sub.cancel_at_period_end && sub.cancel_at === null && !sub.pause_collection && !sub.schedule && sub.collection_method === "charge_automatically" && !internal.pending?.length &&
      !(sub.discounts as unknown[]).length && items.every((i) => Number(i.current_period_end) === at) &&
      !(sub.default_tax_rates as unknown[] | null)?.length && items.every((i) => !(i.tax_rates as unknown[] | null)?.length);
    const customer = plain && !waiting.has(String(sub.customer)) ? customerOf(String(sub.customer)) : null;
    const pm = customer ? ((sub.default_payment_method as string | null) ?? ((customer.invoice_settings as Obj | null)?.default_payment_method as string | null) ?? null) : null;
    const shape = pm ? shapeOf(pm) : null;
    if (!shape) {
      singles.push(r.id);
      continue;
    }
    const key = JSON.stringify([items.map((i) => [(i.price as Obj).id, i.quantity]), shape]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push({ sub, customer: String(sub.customer), pm: pm! });
  }
  singles.forEach(one);
  for (const group of groups.values()) {
    const [proto, ...rest] = group;
    if (rest.length === 0) {
      one(proto.sub.id);
      continue;
    }
    const before = maxSeqs(s);
    const rec = recorder(s.k);
    const what = renewOne(rec.ctx, proto.sub.id);
    if (what) done.push(what);
    // The bulk writes are a nested transaction: should one fail, they are undone and the rest of
    // the group renews one by one, rather than the whole instant's renewals being lost.
    let cloned: string[] | null = null;
    try {
      cloned = s.k.tx(() => {
        const t = templates(s, rec, before, proto, customerOf(proto.customer)!);
        return t ? clone(s, t, rest, rec.minted, at) : null;
      });
    } catch (e) {
      console.error("molar: bulk renewals failed, renewing one by one", e instanceof Error ? e.stack : e);
    }
    if (cloned) done.push(...cloned);
    else rest.forEach((m) => one(m.sub.id));
  }
  return done;
}

function maxSeqs(s: Ctx): Map<string, number> {
  const out = new Map<string, number>();
  for (const table of Object.values(TABLES)) out.set(table, s.k.sql.exec<{ v: number }>(`SELECT COALESCE(MAX(seq), 0) AS v FROM ${table}`).one().v);
  return out;
}

interface Built {
  rows: Template[];
  slots: Slots;
  /** The subscription's new latest_invoice, as pieces. */
  latestInvoice: Piece[];
  end: number;
  items: number;
}

/** The prototype's rows as templates, or null when its renewal cannot be replayed in bulk. */
function templates(s: Ctx, rec: Recording, before: Map<string, number>, proto: Member, customerBefore: Obj): Built | null {
  if (rec.foreign.length) return null;
  const inserted = new Set(rec.ops.filter((o) => o.op === "insert").map((o) => `${o.type}:${o.id}`));
  for (const o of rec.ops) {
    if (o.op === "insert") continue;
    const ok = inserted.has(`${o.type}:${o.id}`) || (o.op === "save" && ((o.type === "subscription" && o.id === proto.sub.id) || (o.type === "customer" && o.id === proto.customer)));
    if (!ok) return null;
  }
  const sub = s.store.find("subscription", proto.sub.id);
  const inv = sub?.latest_invoice ? s.store.find("invoice", String(sub.latest_invoice)) : null;
  if (!sub || sub.status !== "active" || inv?.status !== "paid" || inv.id === proto.sub.latest_invoice) return null;
  // The clones' UPDATEs change a subscription's periods and latest_invoice, a customer's
  // next_invoice_sequence: the prototype's renewal must have changed no more than that.
  const end = Number((sub.items as { data: Obj[] }).data[0].current_period_end);
  const expected = { ...proto.sub, latest_invoice: sub.latest_invoice, items: { ...(proto.sub.items as Obj), data: (proto.sub.items as { data: Obj[] }).data.map((i) => ({ ...i, current_period_start: Number(i.current_period_end), current_period_end: end })) } };
  if (JSON.stringify(expected) !== JSON.stringify(sub)) return null;
  const customerAfter = s.store.find("customer", proto.customer);
  if (JSON.stringify({ ...customerBefore, next_invoice_sequence: customerAfter?.next_invoice_sequence }) !== JSON.stringify(customerAfter)) return null;

  const names: string[] = [];
  const index = new Map<string, number>();
  const slot = (name: string) => {
    let i = index.get(name);
    if (i === undefined) {
      i = names.length;
      names.push(name);
      index.set(name, i);
    }
    return i;
  };
  // Strings that name this renewal's own objects: each becomes a slot wherever it appears.
  const tokens = new Map<string, string>();
  rec.minted.forEach((m, j) => {
    const random = m.value.slice(m.prefix.length);
    if (random.length >= 12) tokens.set(random, `m${j}`);
  });
  if (tokens.size !== rec.minted.length) return null;
  const items = (proto.sub.items as { data: Obj[] }).data;
  tokens.set(proto.sub.id, "sub");
  tokens.set(proto.customer, "cus");
  tokens.set(proto.pm, "pm");
  items.forEach((it, k) => tokens.set(String(it.id), `si${k}`));
  if (proto.sub.latest_invoice) tokens.set(String(proto.sub.latest_invoice), "oldinv");
  if (inv.number) tokens.set(String(inv.number), "num");
  const re = new RegExp([...tokens.keys()].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");

  const mark = (name: string, raw: boolean) => `${OPEN}${raw ? "O" : "S"}:${slot(name)}${CLOSE}`;
  const walk = (v: unknown, invoiceInternal = false): unknown => {
    if (typeof v === "string") return v.replace(re, (t) => mark(tokens.get(t)!, false));
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v === null || typeof v !== "object") return v;
    const o = v as Obj;
    if (o.object === "subscription" && o.id === proto.sub.id) return mark("subjson", true);
    const out: Record<string, unknown> = {};
    for (const [key, x] of Object.entries(o)) {
      if (o.object === "invoice" && (CUSTOMER_FIELDS as readonly string[]).includes(key)) out[key] = mark(`c.${key}`, true);
      else if (!("object" in o) && key === "metadata" && o.subscription === proto.sub.id) out[key] = mark("submeta", true);
      else if (invoiceInternal && key === "seq") out[key] = mark("cseq", true);
      else out[key] = walk(x);
    }
    return out;
  };
  const split = (text: string): Piece[] => {
    const pieces: Piece[] = [];
    const marker = new RegExp(`"${OPEN}O:(\\d+)${CLOSE}"|${OPEN}S:(\\d+)${CLOSE}`, "g");
    let last = 0;
    for (const m of text.matchAll(marker)) {
      pieces.push(text.slice(last, m.index));
      pieces.push({ slot: Number(m[1] ?? m[2]), raw: m[1] !== undefined });
      last = m.index + m[0].length;
    }
    pieces.push(text.slice(last));
    return pieces;
  };

  const rows: Template[] = [];
  for (const table of Object.values(TABLES)) {
    const got = s.k.sql.exec<{ id: string; data: string; internal: string | null; created: number }>(
      `SELECT id, data, internal, created FROM ${table} WHERE seq > ? ORDER BY seq`, before.get(table)!,
    ).toArray();
    got.forEach((row, r) => {
      rows.push({
        table,
        perRenewal: got.length,
        r,
        id: split(String(walk(row.id))),
        data: split(JSON.stringify(walk(JSON.parse(row.data)))),
        internal: row.internal === null ? null : split(JSON.stringify(walk(JSON.parse(row.internal), table === TABLES.invoice))),
      });
    });
  }
  if (rows.some((r) => r.data.some((p) => typeof p === "string" && (p.includes(OPEN) || p.includes(CLOSE))))) return null;
  if (names.length > BULK_SLOTS) return null;
  // The prototype's webhook messages must be exactly those deliveriesOf gives its events.
  const events = rows.filter((t) => t.table === TABLES.event);
  const eventSeqs = { from: before.get(TABLES.event)! + 1, to: before.get(TABLES.event)! + events.length };
  if (s.k.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM (${DELIVERIES})`, eventSeqs.from, eventSeqs.to).one().n !== rec.enqueued()) return null;
  const latestInvoice = split(String(walk(sub.latest_invoice)));
  const built: Built = { rows, slots: { names, index }, latestInvoice, end, items: items.length };
  // The templates must give back the prototype's own rows from its own values.
  const own = valuesOf(s, built, proto, rec.minted.map((m) => m.value.slice(m.prefix.length)), Number(s.store.internal<{ seq: number }>("invoice", inv.id).seq), sub);
  for (const t of rows) {
    const row = s.k.sql.exec<{ data: string; internal: string | null }>(`SELECT data, internal FROM ${t.table} WHERE id = ?`, render(t.id, own)).toArray()[0];
    if (!row || row.data !== render(t.data, own) || row.internal !== (t.internal ? render(t.internal, own) : null)) return null;
  }
  return built;
}

function render(pieces: Piece[], values: string[]): string {
  return pieces.map((p) => (typeof p === "string" ? p : values[p.slot])).join("");
}

/** One renewal's slot values. `subJson` is the subscription after the renewal (its new row). */
function valuesOf(s: Ctx, b: Built, m: Member, minted: string[], seq: number, subAfter: Obj | null, customers = new Map<string, Obj>()): string[] {
  let customer = customers.get(m.customer);
  if (!customer) customers.set(m.customer, (customer = s.store.find("customer", m.customer)!));
  const items = (m.sub.items as { data: Obj[] }).data;
  return b.slots.names.map((name) => {
    if (name.startsWith("m")) return minted[Number(name.slice(1))];
    if (name.startsWith("si")) return String(items[Number(name.slice(2))].id);
    if (name.startsWith("c.")) {
      const f = name.slice(2 + "customer_".length);
      return JSON.stringify(f === "tax_exempt" ? (customer.tax_exempt ?? "none") : (customer[f] ?? null));
    }
    switch (name) {
      case "sub": return m.sub.id;
      case "cus": return m.customer;
      case "pm": return m.pm;
      case "oldinv": return String(m.sub.latest_invoice);
      case "num": return `${customer.invoice_prefix}-${String(seq).padStart(4, "0")}`;
      case "cseq": return String(seq);
      case "submeta": return JSON.stringify(m.sub.metadata);
      case "subjson": return subAfter ? JSON.stringify(subAfter) : "";
    }
    throw new Error(`bulk renewals: unknown slot ${name}`);
  });
}

/**
 * The webhook messages of the events with seq in [?, ?]: one per enabled endpoint subscribed to
 * the event's type, in the order emit() queues them (event by event, endpoints newest first). The
 * body is the event as stored, compact: emit() pretty-prints it, but json_pretty is not allowed
 * in a Durable Object's SQLite.
 */
const DELIVERIES = `SELECT ROW_NUMBER() OVER (ORDER BY e.seq, w.seq DESC) AS ord, 'stripe' AS kind, json_extract(w.data, '$.url') AS url,
  json_extract(e.data, '$.type') AS event, e.id AS event_id, e.data AS body, json_extract(w.internal, '$.secret') AS secret, w.id AS endpoint_id
  FROM stripe_events AS e JOIN stripe_webhook_endpoints AS w ON w.deleted = 0 AND json_extract(w.data, '$.status') = 'enabled'
    AND EXISTS (SELECT 1 FROM json_each(w.data, '$.enabled_events') AS x WHERE x.value = '*' OR x.value = json_extract(e.data, '$.type'))
  WHERE e.seq BETWEEN ? AND ?`;

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** SQL for pieces: literals inline, slots from the renewal's scratch row `v`, the new subscription from `s.data`. */
function sqlOf(pieces: Piece[], b: Built): string {
  const subjson = b.slots.index.get("subjson");
  const parts = pieces.filter((p) => p !== "").map((p) => (typeof p === "string" ? quote(p) : p.slot === subjson ? "s.data" : `v.s${p.slot}`));
  return parts.length > 1 ? `concat(${parts.join(", ")})` : parts.length ? parts[0] : "''";
}

/** Writes the renewals of `rest` from the templates, CHUNK subscriptions per statement. */
function clone(s: Ctx, b: Built, rest: Member[], protoMinted: Minted[], at: number): string[] {
  const sql = s.k.sql;
  // Ids from the very streams the ordinary code draws from, in the order it would draw them.
  const perPrefix = new Map<string, { length: number; count: number }>();
  for (const m of protoMinted) {
    const e = perPrefix.get(m.prefix);
    if (e && e.length !== m.length) throw new Error(`bulk renewals: ids of ${m.prefix} of two lengths`);
    perPrefix.set(m.prefix, { length: m.length, count: (e?.count ?? 0) + 1 });
  }
  const drawn = new Map<string, string[]>();
  for (const [prefix, { length, count }] of perPrefix) drawn.set(prefix, s.k.ids.many(prefix, length, count * rest.length).map((id) => id.slice(prefix.length)));
  const seqs = new Map<string, number>();
  const customers = new Map<string, Obj>();
  const values: string[][] = rest.map((m, i) => {
    const used = new Map<string, number>();
    const minted = protoMinted.map((p) => {
      const q = used.get(p.prefix) ?? 0;
      used.set(p.prefix, q + 1);
      return drawn.get(p.prefix)![i * perPrefix.get(p.prefix)!.count + q];
    });
    let seq = seqs.get(m.customer);
    if (seq === undefined) seq = Number(s.store.find("customer", m.customer)!.next_invoice_sequence ?? 1);
    seqs.set(m.customer, seq + 1);
    return valuesOf(s, b, m, minted, seq, null, customers);
  });
  const subIdx = b.slots.index.get("sub")!;
  const bases = new Map<string, number>();
  for (const t of b.rows) if (!bases.has(t.table)) bases.set(t.table, sql.exec<{ v: number }>(`SELECT COALESCE(MAX(seq), 0) AS v FROM ${t.table}`).one().v);
  const sets = Array.from({ length: b.items }, (_, k) => `'$.items.data[${k}].current_period_start', ${at}, '$.items.data[${k}].current_period_end', ${b.end}`).join(", ");
  const n = b.slots.names.length;
  // Each renewal's values are read out of their JSON once, into the scratch table the templates read.
  const fill = `INSERT INTO stripe_bulk_slots (row, ${Array.from({ length: n }, (_, k) => `s${k}`).join(", ")}) SELECT CAST(v.key AS INTEGER), ` +
    `${Array.from({ length: n }, (_, k) => `json_extract(v.value, '$[${k}]')`).join(", ")} FROM json_each(?) AS v`;
  const updateSubs = `UPDATE stripe_subscriptions AS s SET renews_at = ${b.end}, data = json_set(s.data, ${sets}, '$.latest_invoice', ${sqlOf(b.latestInvoice, b)}) FROM stripe_bulk_slots AS v WHERE s.id = v.s${subIdx}`;
  const inserts = b.rows.map((t) => {
    const join = t.data.some((p) => typeof p !== "string" && p.slot === b.slots.index.get("subjson"));
    return {
      t,
      sql: `INSERT INTO ${t.table} (id, seq, created, deleted, data, internal) SELECT ${sqlOf(t.id, b)}, ? + v.row * ${t.perRenewal} + ${t.r + 1}, ${at}, 0, ${sqlOf(t.data, b)}, ${t.internal ? sqlOf(t.internal, b) : "NULL"} ` +
        `FROM stripe_bulk_slots AS v${join ? ` JOIN stripe_subscriptions AS s ON s.id = v.s${subIdx}` : ""} ORDER BY v.row`,
    };
  });
  for (let from = 0; from < values.length; from += CHUNK) {
    sql.exec(fill, JSON.stringify(values.slice(from, from + CHUNK)));
    sql.exec(updateSubs);
    for (const { t, sql: text } of inserts) sql.exec(text, bases.get(t.table)! + from * t.perRenewal);
    sql.exec("DELETE FROM stripe_bulk_slots");
    const perEvents = b.rows.find((t) => t.table === TABLES.event)?.perRenewal ?? 0;
    const eventsBase = bases.get(TABLES.event) ?? 0;
    const count = Math.min(CHUNK, values.length - from);
    if (perEvents) s.k.outbox.enqueueSelect(DELIVERIES, eventsBase + from * perEvents + 1, eventsBase + (from + count) * perEvents);
  }
  sql.exec(
    "UPDATE stripe_customers AS c SET data = json_set(c.data, '$.next_invoice_sequence', json_extract(v.value, '$[1]')) FROM json_each(?) AS v WHERE c.id = json_extract(v.value, '$[0]')",
    JSON.stringify([...seqs.entries()]),
  );
  const invSlotPieces = b.latestInvoice;
  return rest.map((m, i) => `subscription ${m.sub.id} renewed (in bulk), invoice ${render(invSlotPieces, values[i])} paid`);
}
