// Checkout sessions (payment, subscription and setup modes) and the hosted page the clone serves
// for them: its form pays with a chosen test card (or cancels), completes the session, fires
// checkout.session.completed and redirects to success_url, as Stripe's hosted page does.
import { err, StripeError } from "./errors.ts";
import { emit } from "./events.ts";
import { createCustomer } from "./customers.ts";
import { createIntent } from "./payment-intents.ts";
import { attachPaymentMethod, resolvePaymentMethod } from "./payment-methods.ts";
import { createSetupIntent } from "./setup-intents.ts";
import { createSubscription } from "./subscriptions.ts";
import { createPrice } from "./catalog.ts";
import { createShippingRate } from "./shipping-rates.ts";
import { lineTaxes, rateIds, taxRatesParam } from "./taxes.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import type { Kernel } from "../../kernel/types.ts";
import { LIST_PARAMS, Params, ctxOf, listJson, listQuery, metadata, pageOf, type Ctx } from "./wire.ts";

const DEFAULT_TTL = 24 * 3600;
export const EXPIRE_JOB = "stripe.checkout_expire";

interface Item {
  id: string;
  price: Obj;
  quantity: number;
  /** Ids of the line's tax rates. */
  taxRates: string[];
}

/** A line's amounts: exclusive taxes are added to its total, inclusive ones are part of its subtotal. */
function amounts(s: Ctx, price: Obj, quantity: number, taxRates: string[]): { subtotal: number; tax: number; total: number } {
  const subtotal = Number(price.unit_amount) * quantity;
  const taxes = lineTaxes(subtotal, taxRates.map((id) => s.store.get("tax_rate", id)));
  const exclusive = taxes.filter((t) => t.tax_behavior === "exclusive").reduce((n, t) => n + t.amount, 0);
  return { subtotal, tax: taxes.reduce((n, t) => n + t.amount, 0), total: subtotal + exclusive };
}

/** The hosted page's path: the world id routes it without a key; the session id is the capability. */
export const hostedPath = (worldId: string, id: string) => `/c/pay/${worldId}/${id}`;

function lineItems(s: Ctx, p: Params, mode: string): Item[] {
  const raw = p.raw.line_items;
  const list = Array.isArray(raw) ? raw : raw && typeof raw === "object" ? Object.values(raw) : null;
  if (!list || list.length === 0) {
    if (mode === "setup") return [];
    throw err.missingParam("line_items");
  }
  if (mode === "setup") throw err.invalid("You cannot pass `line_items` in `setup` mode.", { param: "line_items" });
  return list.map((r, i) => {
    const ip = new Params(r as Record<string, unknown>, `line_items[${i}]`);
    ip.allow("price", "price_data", "quantity", "adjustable_quantity", "dynamic_tax_rates", "tax_rates", "metadata");
    let price: Obj;
    const pid = ip.str("price");
    const pd = ip.obj("price_data");
    if (pid) price = s.store.get("price", pid, `line_items[${i}][price]`);
    else if (pd) {
      pd.allow("currency", "unit_amount", "unit_amount_decimal", "product", "product_data", "recurring", "tax_behavior");
      price = createPrice(s, pd);
    } else throw err.invalid(`You must specify either \`price\` or \`price_data\` in line_items[${i}].`, { code: "parameter_missing", param: `line_items[${i}][price]` });
    if (mode === "payment" && price.type === "recurring") {
      throw err.invalid("You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.", { param: `line_items[${i}][price]` });
    }
    // Dynamic rates apply by the buyer's address, which the clone's page does not collect: none applies, as at Stripe without a matching address.
    taxRatesParam(s, ip, "dynamic_tax_rates");
    return { id: s.k.ids.make("li_", 24), price, quantity: ip.int("quantity", { min: 1 }) ?? 1, taxRates: rateIds(taxRatesParam(s, ip, "tax_rates")) };
  });
}

/** `shipping_options[]` (up to 5 rates, or rates made inline): the first is the one the session charges. */
function shippingOptions(s: Ctx, p: Params, mode: string, currency: string | null): { shipping_amount: number; shipping_rate: string }[] {
  const raw = p.raw.shipping_options;
  if (raw === undefined || raw === "") return [];
  if (mode === "setup") throw err.invalid("You cannot pass `shipping_options` in `setup` mode.", { param: "shipping_options" });
  if (mode === "subscription") throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "shipping_options in subscription mode are not implemented by the Stripe clone yet." });
  const list = Array.isArray(raw) ? raw : typeof raw === "object" && raw !== null ? Object.values(raw) : null;
  if (!list) throw err.invalidArray("shipping_options");
  if (list.length > 5) throw err.invalid("You may only specify up to 5 shipping options.", { param: "shipping_options" });
  return list.map((r, i) => {
    if (typeof r !== "object" || r === null || Array.isArray(r)) throw err.invalidObject(`shipping_options[${i}]`);
    const op = new Params(r as Record<string, unknown>, `shipping_options[${i}]`);
    op.allow("shipping_rate", "shipping_rate_data");
    const id = op.str("shipping_rate");
    const data = op.obj("shipping_rate_data");
    if (!!id === !!data) throw err.invalid(`You must specify exactly one of \`shipping_rate\` or \`shipping_rate_data\` in shipping_options[${i}].`, { param: `shipping_options[${i}]` });
    const rate = id ? s.store.get("shipping_rate", id, `shipping_options[${i}][shipping_rate]`) : createShippingRate(s, data!);
    if (!rate.active) throw err.invalid(`The shipping rate ${rate.id} is inactive and cannot be used.`, { param: `shipping_options[${i}][shipping_rate]` });
    const fixed = rate.fixed_amount as { amount: number; currency: string; currency_options?: Record<string, { amount: number }> };
    const amount = fixed.currency === currency ? fixed.amount : currency ? fixed.currency_options?.[currency]?.amount : undefined;
    if (amount === undefined) {
      throw err.invalid(`The shipping rate ${rate.id} has no amount in ${String(currency)}, the currency of this Checkout Session.`, { param: `shipping_options[${i}][shipping_rate]` });
    }
    return { shipping_amount: amount, shipping_rate: rate.id };
  });
}

const unbuilt = (what: string) => new StripeError(501, { type: "api_error", code: "not_implemented", message: `${what} is not implemented by the Stripe clone yet.` });

/**
 * Options whose Checkout behaviour the clone's page does not have (collecting a phone number or a
 * shipping address, embedded mode, automatic tax...): anything but their neutral value is a 501.
 */
function refuseUnbuilt(p: Params): void {
  const on = (key: string, sub = "enabled") => {
    const o = p.raw[key] as Record<string, unknown> | undefined;
    return !!o && typeof o === "object" && (o[sub] === "true" || o[sub] === true);
  };
  const ui = p.str("ui_mode");
  if (ui && ui !== "hosted") throw unbuilt(`Checkout with ui_mode=${ui}`);
  for (const key of ["automatic_tax", "phone_number_collection", "tax_id_collection", "invoice_creation", "adaptive_pricing"]) if (on(key)) throw unbuilt(`Checkout with \`${key}[enabled]\``);
  for (const key of ["shipping_address_collection", "custom_fields", "consent_collection", "after_expiration", "saved_payment_method_options", "payment_method_options", "permissions",
    "wallet_options", "setup_intent_data", "origin_context"]) {
    const v = p.raw[key];
    if (v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0)) throw unbuilt(`Checkout with \`${key}\``);
  }
  const pmc = p.str("payment_method_collection");
  if (pmc && pmc !== "always") throw unbuilt(`Checkout with payment_method_collection=${pmc}`);
  for (const [i, t] of (p.strings("payment_method_types") ?? []).entries()) {
    if (t !== "card") throw err.invalid(`The payment method type provided: ${t} is invalid. The Stripe clone supports card.`, { param: `payment_method_types[${i}]` });
  }
}

/** `discounts`: one coupon or promotion code, checked now and redeemed when the session completes. */
function sessionDiscount(s: Ctx, p: Params, customer: string | null): { coupon: Obj; promotion: Obj | null } | null {
  const raw = p.raw.discounts;
  if (raw === undefined || raw === "") return null;
  if (p.bool("allow_promotion_codes")) throw err.invalid("You may only specify one of these parameters: allow_promotion_codes, discounts.", { param: "discounts" });
  const list = Array.isArray(raw) ? raw : typeof raw === "object" && raw !== null ? Object.values(raw) : null;
  if (!list) throw err.invalidArray("discounts");
  if (list.length === 0) return null;
  if (list.length > 1) throw err.invalid("You may only specify one discount for a Checkout Session.", { param: "discounts" });
  const d = new Params(list[0] as Record<string, unknown>, "discounts[0]");
  d.allow("coupon", "promotion_code");
  const promoId = d.str("promotion_code") ?? null;
  const promotion = promoId ? s.store.get("promotion_code", promoId, "discounts[0][promotion_code]") : null;
  if (promotion && (!promotion.active || (promotion.customer && promotion.customer !== customer))) {
    throw err.invalid(`This promotion code cannot be redeemed: ${promotion.code}.`, { code: "promotion_code_invalid", param: "discounts[0][promotion_code]" });
  }
  const couponId = promotion ? String((promotion.promotion as Obj).coupon) : d.str("coupon");
  if (!couponId) throw err.missingParam("discounts[0][coupon]");
  const coupon = s.store.get("coupon", couponId, "discounts[0][coupon]");
  if (!coupon.valid) throw err.invalid(`Coupon expired: ${coupon.id}`, { code: "coupon_expired", param: "discounts[0][coupon]" });
  return { coupon, promotion };
}

export function createSession(s: Ctx, p: Params): Obj {
  p.allow("mode", "line_items", "success_url", "cancel_url", "return_url", "customer", "customer_email", "client_reference_id", "metadata", "payment_method_types",
    "allow_promotion_codes", "discounts", "subscription_data", "payment_intent_data", "setup_intent_data", "expires_at", "ui_mode", "customer_creation",
    "billing_address_collection", "locale", "submit_type", "currency", "automatic_tax", "phone_number_collection", "shipping_address_collection",
    "payment_method_collection", "consent_collection", "custom_fields", "custom_text", "invoice_creation", "tax_id_collection", "saved_payment_method_options",
    "after_expiration", "payment_method_options", "redirect_on_completion", "adaptive_pricing", "origin_context", "permissions", "wallet_options", "shipping_options");
  refuseUnbuilt(p);
  const mode = p.oneOf("mode", ["payment", "setup", "subscription"]) ?? "payment";
  const items = lineItems(s, p, mode);
  if (mode === "subscription" && !items.some((i) => i.price.type === "recurring")) {
    throw err.invalid("You must provide at least one recurring price in `subscription` mode when using prices.", { param: "line_items" });
  }
  const customer = p.str("customer") ?? null;
  if (customer) s.store.get("customer", customer, "customer");
  const currency = (items[0]?.price.currency as string | undefined) ?? p.str("currency") ?? null;
  if (mode === "setup" && !currency) throw err.missingParam("currency");
  const priced = items.map((i) => amounts(s, i.price, i.quantity, i.taxRates));
  const subtotal = priced.reduce((n, a) => n + a.subtotal, 0);
  const tax = priced.reduce((n, a) => n + a.tax, 0);
  const discount = mode === "setup" ? null : sessionDiscount(s, p, customer);
  // Taxes are computed on discounted amounts at Stripe; the clone does not split a discount across taxed lines.
  if (discount && tax) throw unbuilt("A Checkout Session with both a discount and tax rates");
  const off = discount ? Math.min(subtotal, discount.coupon.percent_off !== null ? Math.round((subtotal * Number(discount.coupon.percent_off)) / 100) : discount.coupon.currency === currency ? Number(discount.coupon.amount_off) : 0) : 0;
  const itemsTotal = priced.reduce((n, a) => n + a.total, 0) - off;
  const shipping = shippingOptions(s, p, mode, currency);
  const shippingAmount = shipping[0]?.shipping_amount ?? 0;
  const now = unixNow(s.k);
  const id = newId(s.k, "checkout.session");
  const expiresAt = p.int("expires_at") ?? now + DEFAULT_TTL;
  if (expiresAt < now + 1800 || expiresAt > now + DEFAULT_TTL) throw err.invalid("The `expires_at` timestamp must be between 30 minutes and 24 hours from now.", { param: "expires_at" });
  const pid = p.obj("payment_intent_data");
  pid?.allow("capture_method", "metadata", "setup_future_usage", "description", "receipt_email", "statement_descriptor", "statement_descriptor_suffix");
  const sd = p.obj("subscription_data");
  sd?.allow("trial_period_days", "metadata", "description", "trial_end", "default_tax_rates", "trial_settings", "billing_cycle_anchor", "proration_behavior");
  const session: Obj = {
    id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: p.bool("allow_promotion_codes") ?? null,
    amount_subtotal: mode === "setup" ? null : subtotal,
    amount_total: mode === "setup" ? null : itemsTotal + shippingAmount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: p.str("billing_address_collection") ?? null,
    cancel_url: p.str("cancel_url") ?? null,
    client_reference_id: p.str("client_reference_id") ?? null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: now,
    currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer,
    customer_account: null,
    customer_creation: customer ? null : (p.oneOf("customer_creation", ["always", "if_required"]) ?? "if_required"),
    customer_details: null,
    customer_email: p.str("customer_email") ?? null,
    discounts: discount ? [{ coupon: discount.coupon.id, promotion_code: discount.promotion?.id ?? null }] : [],
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: p.str("locale") ?? null,
    managed_payments: null,
    metadata: metadata(p),
    mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: mode === "payment" ? null : "always",
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_status: mode === "setup" ? "no_payment_required" : "unpaid",
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: shipping[0] ? { amount_subtotal: shippingAmount, amount_tax: 0, amount_total: shippingAmount, shipping_rate: shipping[0].shipping_rate } : null,
    shipping_options: shipping,
    status: "open",
    submit_type: p.str("submit_type") ?? null,
    subscription: null,
    success_url: p.str("success_url") ?? null,
    total_details: mode === "setup" ? null : { amount_discount: off, amount_shipping: shippingAmount, amount_tax: tax },
    ui_mode: "hosted",
    url: `${s.k.world().urls.stripe}${hostedPath(s.k.world().worldId, id)}`,
    wallet_options: null,
  };
  // A subscription takes the discount when it is created (and redeems it then).
  const sub = { ...(sd?.raw ?? {}), ...(mode === "subscription" && discount ? { discounts: [discount.promotion ? { promotion_code: discount.promotion.id } : { coupon: discount.coupon.id }] } : {}) };
  s.store.insert("checkout.session", session, { items: items.map((i) => ({ id: i.id, price: i.price.id, quantity: i.quantity, taxRates: i.taxRates })), pi: pid?.raw ?? {}, sub });
  s.k.jobs.schedule("stripe", EXPIRE_JOB, expiresAt * 1000, {}, id);
  return session;
}

type SessionInternal = { items: { id: string; price: string; quantity: number; taxRates?: string[] }[]; pi: Record<string, unknown>; sub: Record<string, unknown> };

export function sessionLineItems(s: Ctx, id: string, p: Params) {
  p.allow(...LIST_PARAMS);
  s.store.get("checkout.session", id, "session");
  const { items } = s.store.internal<SessionInternal>("checkout.session", id);
  const data = items.map((i) => {
    const price = s.store.get("price", i.price);
    const a = amounts(s, price, i.quantity, i.taxRates ?? []);
    const product = s.store.find("product", String(price.product));
    return { id: i.id, object: "item", amount_discount: 0, amount_subtotal: a.subtotal, amount_tax: a.tax, amount_total: a.total, currency: price.currency, description: product?.name ?? null, price, quantity: i.quantity };
  });
  return pageOf(data, listQuery(p), `/v1/checkout/sessions/${id}/line_items`, "line item");
}

export function expireSession(s: Ctx, id: string): Obj {
  const cs = s.store.get("checkout.session", id, "session");
  if (cs.status !== "open") throw err.invalid(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${cs.status}".`, { param: "session" });
  const next = { ...cs, status: "expired", url: null };
  s.store.save("checkout.session", next);
  s.k.jobs.cancel(EXPIRE_JOB, id);
  emit(s, "checkout.session.expired", next);
  return next;
}

export function listSessions(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer", "payment_intent", "subscription", "status", "payment_link", "customer_details", "customer_account");
  return listJson("/v1/checkout/sessions", s.store.list("checkout.session", listQuery(p), {
    customer: p.str("customer") ?? undefined, payment_intent: p.str("payment_intent") ?? undefined, subscription: p.str("subscription") ?? undefined,
    status: p.oneOf("status", ["open", "complete", "expired"]),
  }));
}

/**
 * What the hosted page's Pay button does: a customer (when the mode needs one), the chosen test
 * card, then the payment, subscription or setup. A decline leaves the session open and answers
 * the card error.
 */
export function completeSession(s: Ctx, id: string, form: Params): Obj {
  const cs = s.store.get("checkout.session", id, "session");
  if (cs.status !== "open") throw err.invalid(`This Checkout Session is ${cs.status}.`, { param: "session" });
  const card = form.str("card") ?? "pm_card_visa";
  if (!/^pm_card_\w+$/.test(card)) throw err.invalid("Choose a test card.", { param: "card" });
  const email = form.str("email") ?? (cs.customer_email as string | null) ?? null;
  const internal = s.store.internal<SessionInternal>("checkout.session", id);
  const mode = String(cs.mode);
  let customer = (cs.customer as string | null) ?? null;
  if (!customer && (mode !== "payment" || cs.customer_creation === "always")) customer = createCustomer(s, new Params(email ? { email } : {})).id;
  const pm = customer ? attachPaymentMethod(s, card, customer) : resolvePaymentMethod(s, card);
  const next: Obj = { ...cs, customer, status: "complete", url: null };
  if (mode === "payment") {
    const pi = createIntent(s, new Params({ ...internal.pi, amount: String(cs.amount_total), currency: String(cs.currency), ...(customer ? { customer } : {}), payment_method: pm.id, confirm: "true" }));
    if (pi.status === "requires_action") throw new StripeError(402, { type: "card_error", code: "authentication_required", message: "This card requires 3-D Secure, which the clone's hosted page does not perform; choose another test card." });
    next.payment_intent = pi.id;
    next.payment_status = "paid";
    for (const d of cs.discounts as { coupon: string; promotion_code: string | null }[]) {
      const coupon = s.store.get("coupon", d.coupon);
      s.store.save("coupon", { ...coupon, times_redeemed: Number(coupon.times_redeemed) + 1 });
      if (d.promotion_code) {
        const promo = s.store.get("promotion_code", d.promotion_code);
        s.store.save("promotion_code", { ...promo, times_redeemed: Number(promo.times_redeemed) + 1 });
      }
    }
  } else if (mode === "subscription") {
    const items = internal.items.filter((i) => s.store.get("price", i.price).type === "recurring").map((i) => ({ price: i.price, quantity: String(i.quantity), ...(i.taxRates?.length ? { tax_rates: i.taxRates } : {}) }));
    const sub = createSubscription(s, new Params({ ...internal.sub, customer: customer!, items, default_payment_method: pm.id, payment_behavior: "error_if_incomplete" }));
    next.subscription = sub.id;
    next.invoice = sub.latest_invoice;
    next.payment_status = sub.status === "trialing" ? "no_payment_required" : "paid";
  } else {
    const si = createSetupIntent(s, new Params({ ...(customer ? { customer } : {}), payment_method: pm.id, confirm: "true" }));
    next.setup_intent = si.id;
  }
  next.customer_details = { address: null, business_name: null, email, individual_name: null, name: null, phone: null, tax_exempt: "none", tax_ids: [] };
  s.store.save("checkout.session", next);
  s.k.jobs.cancel(EXPIRE_JOB, id);
  emit(s, "checkout.session.completed", next);
  return next;
}

export function checkoutJobs(k: Kernel) {
  return {
    [EXPIRE_JOB]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const cs = s.store.find("checkout.session", job.ref!);
      if (!cs || cs.status !== "open") return;
      expireSession(s, cs.id);
      return `checkout session ${cs.id} expired`;
    },
  };
}

// ---- the hosted page ------------------------------------------------------------------------

const esc = (v: unknown) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (n: number, currency: string) => `${(n / 100).toFixed(2)} ${currency.toUpperCase()}`;

const CARDS: [string, string][] = [
  ["pm_card_visa", "Visa 4242 (succeeds)"],
  ["pm_card_mastercard", "Mastercard 4444 (succeeds)"],
  ["pm_card_chargeDeclined", "Visa 0002 (declined)"],
  ["pm_card_chargeDeclinedInsufficientFunds", "Visa 9995 (insufficient funds)"],
];

export function hostedPage(s: Ctx, id: string, error: string | null = null): string {
  const cs = s.store.find("checkout.session", id);
  if (!cs) return page("Not found", "<p>This checkout session does not exist.</p>");
  if (cs.status !== "open") return page("Checkout", `<p id="status">This checkout session is ${esc(cs.status)}.</p>`);
  const items = sessionLineItems(s, id, new Params({ limit: "100" })).data;
  const rows = items.map((i) => `<li>${esc(i.description)} × ${i.quantity}: ${money(i.amount_total, String(i.currency))}${(i.price as Obj).recurring ? ` / ${esc(((i.price as Obj).recurring as Obj).interval)}` : ""}</li>`).join("");
  const base = hostedPath(s.k.world().worldId, id);
  return page("Checkout", `
<h1>Checkout (test mode)</h1>
<ul id="items">${rows}</ul>
${cs.amount_total !== null ? `<p id="total">Total: ${money(Number(cs.amount_total), String(cs.currency))}</p>` : ""}
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ""}
<form method="post" action="${base}/complete">
  <label>Email <input name="email" type="email" value="${esc(cs.customer_email)}"></label>
  <label>Test card <select name="card">${CARDS.map(([v, l]) => `<option value="${v}">${esc(l)}</option>`).join("")}</select></label>
  <button id="pay" type="submit">${cs.mode === "setup" ? "Save card" : cs.mode === "subscription" ? "Subscribe" : "Pay"}</button>
</form>
${cs.cancel_url ? `<p><a id="cancel" href="${base}/cancel">Cancel</a></p>` : ""}`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;
}

export const fillSessionId = (url: string, id: string) => url.replaceAll("{CHECKOUT_SESSION_ID}", id);
