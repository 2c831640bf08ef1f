// Invoice items and one-off invoices: items wait on the customer (pending) until an invoice takes
// them in, per `pending_invoice_items_behavior`, or are added to a draft by `invoice`; a draft is
// updated, deleted, finalized (by hand, or about an hour after creation when `auto_advance`),
// sent, paid, voided or marked uncollectible. Subscription invoices share the state machine
// (invoices.ts); paying one is in renewals.ts.
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { attemptPayment, draftInvoice, finalizeInvoice, itemLine, withTotals } from "./invoices.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, Params, listJson, listQuery, metadata, type Ctx } from "./wire.ts";
import { taxRatesParam } from "./taxes.ts";
import type { Kernel } from "../../kernel/types.ts";
import { ctxOf } from "./wire.ts";

/** The job that finalizes an auto-advancing draft (ref: the invoice). */
export const AUTO_FINALIZE = "stripe.invoice_auto_finalize";
const AUTO_FINALIZE_DELAY = 3600;

type Json = Record<string, unknown>;

// ---- invoice items ---------------------------------------------------------------------------

/** Amount, quantity and pricing from `amount`, `pricing[price]`, `price_data` or `unit_amount_decimal`. */
function pricingOf(s: Ctx, p: Params, prev?: Obj): { amount: number; quantity: number; currency: string | null; pricing: Json } {
  const quantity = p.int("quantity", { min: 0 }) ?? Number(prev?.quantity ?? 1);
  const pricingParam = p.obj("pricing");
  pricingParam?.allow("price");
  const priceId = pricingParam?.str("price") ?? null;
  const pd = p.obj("price_data");
  const amount = p.int("amount");
  const unitDecimal = p.str("unit_amount_decimal") ?? null;
  const given = [amount !== undefined, !!priceId, !!pd, unitDecimal !== null].filter(Boolean).length;
  if (given > 1) throw err.invalid("You may only specify one of these parameters: amount, price_data, pricing[price], unit_amount_decimal.", { param: "amount" });
  if (priceId) {
    const price = s.store.get("price", priceId, "pricing[price]");
    if (price.type !== "one_time") throw err.invalid(`The price specified is set to \`type=recurring\` but this field only accepts prices with \`type=one_time\`.`, { param: "pricing[price]" });
    if (!price.active) throw err.invalid("The price specified is inactive. This field only accepts active prices.", { param: "pricing[price]" });
    const unit = Number(price.unit_amount);
    return { amount: unit * quantity, quantity, currency: String(price.currency), pricing: { price_details: { price: price.id, product: price.product }, type: "price_details", unit_amount_decimal: String(unit) } };
  }
  if (pd) {
    pd.allow("currency", "product", "unit_amount", "unit_amount_decimal", "tax_behavior");
    const product = s.store.get("product", pd.reqStr("product"), "price_data[product]");
    const unit = pd.int("unit_amount", { required: true, min: 0 })!;
    return { amount: unit * quantity, quantity, currency: pd.reqStr("currency").toLowerCase(), pricing: { price_details: { price: null, product: product.id }, type: "price_details", unit_amount_decimal: String(unit) } };
  }
  if (unitDecimal !== null) {
    if (!/^\d+(\.\d{1,12})?$/.test(unitDecimal)) throw err.invalid(`Invalid decimal: ${unitDecimal}`, { param: "unit_amount_decimal" });
    return { amount: Math.round(Number(unitDecimal) * quantity), quantity, currency: null, pricing: { price_details: null, type: "price_details", unit_amount_decimal: unitDecimal } };
  }
  if (amount !== undefined) {
    // An amount is the item's total: its unit amount is that over the quantity.
    return { amount, quantity, currency: null, pricing: { price_details: null, type: "price_details", unit_amount_decimal: String(quantity ? amount / quantity : amount) } };
  }
  if (prev) {
    const unit = Number((prev.pricing as Json).unit_amount_decimal ?? 0);
    return { amount: p.has("quantity") ? Math.round(unit * quantity) : Number(prev.amount), quantity, currency: String(prev.currency), pricing: prev.pricing as Json };
  }
  throw err.invalid("You must specify one of these parameters: amount, price_data, pricing[price] or unit_amount_decimal.", { param: "amount" });
}

function period(p: Params, now: number, prev?: Obj): Json {
  const pp = p.obj("period");
  if (!pp) return (prev?.period as Json) ?? { end: now, start: now };
  pp.allow("start", "end");
  const start = pp.int("start", { required: true })!;
  const end = pp.int("end", { required: true })!;
  if (end < start) throw err.invalid("The period end must be after its start.", { param: "period[end]" });
  return { end, start };
}

/** A draft the caller may change: otherwise Stripe's invoice_not_editable. */
export function draftOf(s: Ctx, id: string, param = "invoice"): Obj {
  const inv = s.store.get("invoice", id, param);
  if (inv.status !== "draft") {
    throw err.invalid(`You can only modify a draft invoice; invoice ${id} is ${inv.status}. Create a new invoice instead.`, { code: "invoice_not_editable", param });
  }
  return inv;
}

export function saveDraftLines(s: Ctx, before: Obj, lines: Obj[]): Obj {
  const next = withTotals(s, before, lines);
  s.store.save("invoice", next);
  emit(s, "invoice.updated", next, changed(before, next));
  return next;
}

export function createInvoiceItem(s: Ctx, p: Params): Obj {
  p.allow("customer", "customer_account", "amount", "currency", "description", "discountable", "discounts", "invoice", "metadata", "period", "price_data", "pricing",
    "quantity", "quantity_decimal", "subscription", "tax_behavior", "tax_code", "tax_rates", "unit_amount_decimal");
  const customer = s.store.get("customer", p.reqStr("customer"), "customer");
  const invoiceId = p.str("invoice") ?? null;
  const inv = invoiceId ? draftOf(s, invoiceId) : null;
  if (inv && inv.customer !== customer.id) throw err.invalid(`The invoice ${invoiceId} belongs to another customer.`, { param: "invoice" });
  const priced = pricingOf(s, p);
  const currency = (p.str("currency") ?? priced.currency ?? (inv?.currency as string | undefined) ?? null)?.toLowerCase() ?? null;
  if (!currency) throw err.missingParam("currency");
  if (inv && inv.currency !== currency) throw err.invalid(`The currency ${currency} of this invoice item differs from the invoice's (${String(inv.currency)}).`, { param: "currency" });
  const subId = p.str("subscription") ?? null;
  if (subId && s.store.get("subscription", subId, "subscription").customer !== customer.id) throw err.invalid(`The subscription ${subId} belongs to another customer.`, { param: "subscription" });
  const now = unixNow(s.k);
  const item: Obj = {
    id: newId(s.k, "invoiceitem"),
    object: "invoiceitem",
    amount: priced.amount,
    currency,
    customer: customer.id,
    customer_account: null,
    date: now,
    description: p.str("description") ?? null,
    discountable: p.bool("discountable") ?? true,
    discounts: [],
    invoice: inv?.id ?? null,
    livemode: false,
    metadata: metadata(p),
    net_amount: priced.amount,
    parent: subId ? { subscription_details: { subscription: subId, subscription_item: null }, type: "subscription_details" } : null,
    period: period(p, now),
    pricing: priced.pricing,
    proration: false,
    quantity: priced.quantity,
    quantity_decimal: String(priced.quantity),
    tax_rates: taxRatesParam(s, p, "tax_rates") ?? [],
    test_clock: customer.test_clock ?? null,
  };
  s.store.insert("invoiceitem", item);
  emit(s, "invoiceitem.created", item);
  if (inv) saveDraftLines(s, inv, [...(inv.lines as { data: Obj[] }).data, itemLine(s, inv.id, item)]);
  return item;
}

/** The draft an item sits on, if any, with the item's line rewritten (or dropped, `item` null). */
export function relineDraft(s: Ctx, invoiceId: string, itemId: string, item: Obj | null): void {
  const inv = draftOf(s, invoiceId, "invoice");
  const lines = (inv.lines as { data: Obj[] }).data.flatMap((l) => {
    const of = ((l.parent as Obj | null)?.invoice_item_details as Obj | null)?.invoice_item;
    if (of !== itemId) return [l];
    return item ? [{ ...itemLine(s, inv.id, item), id: l.id }] : [];
  });
  saveDraftLines(s, inv, lines);
}

export function updateInvoiceItem(s: Ctx, id: string, p: Params): Obj {
  p.allow("amount", "description", "discountable", "discounts", "metadata", "period", "price_data", "pricing", "quantity", "quantity_decimal", "tax_behavior", "tax_code", "tax_rates", "unit_amount_decimal");
  const before = s.store.get("invoiceitem", id, "invoiceitem");
  if (before.invoice) {
    const inv = s.store.get("invoice", String(before.invoice));
    if (inv.status !== "draft") throw err.invalid(`The invoice item ${id} is on invoice ${inv.id}, which is no longer a draft: its items cannot be changed.`, { code: "invoice_not_editable" });
  }
  const priced = pricingOf(s, p, before);
  if (priced.currency && priced.currency !== before.currency) throw err.invalid("The price's currency must be the invoice item's currency.", { param: "pricing[price]" });
  const next: Obj = {
    ...before,
    amount: priced.amount,
    net_amount: priced.amount,
    quantity: priced.quantity,
    quantity_decimal: String(priced.quantity),
    pricing: priced.pricing,
    description: p.has("description") ? (p.str("description") ?? null) : before.description,
    discountable: p.bool("discountable") ?? before.discountable,
    metadata: metadata(p, before.metadata as Record<string, string>),
    period: period(p, unixNow(s.k), before),
    tax_rates: taxRatesParam(s, p, "tax_rates") ?? before.tax_rates,
  };
  s.store.save("invoiceitem", next);
  if (before.invoice) relineDraft(s, String(before.invoice), id, next);
  return next;
}

export function deleteInvoiceItem(s: Ctx, id: string) {
  const item = s.store.get("invoiceitem", id, "invoiceitem");
  if (item.invoice) {
    const inv = s.store.get("invoice", String(item.invoice));
    if (inv.status !== "draft") throw err.invalid(`The invoice item ${id} is on invoice ${inv.id}, which is no longer a draft: it cannot be deleted.`, { code: "invoice_not_editable" });
    relineDraft(s, inv.id, id, null);
  }
  s.store.remove("invoiceitem", id);
  emit(s, "invoiceitem.deleted", item);
  return { id, object: "invoiceitem", deleted: true };
}

export function listInvoiceItems(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer", "customer_account", "invoice", "pending");
  const pending = p.bool("pending");
  const invoice = p.str("invoice") ?? undefined;
  return listJson("/v1/invoiceitems", s.store.list("invoiceitem", listQuery(p), {
    customer: p.str("customer") ?? undefined,
    invoice: pending ? null : invoice,
  }));
}

// ---- one-off invoices ------------------------------------------------------------------------

export function createInvoice(s: Ctx, p: Params): Obj {
  p.allow("customer", "customer_account", "auto_advance", "collection_method", "days_until_due", "due_date", "description", "metadata", "pending_invoice_items_behavior",
    "default_payment_method", "footer", "currency", "subscription", "automatic_tax", "account_tax_ids", "application_fee_amount", "automatically_finalizes_at",
    "custom_fields", "default_source", "default_tax_rates", "discounts", "effective_at", "from_invoice", "issuer", "number", "on_behalf_of", "payment_settings",
    "rendering", "shipping_cost", "shipping_details", "statement_descriptor", "transfer_data");
  const customer = s.store.get("customer", p.reqStr("customer"), "customer");
  if (customer.deleted) throw err.missing("customer", String(customer.id), "customer");
  const collection = p.oneOf("collection_method", ["charge_automatically", "send_invoice"]) ?? "charge_automatically";
  const days = p.int("days_until_due", { min: 0, max: 730 });
  const dueDate = p.int("due_date");
  if (collection === "charge_automatically" && (days !== undefined || dueDate !== undefined)) {
    throw err.invalid(`The \`${days !== undefined ? "days_until_due" : "due_date"}\` parameter may only be set when \`collection_method\` is \`send_invoice\`.`, { param: days !== undefined ? "days_until_due" : "due_date" });
  }
  if (collection === "send_invoice" && days === undefined && dueDate === undefined) {
    throw err.invalid("Invoices with `collection_method=send_invoice` need `days_until_due` or `due_date`.", { param: "days_until_due" });
  }
  if (days !== undefined && dueDate !== undefined) throw err.invalid("You may only specify one of these parameters: days_until_due, due_date.", { param: "due_date" });
  const now = unixNow(s.k);
  if (dueDate !== undefined && dueDate <= now) throw err.invalid("The due_date must be in the future.", { param: "due_date" });
  const behavior = p.oneOf("pending_invoice_items_behavior", ["exclude", "include"]) ?? "exclude";
  const pm = p.str("default_payment_method") ?? null;
  if (pm && s.store.get("payment_method", pm, "default_payment_method").customer !== customer.id) {
    throw err.invalid(`The customer does not have a payment method with the ID ${pm}. The payment method must be attached to the customer.`, { param: "default_payment_method" });
  }
  const pending = behavior === "include" ? s.store.list("invoiceitem", { limit: 250 }, { customer: customer.id, invoice: null }).data.reverse() : [];
  const currency = (p.str("currency") ?? (pending[0]?.currency as string | undefined) ?? "usd").toLowerCase();
  const items = pending.filter((i) => i.currency === currency);
  const autoAdvance = p.bool("auto_advance") ?? false;
  const inv = draftInvoice(s, null, customer, [], "manual", { start: now, end: now }, [], {
    collection, currency, autoAdvance, items,
    over: { description: p.str("description") ?? null, metadata: metadata(p), default_payment_method: pm, footer: p.str("footer") ?? null, due_date: dueDate ?? null, default_tax_rates: taxRatesParam(s, p, "default_tax_rates") ?? [] },
  });
  s.store.setInternal("invoice", inv.id, { ...s.store.internal<Obj>("invoice", inv.id), daysUntilDue: days ?? null });
  for (const i of items) s.store.save("invoiceitem", { ...i, invoice: inv.id });
  if (autoAdvance) s.k.jobs.schedule("stripe", AUTO_FINALIZE, (now + AUTO_FINALIZE_DELAY) * 1000, {}, inv.id);
  return inv;
}

export function updateInvoice(s: Ctx, id: string, p: Params): Obj {
  p.allow("auto_advance", "collection_method", "days_until_due", "due_date", "description", "metadata", "default_payment_method", "footer", "account_tax_ids",
    "application_fee_amount", "automatic_tax", "custom_fields", "default_source", "default_tax_rates", "discounts", "effective_at", "issuer", "number",
    "on_behalf_of", "payment_settings", "rendering", "shipping_cost", "shipping_details", "statement_descriptor", "transfer_data", "automatically_finalizes_at");
  const before = s.store.get("invoice", id, "invoice");
  const draftOnly = ["collection_method", "days_until_due", "due_date", "default_payment_method", "footer", "default_tax_rates"].find((f) => p.has(f));
  if (draftOnly && before.status !== "draft") throw err.invalid(`Finalized invoices can't be updated in this way: \`${draftOnly}\` can only be changed on a draft.`, { code: "invoice_not_editable", param: draftOnly });
  if (before.status === "void" || before.status === "paid") {
    if (p.has("auto_advance")) throw err.invalid(`You cannot change auto_advance on a ${before.status} invoice.`, { code: "invoice_not_editable", param: "auto_advance" });
  }
  let next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("description")) next.description = p.str("description") ?? null;
  if (p.has("footer")) next.footer = p.str("footer") ?? null;
  if (p.has("default_tax_rates")) next = withTotals(s, { ...next, default_tax_rates: taxRatesParam(s, p, "default_tax_rates") ?? [] }, (next.lines as { data: Obj[] }).data);
  if (p.has("default_payment_method")) {
    const pm = p.str("default_payment_method") ?? null;
    if (pm && s.store.get("payment_method", pm, "default_payment_method").customer !== before.customer) {
      throw err.invalid(`The customer does not have a payment method with the ID ${pm}. The payment method must be attached to the customer.`, { param: "default_payment_method" });
    }
    next.default_payment_method = pm;
  }
  if (p.has("collection_method")) next.collection_method = p.oneOf("collection_method", ["charge_automatically", "send_invoice"]) ?? before.collection_method;
  if (p.has("due_date")) next.due_date = p.int("due_date") ?? null;
  if (p.has("days_until_due")) s.store.setInternal("invoice", id, { ...s.store.internal<Obj>("invoice", id), daysUntilDue: p.int("days_until_due", { min: 0, max: 730 }) ?? null });
  if (p.has("auto_advance")) {
    next.auto_advance = p.bool("auto_advance") ?? false;
    if (before.status === "draft") {
      s.k.jobs.cancel(AUTO_FINALIZE, id);
      next.automatically_finalizes_at = next.auto_advance ? Number(before.created) + AUTO_FINALIZE_DELAY : null;
      if (next.auto_advance) s.k.jobs.schedule("stripe", AUTO_FINALIZE, Math.max(unixNow(s.k), Number(next.automatically_finalizes_at)) * 1000, {}, id);
    }
  }
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("invoice", next);
  emit(s, "invoice.updated", next, prev);
  return next;
}

export function deleteInvoice(s: Ctx, id: string) {
  const inv = s.store.get("invoice", id, "invoice");
  if (inv.status !== "draft") throw err.invalid("You can only delete draft invoices.", { code: "invoice_not_editable" });
  if (inv.subscription) throw err.invalid("You cannot delete a draft invoice that was generated by a subscription.", { code: "invoice_not_editable" });
  // Its items go back to waiting for the customer's next invoice.
  for (const item of s.store.list("invoiceitem", { limit: 1000 }, { invoice: id }).data) s.store.save("invoiceitem", { ...item, invoice: null });
  s.k.jobs.cancel(AUTO_FINALIZE, id);
  s.store.remove("invoice", id);
  emit(s, "invoice.deleted", inv);
  return { id, object: "invoice", deleted: true };
}

/** Draft → open; a $0 invoice is paid on finalization, as at Stripe. */
export function finalize(s: Ctx, id: string, p: Params): Obj {
  p.allow("auto_advance");
  const before = s.store.get("invoice", id, "invoice");
  if (before.status !== "draft") throw err.invalid("This invoice is already finalized, you can't re-finalize a non-draft invoice.", { code: "invoice_not_editable" });
  const autoAdvance = p.bool("auto_advance");
  s.k.jobs.cancel(AUTO_FINALIZE, id);
  let inv = finalizeInvoice(s, autoAdvance === undefined ? before : { ...before, auto_advance: autoAdvance });
  if (Number(inv.amount_due) === 0) inv = attemptPayment(s, inv, null).invoice;
  return inv;
}

/** Sends an invoice to its customer (a draft is finalized first); only for `send_invoice`. */
export function sendInvoice(s: Ctx, id: string, p: Params): Obj {
  p.allow();
  let inv = s.store.get("invoice", id, "invoice");
  if (inv.collection_method !== "send_invoice") throw err.invalid("You can only manually send an invoice if its collection method is 'send_invoice'.", { param: "collection_method" });
  if (inv.status === "void") throw err.invalid("You can't send a voided invoice.", { code: "invoice_not_editable" });
  if (inv.status === "draft") inv = finalize(s, id, new Params({}));
  emit(s, "invoice.sent", inv);
  return inv;
}

export function invoicingJobs(k: Kernel) {
  return {
    /** About an hour after creation an auto-advancing draft is finalized, then charged or sent. */
    [AUTO_FINALIZE]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const inv = s.store.find("invoice", job.ref!);
      if (!inv || inv.status !== "draft" || !inv.auto_advance) return;
      const open = finalize(s, inv.id, new Params({}));
      if (open.status !== "open") return `invoice ${inv.id} finalized and paid`;
      if (open.collection_method === "send_invoice") {
        emit(s, "invoice.sent", open);
        return `invoice ${inv.id} finalized and sent`;
      }
      const customer = s.store.find("customer", String(open.customer));
      const pm = (open.default_payment_method as string | null) ?? (((customer?.invoice_settings as Obj | undefined)?.default_payment_method as string | null) ?? null);
      const r = attemptPayment(s, open, pm);
      return `invoice ${inv.id} finalized, ${r.paid ? "paid" : "payment failed"}`;
    },
  };
}
