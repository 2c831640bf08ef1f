// Invoices: drafted (for a subscription, or one-off from invoice items), finalized and paid (or
// not) by charging a payment method off-session through a PaymentIntent, as Stripe Billing does;
// their state machine (draft → open → paid / uncollectible / void) and its errors.
import { err, StripeError } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { createIntent } from "./payment-intents.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, Params, listJson, listQuery, pageOf, search, type Ctx } from "./wire.ts";
import { rateIds, withTaxes } from "./taxes.ts";
import { applyBalance, unapplyBalance, usableBalance } from "./customer-balance.ts";

export interface Line {
  price: Obj;
  quantity: number;
  period: { start: number; end: number };
  description: string;
  subscriptionItem: string;
  /** A proration's own amount (negative for unused time); otherwise unit amount × quantity. */
  amount?: number;
  proration?: boolean;
  /** Ids of the line's own tax rates (its subscription item's); none: the invoice's defaults apply. */
  taxRates?: string[];
}

export const lineAmount = (l: Line) => l.amount ?? Number(l.price.unit_amount) * l.quantity;

/** An invoice's line for a pending invoice item it took in. */
export function itemLine(s: Ctx, invoiceId: string, item: Obj): Obj {
  return {
    id: s.k.ids.make("il_", 24),
    object: "line_item",
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    discount_amounts: [],
    discountable: item.discountable,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: item.metadata,
    parent: {
      invoice_item_details: { invoice_item: item.id, proration: false, proration_details: { credited_items: null }, subscription: null },
      subscription_item_details: null,
      type: "invoice_item_details",
    },
    period: item.period,
    pretax_credit_amounts: [],
    pricing: item.pricing,
    quantity: item.quantity,
    taxes: [],
  };
}

/** The invoice item a line was made from, if any. */
const itemOf = (l: Obj) => ((l.parent as Obj | null)?.invoice_item_details as Obj | null)?.invoice_item as string | undefined;

/** Totals (and taxes) of a draft whose lines or default tax rates changed (one-off invoices carry no discounts here). */
export function withTotals(s: Ctx, inv: Obj, lineData: Obj[]): Obj {
  return withTaxes(s, inv, lineData, (l) => {
    const item = itemOf(l);
    return item ? rateIds(s.store.find("invoiceitem", item)?.tax_rates) : [];
  }, 0);
}

/** What a one-off invoice has that a subscription's does not. */
export interface OneOff {
  collection: string;
  currency: string;
  autoAdvance: boolean;
  items: Obj[];
  over: Partial<Obj>;
}

/**
 * A draft invoice, for `lines` of subscription `sub` or (sub null) one-off, taking in
 * `pendingItems` (a one-off invoice's are `oneOff.items`); emits invoice.created.
 */
export function draftInvoice(
  s: Ctx, sub: Obj | null, customer: Obj, lines: Line[], reason: string, period: { start: number; end: number }, discounts: { discount: string; amount: number }[] = [], oneOff?: OneOff,
  pendingItems: Obj[] = oneOff?.items ?? [],
): Obj {
  const id = newId(s.k, "invoice");
  const subtotal = lines.reduce((n, l) => n + lineAmount(l), 0) + pendingItems.reduce((n, i) => n + Number(i.amount), 0);
  const total = subtotal - discounts.reduce((n, d) => n + d.amount, 0);
  // A credit larger than the charges is owed to the customer, not charged.
  const due = Math.max(0, total);
  const seq = Number(customer.next_invoice_sequence ?? 1);
  s.store.save("customer", { ...customer, next_invoice_sequence: seq + 1 });
  const now = unixNow(s.k);
  const currency = sub ? sub.currency : oneOff!.currency;
  const inv: Obj = {
    id,
    object: "invoice",
    account_country: "US",
    account_name: "Molar Clones",
    account_tax_ids: null,
    amount_due: due,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: due,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: oneOff ? oneOff.autoAdvance : true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    // Stripe finalizes an auto-advancing draft about an hour after its creation.
    automatically_finalizes_at: oneOff?.autoAdvance ? now + 3600 : null,
    billing_reason: reason,
    collection_method: sub ? sub.collection_method : oneOff!.collection,
    confirmation_secret: null,
    created: now,
    currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address ?? null,
    customer_email: customer.email ?? null,
    customer_name: customer.name ?? null,
    customer_phone: customer.phone ?? null,
    customer_shipping: customer.shipping ?? null,
    customer_tax_exempt: customer.tax_exempt ?? "none",
    customer_tax_ids: s.store.list("tax_id", { limit: 25 }, { customer: customer.id }).data.reverse().map((t) => ({ type: t.type, value: t.value })),
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: discounts.map((d) => d.discount),
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: "list",
      data: [...lines.map((l, i) => ({
        id: s.k.ids.make("il_", 24),
        object: "line_item",
        amount: lineAmount(l),
        currency,
        description: l.description,
        // Discounts are shown on the first line, where a one-line subscription invoice has them all.
        discount_amounts: i === 0 ? discounts : [],
        discountable: true,
        discounts: i === 0 ? discounts.map((d) => d.discount) : [],
        invoice: id,
        livemode: false,
        metadata: {},
        parent: { invoice_item_details: null, subscription_item_details: { invoice_item: null, proration: !!l.proration, proration_details: { credited_items: null }, subscription: sub?.id ?? null, subscription_item: l.subscriptionItem }, type: "subscription_item_details" },
        period: l.period,
        pretax_credit_amounts: [],
        pricing: { price_details: { price: l.price.id, product: l.price.product }, type: "price_details", unit_amount_decimal: String(l.price.unit_amount) },
        quantity: l.quantity,
        taxes: [],
      })), ...pendingItems.map((item) => itemLine(s, id, item))],
      has_more: false,
      total_count: lines.length + pendingItems.length,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: sub ? { quote_details: null, subscription_details: { metadata: sub.metadata, subscription: sub.id }, type: "subscription_details" } : null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: period.end,
    period_start: period.start,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: "draft",
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subscription: sub?.id ?? null,
    subtotal,
    subtotal_excluding_tax: subtotal,
    test_clock: customer.test_clock ?? null,
    total,
    total_discount_amounts: discounts,
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: now,
    ...oneOff?.over,
  };
  if (sub) inv.default_tax_rates = sub.default_tax_rates ?? [];
  inv.starting_balance = usableBalance(customer, String(currency));
  const taxed = withTaxes(s, inv, (inv.lines as { data: Obj[] }).data, (_l, i) => (i < lines.length ? (lines[i].taxRates ?? []) : rateIds(pendingItems[i - lines.length].tax_rates)), subtotal - total);
  s.store.insert("invoice", taxed, { seq });
  emit(s, "invoice.created", taxed);
  return taxed;
}

/** Draft → open, numbered; emits invoice.finalized. */
export function finalizeInvoice(s: Ctx, inv: Obj): Obj {
  const { seq, daysUntilDue } = s.store.internal<{ seq: number; daysUntilDue?: number | null }>("invoice", inv.id);
  const customer = s.store.get("customer", String(inv.customer));
  const now = unixNow(s.k);
  const next: Obj = {
    ...inv,
    status: "open",
    number: `${customer.invoice_prefix}-${String(seq).padStart(4, "0")}`,
    effective_at: now,
    automatically_finalizes_at: null,
    hosted_invoice_url: null,
    status_transitions: { ...(inv.status_transitions as Obj), finalized_at: now },
  };
  if (next.collection_method === "send_invoice" && next.due_date === null) next.due_date = now + Number(daysUntilDue ?? 30) * 86_400;
  Object.assign(next, applyBalance(s, customer, next));
  s.store.save("invoice", next);
  emit(s, "invoice.finalized", next, changed(inv, next));
  return next;
}

/**
 * Charges an open invoice off-session with `pmId`. Answers whether it was paid; a failure is
 * recorded on the invoice (attempt_count, invoice.payment_failed), never thrown.
 */
export function attemptPayment(s: Ctx, inv: Obj, pmId: string | null): { paid: boolean; invoice: Obj; error: Record<string, unknown> | null } {
  const before = s.store.get("invoice", inv.id);
  const amount = Number(before.amount_remaining);
  let error: Record<string, unknown> | null = null;
  let paidBy: Obj | null = null;
  if (amount > 0) {
    if (!pmId) {
      error = { type: "invalid_request_error", message: "This customer has no attached payment source or default payment method." };
    } else {
      try {
        paidBy = createIntent(s, new Params({
          amount: String(amount), currency: String(before.currency), customer: String(before.customer), payment_method: pmId, confirm: "true", off_session: "true",
          description: before.billing_reason === "subscription_create" ? "Subscription creation" : before.billing_reason === "manual" ? "Payment for Invoice" : "Subscription update",
        }));
      } catch (e) {
        if (!(e instanceof StripeError)) throw e;
        error = e.body;
      }
    }
  }
  if (error) {
    const failed: Obj = { ...before, attempted: true, attempt_count: Number(before.attempt_count) + 1 };
    s.store.save("invoice", failed);
    emit(s, "invoice.payment_failed", failed);
    return { paid: false, invoice: failed, error };
  }
  return { paid: true, invoice: markPaid(s, before, paidBy), error: null };
}

/** An open invoice paid in full (by `paidBy`, or by nothing when it was due nothing). */
export function markPaid(s: Ctx, before: Obj, paidBy: Obj | null): Obj {
  const amount = Number(before.amount_remaining);
  const paid: Obj = {
    ...before,
    status: "paid",
    attempted: true,
    attempt_count: Number(before.attempt_count) + (amount > 0 ? 1 : 0),
    amount_paid: amount,
    amount_remaining: 0,
    next_payment_attempt: null,
    status_transitions: { ...(before.status_transitions as Obj), paid_at: unixNow(s.k) },
  };
  s.store.save("invoice", paid);
  // The payment a credit note refunds (the API shows it only through invoice payments).
  if (paidBy) s.store.setInternal("invoice", paid.id, { ...s.store.internal<object>("invoice", paid.id), paymentIntent: paidBy.id });
  emit(s, "invoice.paid", paid, changed(before, paid));
  emit(s, "invoice.payment_succeeded", paid);
  return paid;
}

/**
 * The PaymentIntent of an open invoice that waits for its customer (a subscription created with
 * `default_incomplete`): its client secret is the invoice's `confirmation_secret`, and confirming it
 * pays the invoice (renewals.ts, intentPaid).
 */
export function invoiceIntent(s: Ctx, inv: Obj, setupFutureUsage: boolean): Obj {
  const pi = createIntent(s, new Params({
    amount: String(inv.amount_remaining), currency: String(inv.currency), customer: String(inv.customer), payment_method_types: ["card"],
    description: inv.billing_reason === "subscription_create" ? "Subscription creation" : "Subscription update",
    ...(setupFutureUsage ? { setup_future_usage: "off_session" } : {}),
  }));
  s.store.setInternal("payment_intent", pi.id, { ...s.store.internal<object>("payment_intent", pi.id), invoice: inv.id });
  s.store.setInternal("invoice", inv.id, { ...s.store.internal<object>("invoice", inv.id), paymentIntent: pi.id });
  const next = { ...s.store.get("invoice", inv.id), confirmation_secret: { client_secret: pi.client_secret, type: "payment_intent" } };
  s.store.save("invoice", next);
  return next;
}

export function setNextAttempt(s: Ctx, inv: Obj, at: number | null): Obj {
  const next = { ...s.store.get("invoice", inv.id), next_payment_attempt: at };
  s.store.save("invoice", next);
  return next;
}

export function listInvoices(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer", "subscription", "status", "collection_method", "due_date");
  return listJson("/v1/invoices", s.store.list("invoice", listQuery(p), {
    customer: p.str("customer") ?? undefined, subscription: p.str("subscription") ?? undefined,
    status: p.oneOf("status", ["draft", "open", "paid", "uncollectible", "void"]),
    collection_method: p.oneOf("collection_method", ["charge_automatically", "send_invoice"]),
  }));
}

export function voidInvoice(s: Ctx, id: string): Obj {
  const before = s.store.get("invoice", id, "invoice");
  if (before.status === "draft") throw err.invalid("You can only void a finalized invoice. Delete a draft invoice instead.", { code: "invoice_not_editable" });
  if (before.status !== "open" && before.status !== "uncollectible") throw err.invalid(`You can only void invoices that are open or uncollectible. This invoice is ${before.status}.`, { code: "invoice_not_editable" });
  const next = { ...before, status: "void", amount_remaining: 0, next_payment_attempt: null, status_transitions: { ...(before.status_transitions as Obj), voided_at: unixNow(s.k) } };
  s.store.save("invoice", next);
  unapplyBalance(s, next);
  emit(s, "invoice.voided", next, changed(before, next));
  return next;
}

export const searchInvoices = (s: Ctx, p: Params) => search(s, p, "invoice", "invoices", ["created", "currency", "customer", "number", "status", "subscription", "total"]);

export function invoiceLines(s: Ctx, id: string, p: Params) {
  p.allow(...LIST_PARAMS);
  const inv = s.store.get("invoice", id, "invoice");
  return pageOf((inv.lines as { data: Obj[] }).data, listQuery(p), `/v1/invoices/${id}/lines`, "invoice line item");
}

export function markUncollectible(s: Ctx, id: string): Obj {
  const before = s.store.get("invoice", id, "invoice");
  if (before.status !== "open") throw err.invalid(`You can only mark an open invoice as uncollectible, but this invoice's status is ${before.status}.`, { code: "invoice_not_editable" });
  const next = { ...before, status: "uncollectible", next_payment_attempt: null, status_transitions: { ...(before.status_transitions as Obj), marked_uncollectible_at: unixNow(s.k) } };
  s.store.save("invoice", next);
  emit(s, "invoice.marked_uncollectible", next, changed(before, next));
  return next;
}
