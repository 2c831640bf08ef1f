// Subscriptions: create (trials, first invoice, payment behaviours), update (cancel at period end
// or at a time, trial end moved or ended now, collection paused, default payment method, item
// changes with proration), cancel, list, search, their items.
// What the run clock does to them (renewals, dunning, trial ends) is in renewals.ts.
import { err, StripeError } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { discountAmounts, redeem } from "./coupons.ts";
import { attemptPayment, draftInvoice, finalizeInvoice, invoiceIntent, lineAmount, markPaid, type Line } from "./invoices.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, Params, listJson, listQuery, metadata, pageOf, search, type Ctx } from "./wire.ts";
import { rateIds, taxRatesParam } from "./taxes.ts";
import { renewNow } from "./renewals.ts";
import { insertPrice } from "./catalog.ts";

export const DAY = 86_400;
export const TRIAL_WILL_END_DAYS = 3;
/** One subscription's renewal (jobs of worlds saved before RENEWALS; new ones use RENEWALS). */
export const RENEW = "stripe.subscription_renew";
/** Every renewal due at one instant (ref: unix seconds): the subscriptions are found by `renews_at`. */
export const RENEWALS = "stripe.subscription_renewals";
export const TRIAL_WILL_END = "stripe.subscription_trial_will_end";
export const RETRY = "stripe.invoice_retry";
export const EXPIRE = "stripe.subscription_incomplete_expire";
/** A subscription's `cancel_at` (ref: its id). */
export const CANCEL_AT = "stripe.subscription_cancel_at";
/** `pause_collection.resumes_at` (ref: the subscription's id). */
export const RESUME_COLLECTION = "stripe.subscription_resume_collection";
/** An incomplete subscription whose first invoice stays unpaid this long expires, as at Stripe. */
const INCOMPLETE_HOURS = 23;

/** Renews `subId` at `at` (unix seconds), with every other subscription due then. */
export function scheduleRenewal(s: Ctx, subId: string, at: number): void {
  s.k.sql.exec("UPDATE stripe_subscriptions SET renews_at = ? WHERE id = ?", at, subId);
  if (s.k.jobs.reschedule(RENEWALS, String(at), at * 1000) === 0) s.k.jobs.schedule("stripe", RENEWALS, at * 1000, {}, String(at));
}

export function cancelRenewal(s: Ctx, subId: string): void {
  s.k.sql.exec("UPDATE stripe_subscriptions SET renews_at = NULL WHERE id = ?", subId);
  s.k.jobs.cancel(RENEW, subId);
}

export function addInterval(unix: number, interval: string, count: number): number {
  const d = new Date(unix * 1000);
  if (interval === "day") d.setUTCDate(d.getUTCDate() + count);
  else if (interval === "week") d.setUTCDate(d.getUTCDate() + 7 * count);
  else if (interval === "month") d.setUTCMonth(d.getUTCMonth() + count);
  else d.setUTCFullYear(d.getUTCFullYear() + count);
  return Math.floor(d.getTime() / 1000);
}

export function planOf(price: Obj) {
  const r = price.recurring as Obj;
  return {
    id: price.id, object: "plan", active: price.active, amount: price.unit_amount, amount_decimal: String(price.unit_amount), billing_scheme: price.billing_scheme,
    created: price.created, currency: price.currency, interval: r.interval, interval_count: r.interval_count, livemode: false, metadata: price.metadata,
    meter: null, nickname: price.nickname, product: price.product, tiers_mode: null, transform_usage: null, trial_period_days: null, usage_type: r.usage_type,
  };
}

export const items = (sub: Obj) => (sub.items as { data: Obj[] }).data;

/** The payment method renewals charge: the subscription's, else the customer's invoice default. */
export function paymentMethodFor(s: Ctx, sub: Obj): string | null {
  if (sub.default_payment_method) return String(sub.default_payment_method);
  const c = s.store.find("customer", String(sub.customer));
  return ((c?.invoice_settings as Obj | undefined)?.default_payment_method as string | null) ?? null;
}

export function period(sub: Obj) {
  const it = items(sub)[0];
  return { start: Number(it.current_period_start), end: Number(it.current_period_end) };
}

export function withPeriod(sub: Obj, start: number, end: number): Obj {
  return { ...sub, items: { ...(sub.items as Obj), data: items(sub).map((i) => ({ ...i, current_period_start: start, current_period_end: end })) } };
}

interface SubInternal {
  /** Prorations waiting for the next invoice. */
  pending?: Line[];
}

const productName = (s: Ctx, price: Obj) => String(s.store.find("product", String(price.product))?.name ?? price.product);

export function invoiceFor(s: Ctx, sub: Obj, reason: string, start: number, end: number, zero: boolean, only?: Line[]): Obj {
  return finalizeInvoice(s, draftFor(s, sub, reason, start, end, zero, only));
}

/** The draft `invoiceFor` finalizes (a preview stops here). */
export function draftFor(s: Ctx, sub: Obj, reason: string, start: number, end: number, zero: boolean, only?: Line[]): Obj {
  const customer = s.store.get("customer", String(sub.customer));
  const internal = s.store.internal<SubInternal>("subscription", sub.id);
  const pending = only ?? internal.pending ?? [];
  if (!only && pending.length) s.store.setInternal("subscription", sub.id, { ...internal, pending: [] });
  const lines: Line[] = only ? [...pending] : [...pending, ...items(sub).map((i) => {
    const price = i.price as Obj;
    return {
      price: zero ? { ...price, unit_amount: 0 } : price,
      quantity: Number(i.quantity),
      period: { start, end },
      description: `${zero ? "Trial period for" : `${i.quantity} ×`} ${String(s.store.find("product", String(price.product))?.name ?? price.product)}`,
      subscriptionItem: i.id,
      taxRates: rateIds(i.tax_rates),
    };
  })];
  // A renewal takes in the customer's pending invoice items (those for another subscription wait).
  const pendingItems = reason === "subscription_cycle" ? s.store.list("invoiceitem", { limit: 250 }, { customer: customer.id, invoice: null, currency: sub.currency }).data.reverse()
    .filter((i) => { const of = ((i.parent as Obj | null)?.subscription_details as Obj | undefined)?.subscription; return !of || of === sub.id; }) : [];
  const subtotal = lines.reduce((n, l) => n + lineAmount(l), 0) + pendingItems.filter((i) => i.discountable).reduce((n, i) => n + Number(i.amount), 0);
  const discounts = discountAmounts(s, sub.discounts as string[], subtotal, String(sub.currency), start);
  const draft = draftInvoice(s, sub, customer, lines, reason, { start, end }, discounts, undefined, pendingItems);
  for (const i of pendingItems) s.store.save("invoiceitem", { ...i, invoice: draft.id });
  return draft;
}

export function createSubscription(s: Ctx, p: Params): Obj {
  p.allow("customer", "items", "trial_period_days", "trial_end", "trial_from_plan", "default_payment_method", "metadata", "cancel_at_period_end", "payment_behavior",
    "collection_method", "days_until_due", "description", "currency", "off_session", "payment_settings", "proration_behavior", "billing_cycle_anchor",
    "automatic_tax", "default_tax_rates", "discounts", "expand", "trial_settings", "backdate_start_date", "cancel_at", "add_invoice_items", "application_fee_percent",
    "billing_thresholds", "default_source", "on_behalf_of", "pending_invoice_item_interval", "transfer_data", "invoice_settings");
  refuseUnbuilt(p, ["backdate_start_date", "add_invoice_items", "pending_invoice_item_interval", "application_fee_percent", "on_behalf_of", "transfer_data", "default_source", "billing_thresholds"]);
  if (p.obj("automatic_tax")?.bool("enabled")) throw unbuilt("Automatic tax");
  const ts = p.obj("trial_settings");
  if (ts && ts.obj("end_behavior")?.str("missing_payment_method") !== "create_invoice") throw unbuilt("`trial_settings[end_behavior][missing_payment_method]` other than create_invoice");
  const is = p.obj("invoice_settings");
  if (is && (is.has("account_tax_ids") || (is.obj("issuer") && is.obj("issuer")!.str("type") !== "self"))) throw unbuilt("`invoice_settings` other than the default issuer");
  const customer = s.store.get("customer", p.reqStr("customer"), "customer");
  const rawItems = p.raw.items;
  const list = Array.isArray(rawItems) ? rawItems : rawItems && typeof rawItems === "object" ? Object.values(rawItems) : null;
  if (!list || list.length === 0) throw err.missingParam("items");
  const now = unixNow(s.k);
  const id = newId(s.k, "subscription");
  const subItems = list.map((raw, i) => {
    if (typeof raw !== "object" || raw === null) throw err.invalidObject(`items[${i}]`);
    const ip = new Params(raw as Record<string, unknown>, `items[${i}]`);
    ip.allow("price", "quantity", "metadata", "price_data", "tax_rates", "discounts", "billing_thresholds", "plan");
    refuseUnbuilt(ip, ["discounts", "billing_thresholds"]);
    const price = itemPrice(s, ip, `items[${i}]`);
    if (price.type !== "recurring") throw err.invalid(`The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`, { param: `items[${i}][price]` });
    return { id: s.k.ids.make("si_", 14), object: "subscription_item", billing_thresholds: null, created: now, current_period_end: 0, current_period_start: now, discounts: [], metadata: metadata(ip), plan: planOf(price), price, quantity: ip.int("quantity", { min: 0 }) ?? 1, subscription: id, tax_rates: taxRatesParam(s, ip, "tax_rates") ?? [] };
  });
  const first = subItems[0].price as Obj;
  const rec = first.recurring as Obj;
  for (const [i, it] of subItems.entries()) {
    const r = (it.price as Obj).recurring as Obj;
    if (r.interval !== rec.interval || r.interval_count !== rec.interval_count || (it.price as Obj).currency !== first.currency) {
      throw err.invalid("Currency and interval fields must match across all plans on a subscription.", { param: `items[${i}][price]` });
    }
  }
  const currency = p.str("currency");
  if (currency && currency.toLowerCase() !== first.currency) throw unbuilt("A subscription in a currency other than its prices' (currency_options)");
  const pm = p.str("default_payment_method") ?? null;
  if (pm && s.store.get("payment_method", pm, "default_payment_method").customer !== customer.id) {
    throw err.invalid(`The customer does not have a payment method with the ID ${pm}. The payment method must be attached to the customer.`, { param: "default_payment_method" });
  }
  let trialEnd: number | null = null;
  const tpd = p.int("trial_period_days", { min: 0, max: 730 });
  if (tpd) trialEnd = now + tpd * DAY;
  const te = p.str("trial_end");
  if (te && te !== "now") {
    trialEnd = p.int("trial_end")!;
    if (trialEnd <= now) throw err.invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", { param: "trial_end" });
  }
  if (!trialEnd && p.bool("trial_from_plan") && rec.trial_period_days) trialEnd = now + Number(rec.trial_period_days) * DAY;
  const fullPeriod = addInterval(now, String(rec.interval), Number(rec.interval_count));
  // A billing cycle anchor within the first period: that period ends there, prorated (or free).
  let anchor: number | null = null;
  if (p.has("billing_cycle_anchor")) {
    const at = p.int("billing_cycle_anchor", { required: true })!;
    if (at <= now) throw err.invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", { param: "billing_cycle_anchor" });
    if (trialEnd) throw unbuilt("`billing_cycle_anchor` together with a trial");
    if (at > fullPeriod) throw unbuilt("`billing_cycle_anchor` more than one billing period ahead");
    if (at < fullPeriod) anchor = at;
  }
  const prorationBehavior = p.oneOf("proration_behavior", ["create_prorations", "none", "always_invoice"]) ?? "create_prorations";
  const end = trialEnd ?? anchor ?? fullPeriod;
  const collection = p.oneOf("collection_method", ["charge_automatically", "send_invoice"]) ?? "charge_automatically";
  let sub: Obj = {
    id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: end,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: "classic" },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: p.bool("cancel_at_period_end") ?? false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: collection,
    created: now,
    currency: first.currency,
    customer: customer.id,
    customer_account: null,
    days_until_due: collection === "send_invoice" ? (p.int("days_until_due") ?? 30) : null,
    default_payment_method: pm,
    default_source: null,
    default_tax_rates: taxRatesParam(s, p, "default_tax_rates") ?? [],
    description: p.str("description") ?? null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
    items: { object: "list", data: subItems, has_more: false, total_count: subItems.length, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: metadata(p),
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: paymentSettings(p),
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: now,
    status: trialEnd ? "trialing" : "incomplete",
    test_clock: customer.test_clock ?? null,
    transfer_data: null,
    trial_end: trialEnd,
    trial_settings: { end_behavior: { missing_payment_method: "create_invoice" } },
    trial_start: trialEnd ? now : null,
  };
  sub = withPeriod(sub, now, end);
  const cancelAt = cancelAtParam(p, now, end);
  if (cancelAt) Object.assign(sub, { cancel_at: cancelAt, canceled_at: now, cancel_at_period_end: false });
  sub.discounts = redeem(s, p.raw.discounts, customer.id, id).map((d) => d.id);
  s.store.insert("subscription", sub);
  emit(s, "customer.subscription.created", sub);
  let prorated: Line[] | undefined;
  if (anchor) {
    const start = addInterval(anchor, String(rec.interval), -Number(rec.interval_count));
    const fraction = (anchor - now) / (anchor - start);
    const day = new Date(now * 1000).toISOString().slice(0, 10);
    prorated = subItems.map((i) => {
      const price = i.price as Obj;
      const amount = prorationBehavior === "none" ? 0 : Math.round(Number(price.unit_amount) * Number(i.quantity) * fraction);
      return { price, quantity: Number(i.quantity), period: { start: now, end: anchor }, subscriptionItem: i.id, proration: true, taxRates: rateIds(i.tax_rates), amount, description: `Remaining time on ${i.quantity} × ${productName(s, price)} after ${day}` };
    });
  }
  const inv = invoiceFor(s, sub, "subscription_create", now, end, !!trialEnd, prorated);
  const behavior = p.oneOf("payment_behavior", ["allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"]) ?? "allow_incomplete";
  let status = String(sub.status);
  if (trialEnd || collection === "send_invoice") {
    if (trialEnd) attemptPayment(s, inv, null);
    status = trialEnd ? "trialing" : "active";
  } else if (behavior !== "default_incomplete") {
    const r = attemptPayment(s, inv, paymentMethodFor(s, sub));
    if (!r.paid && behavior === "error_if_incomplete") throw new StripeError(402, { ...r.error });
    status = r.paid ? "active" : "incomplete";
  } else if (Number(inv.amount_remaining) > 0) {
    // The customer confirms the invoice's PaymentIntent (its confirmation_secret) in the browser.
    invoiceIntent(s, inv, true);
  } else {
    markPaid(s, inv, null);
    status = "active";
  }
  const before = s.store.get("subscription", id);
  sub = { ...before, status, latest_invoice: inv.id };
  s.store.save("subscription", sub);
  if (status !== before.status) emit(s, "customer.subscription.updated", sub, changed(before, sub));
  if (trialEnd && trialEnd - TRIAL_WILL_END_DAYS * DAY > now) s.k.jobs.schedule("stripe", TRIAL_WILL_END, (trialEnd - TRIAL_WILL_END_DAYS * DAY) * 1000, {}, id);
  if (cancelAt) s.k.jobs.schedule("stripe", CANCEL_AT, cancelAt * 1000, {}, id);
  if (status !== "incomplete") scheduleRenewal(s, id, end);
  else s.k.jobs.schedule("stripe", EXPIRE, (now + INCOMPLETE_HOURS * 3600) * 1000, {}, id);
  return sub;
}

const unbuilt = (what: string) => new StripeError(501, { type: "api_error", code: "not_implemented", message: `${what} is not implemented by the Stripe clone yet.` });

/** A subscription item's price: `price` (or a legacy `plan`), or one made from `price_data`. */
export function itemPrice(s: Ctx, ip: Params, name: string, fallback: Obj | null = null): Obj {
  const pd = ip.obj("price_data");
  const priceId = ip.str("price") ?? ip.str("plan") ?? null;
  if (pd && priceId) throw err.invalid(`You may only specify one of these parameters: price, price_data.`, { param: `${name}[price]` });
  if (pd) {
    pd.allow("currency", "product", "recurring", "unit_amount", "unit_amount_decimal", "tax_behavior");
    if (!pd.has("recurring")) throw err.missingParam(`${name}[price_data][recurring]`);
    const product = s.store.get("product", pd.reqStr("product"), `${name}[price_data][product]`);
    return insertPrice(s, pd, product.id, `${name}[price_data]`);
  }
  if (!priceId) {
    if (fallback) return fallback;
    throw err.missingParam(`${name}[price]`);
  }
  const price = s.store.get("price", priceId, `${name}[price]`);
  if (!price.active) throw err.invalid(`The price specified is inactive. This field only accepts active prices.`, { param: `${name}[price]` });
  return price;
}

/** Parameters the clone takes but does not act on: anything but their neutral value is a 501. */
function refuseUnbuilt(p: Params, keys: string[]): void {
  for (const key of keys) {
    const v = p.raw[key];
    if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    throw unbuilt(`Subscriptions with \`${key}\``);
  }
}

/**
 * `cancel_at`: a future time within the current period ("" unsets it). Stripe also takes a time in
 * a later period and bills the last one prorated; the clone answers that with a 501.
 */
function cancelAtParam(p: Params, now: number, periodEnd: number): number | null | undefined {
  if (!p.has("cancel_at")) return undefined;
  if (p.has("cancel_at_period_end")) throw err.invalid("You may only specify one of these parameters: cancel_at, cancel_at_period_end.", { param: "cancel_at" });
  const at = p.int("cancel_at");
  if (at === undefined) return null;
  if (at <= now) throw err.invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", { param: "cancel_at" });
  if (at > periodEnd) {
    throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "cancel_at after the end of the current period (a prorated last period) is not implemented by the Stripe clone yet." });
  }
  return at;
}

/** `payment_settings`: whether the card that pays the first invoice becomes the subscription's default. */
function paymentSettings(p: Params): Obj {
  const ps = p.obj("payment_settings");
  ps?.allow("save_default_payment_method", "payment_method_types", "payment_method_options");
  const types = ps?.strings("payment_method_types") ?? null;
  for (const [i, t] of (types ?? []).entries()) if (t !== "card") throw err.invalid(`The payment method type provided: ${t} is invalid. The Stripe clone supports card.`, { param: `payment_settings[payment_method_types][${i}]` });
  if (ps?.has("payment_method_options")) {
    throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "payment_settings[payment_method_options] is not implemented by the Stripe clone yet." });
  }
  return {
    payment_method_options: null,
    payment_method_types: types,
    save_default_payment_method: ps?.oneOf("save_default_payment_method", ["off", "on_subscription"]) ?? "off",
  } as unknown as Obj;
}

/** `pause_collection`: how renewal invoices are handled while paused, until `resumes_at`. */
function pauseParam(s: Ctx, p: Params): Obj | null | undefined {
  const pc = p.obj("pause_collection");
  if (pc === undefined || pc === null) return pc;
  pc.allow("behavior", "resumes_at");
  const behavior = pc.oneOf("behavior", ["keep_as_draft", "mark_uncollectible", "void"], { required: true });
  const resumes = pc.int("resumes_at") ?? null;
  if (resumes !== null && resumes <= unixNow(s.k)) throw err.invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", { param: "pause_collection[resumes_at]" });
  return { behavior, resumes_at: resumes } as unknown as Obj;
}

export function updateSubscription(s: Ctx, id: string, p: Params): Obj {
  p.allow("metadata", "cancel_at_period_end", "default_payment_method", "description", "items", "proration_behavior", "proration_date", "payment_behavior", "off_session", "cancellation_details", "default_tax_rates",
    "trial_end", "pause_collection", "cancel_at");
  const before = s.store.get("subscription", id);
  if (before.status === "canceled") throw err.invalid("A canceled subscription can only update its cancellation_details and metadata.", { param: "cancel_at_period_end" });
  const now = unixNow(s.k);
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  let endTrialNow = false;
  if (p.has("trial_end")) {
    if (before.status !== "trialing") {
      throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "Adding a trial to a subscription that is not trialing is not implemented by the Stripe clone yet." });
    }
    const te = p.str("trial_end");
    const at = te === "now" ? now : p.int("trial_end", { required: true })!;
    if (te !== "now" && at <= now) throw err.invalid("Invalid timestamp: must be an integer Unix timestamp in the future.", { param: "trial_end" });
    // The trial's period ends then, and the next one (paid) starts: the billing cycle is anchored there.
    Object.assign(next, withPeriod(next, period(before).start, at), { trial_end: at, billing_cycle_anchor: at });
    s.k.jobs.cancel(TRIAL_WILL_END, id);
    if (te === "now") endTrialNow = true;
    else {
      if (at - TRIAL_WILL_END_DAYS * DAY > now) s.k.jobs.schedule("stripe", TRIAL_WILL_END, (at - TRIAL_WILL_END_DAYS * DAY) * 1000, {}, id);
      scheduleRenewal(s, id, at);
    }
  }
  if (p.has("items")) changeItems(s, next, p);
  if (p.has("description")) next.description = p.str("description") ?? null;
  if (p.has("cancellation_details")) next.cancellation_details = cancellationDetails(p, next.cancellation_details as Obj);
  // New rates tax the next invoice; the current period's lines are not re-rated, as at Stripe.
  if (p.has("default_tax_rates")) next.default_tax_rates = taxRatesParam(s, p, "default_tax_rates") ?? [];
  if (p.has("cancel_at_period_end")) {
    next.cancel_at_period_end = p.bool("cancel_at_period_end") ?? false;
    next.cancel_at = next.cancel_at_period_end ? period(next).end : null;
    next.canceled_at = next.cancel_at_period_end ? now : null;
    s.k.jobs.cancel(CANCEL_AT, id);
  }
  const cancelAt = cancelAtParam(p, now, period(next).end);
  if (cancelAt !== undefined) {
    Object.assign(next, { cancel_at: cancelAt, cancel_at_period_end: false, canceled_at: cancelAt ? now : null });
    s.k.jobs.cancel(CANCEL_AT, id);
    if (cancelAt) s.k.jobs.schedule("stripe", CANCEL_AT, cancelAt * 1000, {}, id);
  }
  const pause = pauseParam(s, p);
  if (pause !== undefined) {
    next.pause_collection = pause;
    s.k.jobs.cancel(RESUME_COLLECTION, id);
    const resumes = (pause as { resumes_at: number | null } | null)?.resumes_at;
    if (resumes) s.k.jobs.schedule("stripe", RESUME_COLLECTION, resumes * 1000, {}, id);
  }
  if (p.has("default_payment_method")) {
    const pm = p.str("default_payment_method") ?? null;
    if (pm && s.store.get("payment_method", pm, "default_payment_method").customer !== before.customer) {
      throw err.invalid(`The customer does not have a payment method with the ID ${pm}. The payment method must be attached to the customer.`, { param: "default_payment_method" });
    }
    next.default_payment_method = pm;
  }
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("subscription", next);
  emit(s, "customer.subscription.updated", next, prev);
  // Ending the trial now bills the first paid period at once, as a renewal would.
  if (endTrialNow) {
    renewNow(s, id, "subscription_update");
    return s.store.get("subscription", id);
  }
  return next;
}

export function endSubscription(s: Ctx, sub: Obj, reason: string): Obj {
  const now = unixNow(s.k);
  // A subscription ended by hand (or by dunning) ends its schedule too.
  const sched = sub.schedule ? s.store.find("subscription_schedule", String(sub.schedule)) : null;
  if (sched && sched.status === "active") {
    const canceled = { ...sched, status: "canceled", canceled_at: now, current_phase: null };
    s.store.save("subscription_schedule", canceled);
    emit(s, "subscription_schedule.canceled", canceled, changed(sched, canceled));
  }
  const next: Obj = { ...sub, status: "canceled", canceled_at: sub.canceled_at ?? now, ended_at: now, cancellation_details: { ...(sub.cancellation_details as Obj), reason } };
  s.store.save("subscription", next);
  cancelRenewal(s, sub.id);
  for (const job of [TRIAL_WILL_END, EXPIRE]) s.k.jobs.cancel(job, sub.id);
  emit(s, "customer.subscription.deleted", next);
  return next;
}

/** What the customer said: `comment` and `feedback` (Stripe keeps `reason` to itself). */
function cancellationDetails(p: Params, prior: Obj | null): Obj {
  const cd = p.obj("cancellation_details");
  const base = (prior ?? { comment: null, feedback: null, reason: null }) as Obj;
  if (!cd) return base;
  cd.allow("comment", "feedback");
  const feedback = ["customer_service", "low_quality", "missing_features", "other", "switched_service", "too_complex", "too_expensive", "unused"] as const;
  return {
    ...base,
    comment: cd.has("comment") ? (cd.str("comment") ?? null) : base.comment,
    feedback: cd.has("feedback") ? (cd.raw.feedback === "" ? null : (cd.oneOf("feedback", feedback) ?? null)) : base.feedback,
  } as Obj;
}

export function cancelSubscription(s: Ctx, id: string, p: Params): Obj {
  p.allow("invoice_now", "prorate", "cancellation_details");
  if (p.bool("invoice_now") || p.bool("prorate")) throw unbuilt("Cancelling with `invoice_now` or `prorate` (a final invoice crediting unused time)");
  const sub = s.store.get("subscription", id);
  if (sub.status === "canceled") throw err.invalid(`No such subscription: '${id}'`, { code: "resource_missing", param: "id", status: 404 });
  const details = cancellationDetails(p, sub.cancellation_details as Obj);
  return endSubscription(s, { ...sub, cancellation_details: details }, "cancellation_requested");
}

export function listSubscriptions(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer", "status", "price", "collection_method", "current_period_end", "current_period_start", "test_clock", "automatic_tax");
  const status = p.str("status") ?? undefined;
  const q = listQuery(p);
  const customer = p.str("customer") ?? undefined;
  // Subscriptions on a test clock are listed only for their clock or their customer, as at Stripe.
  const where = { customer, status: status && status !== "all" ? status : undefined, test_clock: p.str("test_clock") ?? (customer ? undefined : null) };
  // Without a status Stripe lists every subscription that is not canceled.
  if (!status) {
    const all = s.store.list("subscription", { ...q, limit: 10_000 }, where).data.filter((x) => x.status !== "canceled");
    return listJson("/v1/subscriptions", { data: all.slice(0, q.limit), has_more: all.length > q.limit });
  }
  return listJson("/v1/subscriptions", s.store.list("subscription", q, where));
}

export const searchSubscriptions = (s: Ctx, p: Params) => search(s, p, "subscription", "subscriptions", ["created", "status"]);

/**
 * Changes prices or quantities of a subscription's items (same billing interval). With
 * `create_prorations` (the default) the unused time of the old items is credited and the rest of
 * the period of the new ones charged on the next invoice; `always_invoice` invoices it now.
 */
function changeItems(s: Ctx, sub: Obj, p: Params): void {
  const raw = p.raw.items;
  const list = Array.isArray(raw) ? raw : raw && typeof raw === "object" ? Object.values(raw) : null;
  if (!list) throw err.invalidArray("items");
  const behavior = p.oneOf("proration_behavior", ["create_prorations", "always_invoice", "none"]) ?? "create_prorations";
  const now = unixNow(s.k);
  const { start, end } = period(sub);
  const rec = (items(sub)[0].price as Obj).recurring as Obj;
  let current = items(sub).map((i) => ({ ...i }));
  const prorations: Line[] = [];
  const fraction = end > start ? Math.max(0, end - now) / (end - start) : 0;
  const prorate = behavior !== "none" && sub.status !== "trialing" && fraction > 0;
  const day = new Date(now * 1000).toISOString().slice(0, 10);
  list.forEach((rawItem, i) => {
    const ip = new Params(rawItem as Record<string, unknown>, `items[${i}]`);
    ip.allow("id", "price", "quantity", "deleted", "metadata", "clear_usage", "plan", "tax_rates", "discounts", "price_data", "billing_thresholds");
    const itemId = ip.str("id") ?? null;
    const old = itemId ? current.find((x) => x.id === itemId) : undefined;
    if (itemId && !old) throw err.invalid(`No such subscription item: '${itemId}'`, { code: "resource_missing", param: `items[${i}][id]`, status: 404 });
    refuseUnbuilt(ip, ["discounts", "billing_thresholds"]);
    const price = itemPrice(s, ip, `items[${i}]`, (old?.price as Obj | undefined) ?? null);
    const r = price.recurring as Obj | null;
    if (!r || r.interval !== rec.interval || r.interval_count !== rec.interval_count) {
      throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "Changing a subscription's billing interval is not implemented by the Stripe clone yet." });
    }
    const deleted = ip.bool("deleted") ?? false;
    const quantity = ip.int("quantity", { min: 0 }) ?? Number(old?.quantity ?? 1);
    // Only a change of what is billed is prorated (not one of metadata or tax rates).
    const billed = !old || deleted || price.id !== (old.price as Obj).id || quantity !== Number(old.quantity);
    if (old && prorate && billed) {
      const oldPrice = old.price as Obj;
      prorations.push({ price: oldPrice, quantity: Number(old.quantity), period: { start: now, end }, subscriptionItem: old.id, proration: true, taxRates: rateIds(old.tax_rates), amount: -Math.round(Number(oldPrice.unit_amount) * Number(old.quantity) * fraction), description: `Unused time on ${old.quantity} × ${productName(s, oldPrice)} after ${day}` });
    }
    if (deleted) {
      current = current.filter((x) => x.id !== itemId);
      return;
    }
    const item = old ?? { id: s.k.ids.make("si_", 14), object: "subscription_item", billing_thresholds: null, created: now, current_period_end: end, current_period_start: start, discounts: [], metadata: {}, subscription: sub.id, tax_rates: [] };
    const rates = taxRatesParam(s, ip, "tax_rates");
    if (!old && current.some((x) => (x.price as Obj).id === price.id)) {
      throw err.invalid(`Cannot add multiple subscription items with the same price: ${String(price.id)}. Update the existing item's quantity instead.`, { param: `items[${i}][price]` });
    }
    Object.assign(item, { price, plan: planOf(price), quantity, metadata: metadata(ip, (item.metadata as Record<string, string>) ?? {}), tax_rates: rates ?? item.tax_rates });
    if (!old) current.push(item);
    if (prorate && billed) prorations.push({ price, quantity, period: { start: now, end }, subscriptionItem: item.id, proration: true, taxRates: rateIds(item.tax_rates), amount: Math.round(Number(price.unit_amount) * quantity * fraction), description: `Remaining time on ${quantity} × ${productName(s, price)} after ${day}` });
  });
  if (current.length === 0) throw err.invalid("A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint on /v1/subscriptions.", { param: "items" });
  sub.items = { ...(sub.items as Obj), data: current, total_count: current.length };
  if (!prorations.length) return;
  const net = prorations.reduce((n, l) => n + lineAmount(l), 0);
  if (behavior === "always_invoice" && net > 0) {
    s.store.save("subscription", sub);
    const inv = invoiceFor(s, sub, "subscription_update", now, end, false, prorations);
    sub.latest_invoice = inv.id;
    attemptPayment(s, inv, paymentMethodFor(s, sub));
    return;
  }
  const internal = s.store.internal<SubInternal>("subscription", sub.id);
  s.store.setInternal("subscription", sub.id, { ...internal, pending: [...(internal.pending ?? []), ...prorations] });
}

/**
 * An item's change goes through its subscription's: the same prorations and
 * customer.subscription.updated. Errors name the item's own parameters (`price`, not `items[0][price]`).
 */
function itemChange(s: Ctx, subId: string, item: Record<string, unknown>, p: Params): Obj {
  const top: Record<string, unknown> = { items: [item] };
  for (const k of CHANGE_FIELDS) if (p.raw[k] !== undefined) top[k] = p.raw[k];
  try {
    return updateSubscription(s, subId, new Params(top));
  } catch (e) {
    const param = e instanceof StripeError ? e.body.param : undefined;
    if (!(e instanceof StripeError) || typeof param !== "string" || !param.startsWith("items")) throw e;
    const own = param.replace(/^items(\[0\])?\[?/, "").replace(/^([a-z_]+)\]/, "$1");
    throw new StripeError(e.statusCode, { ...e.body, param: own || "id" }, e.committed);
  }
}

/** The item's own parameters, as they go into the subscription's `items[0]`. */
function itemFields(p: Params, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => p.raw[k] !== undefined).map((k) => [k, p.raw[k]]));
}

const CHANGE_FIELDS = ["proration_behavior", "proration_date", "payment_behavior"];
const ITEM_FIELDS = ["price", "plan", "quantity", "metadata", "tax_rates", "discounts", "price_data", "billing_thresholds"];

export function createSubscriptionItem(s: Ctx, p: Params): Obj {
  p.allow("subscription", ...ITEM_FIELDS, ...CHANGE_FIELDS);
  const subId = p.reqStr("subscription");
  const before = s.store.get("subscription", subId, "subscription");
  if (!p.has("price") && !p.has("plan") && !p.has("price_data")) throw err.missingParam("price");
  const known = new Set(items(before).map((i) => i.id));
  const after = itemChange(s, subId, itemFields(p, ITEM_FIELDS), p);
  return items(after).find((i) => !known.has(i.id))!;
}

export function updateSubscriptionItem(s: Ctx, id: string, p: Params): Obj {
  p.allow(...ITEM_FIELDS, ...CHANGE_FIELDS, "off_session");
  const item = retrieveSubscriptionItem(s, id);
  const after = itemChange(s, String(item.subscription), { id, ...itemFields(p, ITEM_FIELDS) }, p);
  return items(after).find((i) => i.id === id)!;
}

export function deleteSubscriptionItem(s: Ctx, id: string, p: Params) {
  p.allow("clear_usage", ...CHANGE_FIELDS);
  const item = retrieveSubscriptionItem(s, id);
  itemChange(s, String(item.subscription), { id, deleted: "true" }, p);
  return { id, object: "subscription_item", deleted: true };
}

/** Subscription items live inside their subscription, as Stripe nests them. */
export function listSubscriptionItems(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "subscription");
  const sub = s.store.get("subscription", p.reqStr("subscription"), "subscription");
  const all = items(sub);
  return pageOf(all, listQuery(p), "/v1/subscription_items", "subscription item");
}

export function retrieveSubscriptionItem(s: Ctx, id: string): Obj {
  const row = s.k.sql.exec<{ data: string }>(
    "SELECT data FROM stripe_subscriptions WHERE EXISTS (SELECT 1 FROM json_each(data, '$.items.data') WHERE json_extract(value, '$.id') = ?)", id,
  ).toArray()[0];
  const item = row ? items(JSON.parse(row.data) as Obj).find((i) => i.id === id) : undefined;
  if (!item) throw err.missing("subscription item", id);
  return item;
}
