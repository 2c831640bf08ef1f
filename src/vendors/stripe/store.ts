// The object store of the Stripe clone: every resource is a row of its table with the Stripe-shaped
// JSON beside the columns lists need. Lists page newest first on `seq`, as Stripe's cursors do.
import type { Kernel } from "../../kernel/types.ts";
import { err } from "./errors.ts";

export type Obj = Record<string, unknown> & { id: string };

/** Resource tables, by the `object` name Stripe gives their rows. */
export const TABLES = {
  customer: "stripe_customers",
  payment_method: "stripe_payment_methods",
  payment_intent: "stripe_payment_intents",
  setup_intent: "stripe_setup_intents",
  charge: "stripe_charges",
  refund: "stripe_refunds",
  product: "stripe_products",
  price: "stripe_prices",
  subscription: "stripe_subscriptions",
  invoice: "stripe_invoices",
  webhook_endpoint: "stripe_webhook_endpoints",
  event: "stripe_events",
  "checkout.session": "stripe_checkout_sessions",
  "billing_portal.session": "stripe_portal_sessions",
  promotion_code: "stripe_promotion_codes",
  discount: "stripe_discounts",
  coupon: "stripe_coupons",
  "test_helpers.test_clock": "stripe_test_clocks",
  invoiceitem: "stripe_invoice_items",
  tax_rate: "stripe_tax_rates",
  tax_id: "stripe_tax_ids",
  customer_balance_transaction: "stripe_customer_balance_transactions",
  balance_transaction: "stripe_balance_transactions",
  shipping_rate: "stripe_shipping_rates",
  credit_note: "stripe_credit_notes",
  dispute: "stripe_disputes",
  payment_link: "stripe_payment_links",
  "billing_portal.configuration": "stripe_portal_configurations",
  payout: "stripe_payouts",
  subscription_schedule: "stripe_subscription_schedules",
} as const;
export type ObjectType = keyof typeof TABLES;

/** Id prefixes and lengths as Stripe mints them. */
export const ID_PREFIX: Record<ObjectType, [string, number]> = {
  customer: ["cus_", 14],
  payment_method: ["pm_", 24],
  payment_intent: ["pi_", 24],
  setup_intent: ["seti_", 24],
  charge: ["ch_", 24],
  refund: ["re_", 24],
  product: ["prod_", 14],
  price: ["price_", 24],
  subscription: ["sub_", 24],
  invoice: ["in_", 24],
  webhook_endpoint: ["we_", 24],
  event: ["evt_", 24],
  "checkout.session": ["cs_test_", 58],
  "billing_portal.session": ["bps_", 24],
  promotion_code: ["promo_", 24],
  discount: ["di_", 24],
  // Coupon ids carry no prefix (and may be chosen by the caller): never expanded by id.
  coupon: ["", 8],
  "test_helpers.test_clock": ["clock_", 24],
  invoiceitem: ["ii_", 24],
  tax_rate: ["txr_", 24],
  tax_id: ["txi_", 24],
  customer_balance_transaction: ["cbtxn_", 24],
  balance_transaction: ["txn_", 24],
  shipping_rate: ["shr_", 24],
  credit_note: ["cn_", 24],
  dispute: ["dp_", 24],
  payment_link: ["plink_", 24],
  "billing_portal.configuration": ["bpc_", 24],
  payout: ["po_", 24],
  subscription_schedule: ["sub_sched_", 24],
};

/** What an id names, by its prefix (for `expand`). */
// Longest prefixes first: `sub_sched_` is not a subscription.
const BY_PREFIX = (Object.entries(ID_PREFIX) as [ObjectType, [string, number]][]).filter(([, [p]]) => p).sort((a, b) => b[1][0].length - a[1][0].length);
export function typeOfId(id: string): ObjectType | null {
  for (const [type, [prefix]] of BY_PREFIX) if (id.startsWith(prefix)) return type;
  return null;
}

/** The noun Stripe's "No such ..." messages use. */
const NOUN: Record<ObjectType, string> = {
  customer: "customer",
  payment_method: "PaymentMethod",
  payment_intent: "payment_intent",
  setup_intent: "setup_intent",
  charge: "charge",
  refund: "refund",
  product: "product",
  price: "price",
  subscription: "subscription",
  invoice: "invoice",
  webhook_endpoint: "webhook endpoint",
  event: "event",
  "checkout.session": "checkout session",
  "billing_portal.session": "billing portal session",
  promotion_code: "promotion code",
  discount: "discount",
  coupon: "coupon",
  "test_helpers.test_clock": "test_clock",
  invoiceitem: "invoiceitem",
  tax_rate: "tax rate",
  tax_id: "tax id",
  customer_balance_transaction: "customer balance transaction",
  balance_transaction: "balance transaction",
  shipping_rate: "shipping rate",
  credit_note: "credit note",
  dispute: "dispute",
  payment_link: "payment link",
  "billing_portal.configuration": "configuration",
  payout: "payout",
  subscription_schedule: "subscription schedule",
};

export const newId = (k: Kernel, type: ObjectType) => k.ids.make(...ID_PREFIX[type]);
export const unixNow = (k: Kernel) => Math.floor(k.clock.now() / 1000);

type Row = { data: string; internal: string | null; deleted: number; seq: number };

/** Fields that follow the run clock (a balance transaction's status), brought up to date on every read. */
const FRESH: Partial<Record<ObjectType, (now: number, o: Obj) => Obj>> = {};
export function freshOnRead(type: ObjectType, fn: (now: number, o: Obj) => Obj): void {
  FRESH[type] = fn;
}

export class Store {
  constructor(private readonly k: Kernel) {}

  // Rows read during one API request (`op` opens and closes it): a confirm read its PaymentIntent
  // and PaymentMethod rows several times, a statement each. Any write through the store drops
  // the row it touches (and a type's `all`); the cache never outlives the request's transaction.
  private cache: Map<string, Row | null> | null = null;

  /** Runs one request's handler with the read cache on. */
  caching<T>(fn: () => T): T {
    this.cache = new Map();
    try {
      return fn();
    } finally {
      this.cache = null;
    }
  }

  // The live webhook endpoints, newest first: every event emitted reads them, and most worlds
  // have none. Kept across requests; dropped by any write to one and by rollbacks and restores.
  private hooks: Obj[] | null = null;

  /** Drops every in-memory view (after a rollback or a restore). */
  reload(): void {
    this.hooks = null;
    // A nested transaction rolled back inside a request (an invoice preview): its rows are gone.
    this.cache?.clear();
  }

  private touched(type: ObjectType, id: string): void {
    this.cache?.delete(`${type}\0${id}`);
    if (type === "webhook_endpoint") this.hooks = null;
  }

  row(type: ObjectType, id: string): Row | null {
    const key = `${type}\0${id}`;
    const hit = this.cache?.get(key);
    if (hit !== undefined) return hit;
    const r = this.k.sql.exec<Row>(`SELECT data, internal, deleted, seq FROM ${TABLES[type]} WHERE id = ?`, id).toArray()[0] ?? null;
    this.cache?.set(key, r);
    return r;
  }

  /** The object, or null; deleted objects answer their tombstone only with `withDeleted`. */
  find<T extends Obj = Obj>(type: ObjectType, id: string, withDeleted = false): T | null {
    const r = this.row(type, id);
    if (!r || (r.deleted && !withDeleted)) return null;
    const o = JSON.parse(r.data) as T;
    const fresh = FRESH[type];
    return fresh ? (fresh(unixNow(this.k), o) as T) : o;
  }

  /** The object, or Stripe's 404 resource_missing. */
  get<T extends Obj = Obj>(type: ObjectType, id: string, param = "id", withDeleted = false): T {
    const o = this.find<T>(type, id, withDeleted);
    if (!o) throw err.missing(NOUN[type], id, param);
    return o;
  }

  internal<T>(type: ObjectType, id: string): T {
    const r = this.row(type, id);
    return (r?.internal ? JSON.parse(r.internal) : {}) as T;
  }

  insert(type: ObjectType, obj: Obj, internal: unknown = null): Obj {
    const table = TABLES[type];
    this.touched(type, obj.id);
    const data = JSON.stringify(obj);
    const int = internal === null ? null : JSON.stringify(internal);
    // One statement: each costs more in a Durable Object than the work inside it. The new row is
    // what the request reads next (a PaymentMethod made from pm_card_visa, say): it is cached,
    // without its seq (RETURNING cost ~10 µs an insert; only list cursors read seq, from SQL).
    this.k.sql.exec(
      `INSERT INTO ${table} (id, seq, created, deleted, data, internal) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, 0, ?, ? FROM ${table}`,
      obj.id, Number(obj.created ?? unixNow(this.k)), data, int,
    );
    this.cache?.set(`${type}\0${obj.id}`, { data, internal: int, deleted: 0, seq: NaN });
    return obj;
  }

  save(type: ObjectType, obj: Obj): Obj {
    this.touched(type, obj.id);
    this.k.sql.exec(`UPDATE ${TABLES[type]} SET data = ? WHERE id = ?`, JSON.stringify(obj), obj.id);
    return obj;
  }

  setInternal(type: ObjectType, id: string, internal: unknown): void {
    this.touched(type, id);
    this.k.sql.exec(`UPDATE ${TABLES[type]} SET internal = ? WHERE id = ?`, JSON.stringify(internal), id);
  }

  /** Keeps a tombstone (Stripe answers a deleted customer with `deleted: true`). */
  markDeleted(type: ObjectType, id: string, tombstone: Obj): void {
    this.touched(type, id);
    this.k.sql.exec(`UPDATE ${TABLES[type]} SET deleted = 1, data = ? WHERE id = ?`, JSON.stringify(tombstone), id);
  }

  remove(type: ObjectType, id: string): void {
    this.touched(type, id);
    this.k.sql.exec(`DELETE FROM ${TABLES[type]} WHERE id = ?`, id);
  }

  /**
   * One page, newest first. `where` holds JSON paths of `data` and the values they must equal
   * (an array value means any of them).
   */
  list(type: ObjectType, q: ListQuery, where: Record<string, unknown> = {}): { data: Obj[]; has_more: boolean } {
    const table = TABLES[type];
    const conds = ["deleted = 0"];
    const args: unknown[] = [];
    for (const [path, v] of Object.entries(where)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) {
        conds.push(`json_extract(data, ?) IN (SELECT value FROM json_each(?))`);
        args.push(`$.${path}`, JSON.stringify(v));
      } else if (v === null) {
        conds.push(`json_extract(data, ?) IS NULL`);
        args.push(`$.${path}`);
      } else {
        conds.push(`json_extract(data, ?) = ?`);
        args.push(`$.${path}`, typeof v === "boolean" ? (v ? 1 : 0) : v);
      }
    }
    for (const [op, v] of Object.entries(q.created ?? {})) {
      conds.push(`created ${op} ?`);
      args.push(v);
    }
    const cursorId = q.startingAfter ?? q.endingBefore;
    let order = "DESC";
    if (cursorId) {
      // Read here, not through row(): a row this request inserted is cached without its seq.
      const c = this.k.sql.exec<{ seq: number }>(`SELECT seq FROM ${table} WHERE id = ?`, cursorId).toArray()[0];
      if (!c) throw err.missing(NOUN[type], cursorId, q.startingAfter ? "starting_after" : "ending_before");
      conds.push(q.startingAfter ? "seq < ?" : "seq > ?");
      args.push(c.seq);
      if (q.endingBefore) order = "ASC";
    }
    const rows = this.k.sql
      .exec<{ data: string }>(`SELECT data FROM ${table} WHERE ${conds.join(" AND ")} ORDER BY seq ${order} LIMIT ?`, ...args, q.limit + 1)
      .toArray();
    const has_more = rows.length > q.limit;
    const fresh = FRESH[type];
    const now = fresh ? unixNow(this.k) : 0;
    const data = rows.slice(0, q.limit).map((r) => (fresh ? fresh(now, JSON.parse(r.data) as Obj) : (JSON.parse(r.data) as Obj)));
    if (order === "ASC") data.reverse();
    return { data, has_more };
  }

  /** Every live object of a type, newest first (search filters these). */
  all(type: ObjectType): Obj[] {
    const read = () => this.k.sql.exec<{ data: string }>(`SELECT data FROM ${TABLES[type]} WHERE deleted = 0 ORDER BY seq DESC`).toArray().map((r) => JSON.parse(r.data) as Obj);
    // Copies: callers may change what they get.
    if (type === "webhook_endpoint") {
      const hooks = (this.hooks ??= read());
      return hooks.length ? structuredClone(hooks) : [];
    }
    return read();
  }
}

export interface ListQuery {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  created?: Record<string, number>;
}

const stores = new WeakMap<Kernel, Store>();
export function storeOf(k: Kernel): Store {
  let s = stores.get(k);
  if (!s) {
    const store = (s = new Store(k));
    stores.set(k, store);
    k.onReload(() => store.reload());
  }
  return s;
}
