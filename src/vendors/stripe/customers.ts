// Customers: create, retrieve (a deleted one answers its tombstone), update, delete, list, search.
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { attachPaymentMethod } from "./payment-methods.ts";
import { clockFor } from "./test-clocks.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { recordBalance } from "./customer-balance.ts";
import { taxIdData } from "./tax-ids.ts";
import { LIST_PARAMS, Params, listJson, listQuery, metadata, search, type Ctx } from "./wire.ts";

const ADDRESS = ["city", "country", "line1", "line2", "postal_code", "state"];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const FIELDS = [
  "address", "balance", "cash_balance", "description", "email", "invoice_prefix", "invoice_settings", "metadata", "name", "next_invoice_sequence",
  "payment_method", "phone", "preferred_locales", "shipping", "source", "tax", "tax_exempt", "tax_id_data", "test_clock", "validate",
  "business_name", "individual_name",
];

export function address(p: Params, key: string): Record<string, string | null> | null | undefined {
  const a = p.obj(key);
  if (a === undefined || a === null) return a;
  a.allow(...ADDRESS);
  return Object.fromEntries(ADDRESS.map((f) => [f, a.str(f) ?? null]));
}

function shipping(p: Params): Obj["shipping"] {
  const sh = p.obj("shipping");
  if (sh === undefined || sh === null) return sh;
  sh.allow("address", "name", "phone");
  return { address: address(sh, "address") ?? null, name: sh.reqStr("name"), phone: sh.str("phone") ?? null };
}

function email(p: Params): string | null | undefined {
  const e = p.str("email");
  if (e && !EMAIL.test(e)) throw err.invalid(`Invalid email address: ${e}`, { code: "email_invalid", param: "email" });
  if (e && e.length > 512) throw err.invalid("Invalid email address: too long", { code: "email_invalid", param: "email" });
  return e;
}

function invoiceSettings(s: Ctx, p: Params, prev: Record<string, unknown>, customerId: string): Record<string, unknown> {
  const is = p.obj("invoice_settings");
  if (!is) return prev;
  is.allow("custom_fields", "default_payment_method", "footer", "rendering_options");
  const next = { ...prev };
  if (is.has("default_payment_method")) {
    const pm = is.str("default_payment_method") ?? null;
    if (pm) {
      const o = s.store.get("payment_method", pm, "invoice_settings[default_payment_method]");
      if (o.customer !== customerId) {
        throw err.invalid(`No such PaymentMethod: '${pm}'; It's possible this PaymentMethod exists on one of your connected accounts, in which case you should retry this request on that connected account.`, { code: "resource_missing", param: "invoice_settings[default_payment_method]" });
      }
    }
    next.default_payment_method = pm;
  }
  if (is.has("footer")) next.footer = is.str("footer") ?? null;
  return next;
}

/** Eight uppercase hex digits, one draw of the seeded generator. */
const invoicePrefix = (s: Ctx) => s.k.ids.make("inv_prefix:", 8, "hex").slice(11).toUpperCase();

export function createCustomer(s: Ctx, p: Params): Obj {
  p.allow(...FIELDS);
  const clock = p.str("test_clock");
  if (clock) clockFor(s, clock);
  const id = newId(s.k, "customer");
  const c: Obj = {
    id,
    object: "customer",
    address: address(p, "address") ?? null,
    balance: p.int("balance") ?? 0,
    created: unixNow(s.k),
    currency: null,
    default_source: null,
    delinquent: false,
    description: p.str("description") ?? null,
    discount: null,
    email: email(p) ?? null,
    invoice_prefix: p.str("invoice_prefix") ?? invoicePrefix(s),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: metadata(p),
    name: p.str("name") ?? null,
    next_invoice_sequence: p.int("next_invoice_sequence", { min: 1 }) ?? 1,
    phone: p.str("phone") ?? null,
    preferred_locales: p.strings("preferred_locales") ?? [],
    shipping: shipping(p) ?? null,
    tax_exempt: p.oneOf("tax_exempt", ["none", "exempt", "reverse"]) ?? "none",
    test_clock: clock ?? null,
  };
  s.store.insert("customer", c);
  emit(s, "customer.created", c);
  if (c.balance !== 0) recordBalance(s, c, Number(c.balance), "initial", { applied: true });
  taxIdData(s, p, id);
  const pm = p.str("payment_method");
  if (pm) attachPaymentMethod(s, pm, id);
  if (p.has("invoice_settings")) return updateCustomer(s, id, new Params({ invoice_settings: p.raw.invoice_settings }), true);
  return pm ? s.store.get("customer", id) : c;
}

export function retrieveCustomer(s: Ctx, id: string): Obj {
  return s.store.get("customer", id, "id", true);
}

export function updateCustomer(s: Ctx, id: string, p: Params, quiet = false): Obj {
  p.allow(...FIELDS.filter((f) => f !== "payment_method" && f !== "test_clock"), "default_source");
  const before = s.store.get("customer", id);
  const next: Obj = { ...before };
  if (p.has("address")) next.address = address(p, "address") ?? null;
  if (p.has("balance")) next.balance = p.int("balance") ?? 0;
  if (p.has("description")) next.description = p.str("description") ?? null;
  if (p.has("email")) next.email = email(p) ?? null;
  if (p.has("name")) next.name = p.str("name") ?? null;
  if (p.has("phone")) next.phone = p.str("phone") ?? null;
  if (p.has("shipping")) next.shipping = shipping(p) ?? null;
  if (p.has("preferred_locales")) next.preferred_locales = p.strings("preferred_locales") ?? [];
  if (p.has("tax_exempt")) next.tax_exempt = p.oneOf("tax_exempt", ["none", "exempt", "reverse"]) ?? "none";
  if (p.has("invoice_prefix")) next.invoice_prefix = p.str("invoice_prefix") ?? before.invoice_prefix;
  if (p.has("next_invoice_sequence")) next.next_invoice_sequence = p.int("next_invoice_sequence", { min: 1 }) ?? before.next_invoice_sequence;
  next.invoice_settings = invoiceSettings(s, p, before.invoice_settings as Record<string, unknown>, id);
  next.metadata = metadata(p, before.metadata as Record<string, string>);
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("customer", next);
  if (!quiet) emit(s, "customer.updated", next, prev);
  if (next.balance !== before.balance) recordBalance(s, next, Number(next.balance) - Number(before.balance), "adjustment", { applied: true });
  return next;
}

export function deleteCustomer(s: Ctx, id: string): Obj {
  const c = s.store.get("customer", id);
  // At Stripe a deleted customer's payment methods are detached.
  for (const pm of s.store.list("payment_method", { limit: 1000 }, { customer: id }).data) {
    const detached = { ...pm, customer: null };
    s.store.save("payment_method", detached);
  }
  const tombstone = { id, object: "customer", deleted: true };
  s.store.markDeleted("customer", id, tombstone);
  emit(s, "customer.deleted", c);
  return tombstone;
}

export function listCustomers(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "email", "test_clock");
  // Customers on a test clock are listed only when their clock is asked for, as at Stripe.
  return listJson("/v1/customers", s.store.list("customer", listQuery(p), { email: p.str("email") ?? undefined, test_clock: p.str("test_clock") ?? null }));
}

export const searchCustomers = (s: Ctx, p: Params) => search(s, p, "customer", "customers", ["created", "email", "name", "phone"]);
