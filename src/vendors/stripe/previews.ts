// Invoice previews (POST /v1/invoices/create_preview): the invoice a subscription would get next,
// after an update given in `subscription_details`, or for a new subscription. The ordinary code
// runs inside a savepoint that is then rolled back, so a preview is computed exactly as the real
// invoice would be (prorations, taxes, discounts, the customer's balance) and leaves nothing behind.
import { err, StripeError } from "./errors.ts";
import { createInvoiceItem } from "./invoicing.ts";
import { addInterval, createSubscription, draftFor, items, period, updateSubscription, withPeriod } from "./subscriptions.ts";
import type { Line } from "./invoices.ts";
import type { Obj } from "./store.ts";
import { Params, type Ctx } from "./wire.ts";

class Rollback {}

const notBuilt = (what: string) => new StripeError(501, { type: "api_error", code: "not_implemented", message: `Invoice previews with ${what} are not implemented by the Stripe clone yet.` });
const none = (what: string) => err.invalid(`No upcoming invoices for ${what}`, { status: 404, code: "invoice_upcoming_none" });

/** Details of a subscription change the preview applies before drafting. */
const CHANGE = ["items", "proration_behavior", "default_tax_rates", "cancel_at_period_end", "metadata"];

export function createPreview(s: Ctx, p: Params): Obj {
  p.allow("customer", "customer_account", "subscription", "subscription_details", "invoice_items", "currency", "discounts", "automatic_tax", "customer_details", "issuer",
    "on_behalf_of", "preview_mode", "schedule", "schedule_details");
  for (const k of ["schedule", "schedule_details", "customer_details", "discounts", "on_behalf_of"]) if (p.has(k)) throw notBuilt(`\`${k}\``);
  if (p.oneOf("preview_mode", ["next", "recurring"]) === "recurring") throw notBuilt("`preview_mode=recurring`");
  const tax = p.obj("automatic_tax");
  tax?.allow("enabled", "liability");
  if (tax?.bool("enabled")) throw notBuilt("automatic tax");
  const sd = p.obj("subscription_details");
  sd?.allow(...CHANGE, "proration_date", "billing_cycle_anchor", "billing_mode", "billing_schedules", "cancel_at", "cancel_now", "pause", "resume_at", "start_date", "trial_end");
  for (const k of Object.keys(sd?.raw ?? {})) if (![...CHANGE, "proration_date"].includes(k)) throw notBuilt(`\`subscription_details[${k}]\``);
  const subId = p.str("subscription") ?? null;
  const customerId = p.str("customer") ?? null;
  if (!subId && !customerId) throw err.missingParam("customer");
  if (customerId) s.store.get("customer", customerId, "customer");

  let preview: Obj | null = null;
  try {
    s.k.tx(() => {
      preview = draft(s, p, sd ?? null, subId, customerId);
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  } finally {
    // A chaos rule the preview's events consulted counted in memory what the rollback undid.
    s.k.chaos.invalidate();
  }
  const inv = preview as unknown as Obj;
  const id = `upcoming_${inv.id}`;
  const lines = inv.lines as { data: Obj[] };
  return { ...inv, id, lines: { ...lines, data: lines.data.map((l) => ({ ...l, invoice: id })), url: `/v1/invoices/${id}/lines` } };
}

/** The draft the preview shows, made by the ordinary code (inside the savepoint). */
function draft(s: Ctx, p: Params, sd: Params | null, subId: string | null, customerId: string | null): Obj {
  const currency = p.str("currency")?.toLowerCase();
  if (!subId && sd?.has("items")) {
    // A new subscription: its first invoice, before any payment is attempted.
    if (p.has("invoice_items")) throw notBuilt("`invoice_items` for a new subscription");
    const sub = createSubscription(s, new Params({ customer: customerId!, ...pick(sd.raw, ["items", "default_tax_rates", "metadata"]), payment_behavior: "default_incomplete" }));
    const inv = s.store.get("invoice", String(sub.latest_invoice));
    if (currency && currency !== inv.currency) throw err.invalid(`The currency ${currency} does not match the subscription's (${String(inv.currency)}).`, { param: "currency" });
    return { ...inv, status: "draft", number: null, effective_at: null, ending_balance: null, due_date: null, status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null } };
  }
  const sub = subId ? s.store.get("subscription", subId, "subscription") : nextToRenew(s, customerId!);
  if (customerId && sub.customer !== customerId) throw err.invalid(`The subscription ${sub.id} does not belong to the customer ${customerId}.`, { param: "subscription" });
  if (sub.status === "canceled" || sub.status === "incomplete_expired") throw none(`subscription: ${sub.id}`);
  if (currency && currency !== sub.currency) throw err.invalid(`The currency ${currency} does not match the subscription's (${String(sub.currency)}).`, { param: "currency" });
  for (const [i, raw] of listOf(p.raw.invoice_items).entries()) {
    const ip = new Params(raw, `invoice_items[${i}]`);
    ip.allow("amount", "currency", "description", "discountable", "metadata", "period", "price_data", "pricing", "quantity", "tax_rates", "unit_amount_decimal", "price");
    const { price, ...rest } = ip.raw;
    createInvoiceItem(s, new Params({ ...rest, ...(price !== undefined ? { pricing: { price } } : {}), customer: String(sub.customer), ...(rest.currency === undefined ? { currency: String(sub.currency) } : {}) }));
  }
  const behavior = sd?.str("proration_behavior") ?? undefined;
  const pendingBefore = pending(s, sub.id).length;
  let current = sub;
  if (sd && CHANGE.some((k) => sd.has(k))) {
    // always_invoice would charge at once: the preview takes the same prorations, left pending.
    const change = { ...pick(sd.raw, CHANGE), ...(behavior === "always_invoice" ? { proration_behavior: "create_prorations" } : {}) };
    current = updateSubscription(s, sub.id, new Params(change));
  }
  const now = period(current);
  if (behavior === "always_invoice") {
    const fresh = pending(s, sub.id).slice(pendingBefore);
    if (fresh.reduce((n, l) => n + (l.amount ?? 0), 0) > 0) return draftFor(s, current, "subscription_update", Math.floor(s.k.clock.now() / 1000), now.end, false, fresh);
  }
  if (current.cancel_at_period_end) throw none(`subscription: ${sub.id}`);
  const rec = (items(current)[0].price as Obj).recurring as Obj;
  const end = addInterval(now.end, String(rec.interval), Number(rec.interval_count));
  return draftFor(s, withPeriod(current, now.end, end), "subscription_cycle", now.end, end, false);
}

/** The customer's subscription that renews soonest. */
function nextToRenew(s: Ctx, customerId: string): Obj {
  const row = s.k.sql.exec<{ id: string }>(
    "SELECT id FROM stripe_subscriptions WHERE deleted = 0 AND renews_at IS NOT NULL AND json_extract(data, '$.customer') = ? AND json_extract(data, '$.cancel_at_period_end') = 0 ORDER BY renews_at, seq LIMIT 1",
    customerId,
  ).toArray()[0];
  if (!row) throw none(`customer: ${customerId}`);
  return s.store.get("subscription", row.id);
}

const pending = (s: Ctx, subId: string) => s.store.internal<{ pending?: Line[] }>("subscription", subId).pending ?? [];

function pick(raw: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
}

function listOf(raw: unknown): Record<string, unknown>[] {
  if (raw === undefined || raw === "") return [];
  const list = Array.isArray(raw) ? raw : typeof raw === "object" && raw !== null ? Object.values(raw) : null;
  if (!list) throw err.invalidArray("invoice_items");
  return list.map((x, i) => {
    if (typeof x !== "object" || x === null || Array.isArray(x)) throw err.invalidObject(`invoice_items[${i}]`);
    return x as Record<string, unknown>;
  });
}
