// Payment methods: cards from raw test numbers, `tok_*` tokens and `pm_card_*` shortcuts; attach,
// detach, list; a card used once without a customer cannot be used again, as at Stripe.
import { sha256HexSync } from "../../lib/crypto.ts";
import { cardByNumber, cardByShortcut, type TestCard } from "./cards.ts";
import { err, StripeError } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { address } from "./customers.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, Params, listJson, listQuery, metadata, type Ctx } from "./wire.ts";

export interface PmInternal {
  number: string;
  /** Consumed by a payment without a customer, or detached: it may not be used again. */
  used?: boolean;
}

const BILLING = ["address", "email", "name", "phone", "tax_id"];

function billingDetails(p: Params, prev?: Record<string, unknown>): Record<string, unknown> {
  const base = prev ?? { address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null }, email: null, name: null, phone: null, tax_id: null };
  const b = p.obj("billing_details");
  if (!b) return base;
  b.allow(...BILLING);
  const next = { ...base };
  if (b.has("address")) next.address = address(b, "address") ?? base.address;
  for (const f of ["email", "name", "phone", "tax_id"]) if (b.has(f)) next[f] = b.str(f) ?? null;
  return next;
}

function cardJson(s: Ctx, card: TestCard, exp: { month: number; year: number }, cvc: boolean) {
  return {
    brand: card.brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: cvc ? "pass" : null },
    country: card.country,
    display_brand: card.brand === "amex" ? "american_express" : card.brand,
    exp_month: exp.month,
    exp_year: exp.year,
    fingerprint: sha256HexSync(`fingerprint:${card.number}`).slice(0, 16),
    funding: card.funding,
    generated_from: null,
    last4: card.number.slice(-4),
    networks: { available: [card.brand], preferred: null },
    regulated_status: "unregulated",
    three_d_secure_usage: { supported: true },
    wallet: null,
  };
}

function insertCard(s: Ctx, card: TestCard, exp: { month: number; year: number }, cvc: boolean, p?: Params): Obj {
  const pm: Obj = {
    id: newId(s.k, "payment_method"),
    object: "payment_method",
    allow_redisplay: p?.oneOf("allow_redisplay", ["always", "limited", "unspecified"]) ?? "unspecified",
    billing_details: p ? billingDetails(p) : billingDetails(new Params({})),
    card: cardJson(s, card, exp, cvc),
    created: unixNow(s.k),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: p ? metadata(p) : {},
    type: "card",
  };
  s.store.insert("payment_method", pm, { number: card.number } satisfies PmInternal);
  return pm;
}

/** A year ahead of the run clock: the expiry Stripe gives its shortcut cards. */
function defaultExpiry(s: Ctx) {
  const d = new Date(s.k.clock.now());
  return { month: d.getUTCMonth() + 1, year: d.getUTCFullYear() + 1 };
}

const cardError = (code: string, message: string, param: string) => new StripeError(402, { type: "card_error", code, message, param, doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}` });

/** A card from `card[number]`/`card[exp_*]`/`card[cvc]` or `card[token]`. */
function cardFrom(s: Ctx, c: Params, prefix = "card"): { card: TestCard; exp: { month: number; year: number }; cvc: boolean } {
  const token = c.str("token");
  if (token) {
    c.allow("token");
    const card = cardByShortcut(token);
    if (!card) throw err.missing("token", token, `${prefix}[token]`);
    return { card, exp: defaultExpiry(s), cvc: true };
  }
  c.allow("number", "exp_month", "exp_year", "cvc", "networks");
  const number = c.reqStr("number");
  const month = c.int("exp_month", { required: true })!;
  let year = c.int("exp_year", { required: true })!;
  const card = cardByNumber(number);
  if (!card) throw cardError("incorrect_number", "Your card number is incorrect.", `${prefix}[number]`);
  if (month < 1 || month > 12) throw cardError("invalid_expiry_month", "Your card's expiration month is invalid.", `${prefix}[exp_month]`);
  if (year < 100) year += 2000;
  const now = new Date(s.k.clock.now());
  if (year < now.getUTCFullYear() || (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1)) {
    throw cardError("invalid_expiry_year", "Your card's expiration year is invalid.", `${prefix}[exp_year]`);
  }
  const cvc = c.str("cvc");
  if (cvc !== undefined && cvc !== null && !/^\d{3,4}$/.test(cvc)) throw cardError("invalid_cvc", "Your card's security code is invalid.", `${prefix}[cvc]`);
  return { card, exp: { month, year }, cvc: !!cvc };
}

export function createPaymentMethod(s: Ctx, p: Params): Obj {
  p.allow("type", "card", "billing_details", "metadata", "allow_redisplay", "customer", "payment_method");
  const type = p.reqStr("type");
  if (type !== "card") throw err.invalid(`The payment method type "${type}" is not supported by the Stripe clone yet; use "card".`, { param: "type" });
  const c = p.obj("card", { required: true })!;
  const { card, exp, cvc } = cardFrom(s, c);
  return insertCard(s, card, exp, cvc, p);
}

/** `payment_method_data[type]=card&payment_method_data[card][...]` on a PaymentIntent. */
export function paymentMethodFromData(s: Ctx, d: Params): Obj {
  d.allow("type", "card", "billing_details", "metadata", "allow_redisplay");
  if (d.reqStr("type") !== "card") throw err.invalid("Only payment_method_data[type]=card is supported by the Stripe clone.", { param: "payment_method_data[type]" });
  const { card, exp, cvc } = cardFrom(s, d.obj("card", { required: true })!, "payment_method_data[card]");
  return insertCard(s, card, exp, cvc, d);
}

/** A stored payment method, or a fresh one for a `pm_card_*` shortcut. */
export function resolvePaymentMethod(s: Ctx, id: string, param = "payment_method"): Obj {
  const shortcut = cardByShortcut(id);
  if (shortcut && !s.store.find("payment_method", id)) return insertCard(s, shortcut, defaultExpiry(s), true);
  return s.store.get("payment_method", id, param);
}

export function testCardOf(s: Ctx, pmId: string): TestCard {
  const { number } = s.store.internal<PmInternal>("payment_method", pmId);
  return cardByNumber(number) ?? { number, brand: "visa", funding: "credit", country: "US" };
}

export const usedMessage =
  "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.";

export function markUsed(s: Ctx, pmId: string): void {
  s.store.setInternal("payment_method", pmId, { ...s.store.internal<PmInternal>("payment_method", pmId), used: true });
}

export function isUsed(s: Ctx, pmId: string): boolean {
  return !!s.store.internal<PmInternal>("payment_method", pmId).used;
}

export function attachPaymentMethod(s: Ctx, id: string, customerId: string, param = "payment_method"): Obj {
  const pm = resolvePaymentMethod(s, id, param);
  s.store.get("customer", customerId, "customer");
  if (pm.customer === customerId) return pm;
  if (pm.customer) throw err.invalid("The payment method you provided has already been attached to a customer.", { param });
  if (isUsed(s, pm.id)) throw err.invalid(usedMessage, { param });
  const decline = testCardOf(s, pm.id).decline;
  if (decline?.onAttach) {
    throw new StripeError(402, { type: "card_error", code: decline.code, decline_code: decline.decline_code, message: decline.message, param: "", doc_url: `https://stripe.com/docs/error-codes/${decline.code.replaceAll("_", "-")}` });
  }
  const next = { ...pm, customer: customerId };
  s.store.save("payment_method", next);
  emit(s, "payment_method.attached", next);
  return next;
}

export function detachPaymentMethod(s: Ctx, id: string): Obj {
  const pm = s.store.get("payment_method", id, "payment_method");
  if (!pm.customer) throw err.invalid("The payment method you provided is not attached to a customer so detachment is impossible.", { param: "payment_method" });
  const next = { ...pm, customer: null };
  s.store.save("payment_method", next);
  markUsed(s, id);
  emit(s, "payment_method.detached", next, { customer: pm.customer });
  return next;
}

export function updatePaymentMethod(s: Ctx, id: string, p: Params): Obj {
  p.allow("billing_details", "metadata", "card", "allow_redisplay");
  const before = s.store.get("payment_method", id, "payment_method");
  const next: Obj = { ...before, billing_details: billingDetails(p, before.billing_details as Record<string, unknown>), metadata: metadata(p, before.metadata as Record<string, string>) };
  const c = p.obj("card");
  if (c) {
    c.allow("exp_month", "exp_year", "networks");
    next.card = { ...(before.card as Obj), exp_month: c.int("exp_month", { min: 1, max: 12 }) ?? (before.card as Obj).exp_month, exp_year: c.int("exp_year") ?? (before.card as Obj).exp_year };
  }
  if (p.has("allow_redisplay")) next.allow_redisplay = p.oneOf("allow_redisplay", ["always", "limited", "unspecified"]);
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("payment_method", next);
  emit(s, "payment_method.updated", next, prev);
  return next;
}

export function listPaymentMethods(s: Ctx, p: Params, customer?: string) {
  p.allow(...LIST_PARAMS, "type", ...(customer ? [] : ["customer"]), "allow_redisplay");
  const cus = customer ?? p.str("customer") ?? undefined;
  if (cus) s.store.get("customer", cus, "customer");
  const url = customer ? `/v1/customers/${customer}/payment_methods` : "/v1/payment_methods";
  return listJson(url, s.store.list("payment_method", listQuery(p), { customer: cus, type: p.str("type") ?? undefined }));
}

export function customerPaymentMethod(s: Ctx, customer: string, id: string): Obj {
  s.store.get("customer", customer, "customer");
  const pm = s.store.get("payment_method", id, "payment_method");
  if (pm.customer !== customer) throw err.missing("PaymentMethod", id, "payment_method");
  return pm;
}
