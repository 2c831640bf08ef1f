// PaymentIntents: create, update, confirm (success, declines, 3-D Secure), capture, cancel, list,
// search. A decline keeps its failed charge and the intent's last_payment_error, then answers 402.
import { err, StripeError } from "./errors.ts";
import { address } from "./customers.ts";
import { changed, emit } from "./events.ts";
import { createCharge, captureCharge, releaseCharge } from "./charges.ts";
import type { Decline } from "./cards.ts";
import { attachPaymentMethod, isUsed, markUsed, paymentMethodFromData, resolvePaymentMethod, testCardOf, usedMessage } from "./payment-methods.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { intentPaid } from "./renewals.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, search, type Ctx, type Params } from "./wire.ts";

interface PiInternal {
  /** 3-D Secure was completed for the current payment method. */
  authenticated?: boolean;
  offSession?: boolean;
  /** The open invoice this intent pays (a subscription's first invoice, confirmed by its customer). */
  invoice?: string;
}

const MUTABLE = ["requires_payment_method", "requires_confirmation", "requires_action"];
const CANCELABLE = ["requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"];
const statuses = (list: string[]) => list.join(", ");
const CURRENCY = /^[a-z]{3}$/;

const CREATE = [
  "amount", "currency", "customer", "payment_method", "payment_method_types", "automatic_payment_methods", "capture_method", "confirm", "confirmation_method",
  "description", "metadata", "receipt_email", "setup_future_usage", "off_session", "return_url", "statement_descriptor", "statement_descriptor_suffix",
  "payment_method_data", "payment_method_options", "error_on_requires_action", "shipping", "transfer_group", "use_stripe_sdk", "mandate_data",
  "application_fee_amount", "on_behalf_of", "transfer_data", "payment_method_configuration", "excluded_payment_method_types", "radar_options", "confirmation_token",
];

function amountOf(p: Params, required: boolean): number | undefined {
  const amount = p.int("amount", { required });
  if (amount === undefined) return undefined;
  if (amount < 50) throw err.invalid("Amount must be at least $0.50 usd", { code: "amount_too_small", param: "amount" });
  if (amount > 99_999_999) throw err.invalid("Amount must be no more than $999,999.99", { code: "amount_too_large", param: "amount" });
  return amount;
}

function currencyOf(p: Params, required: boolean): string | undefined {
  const c = p.str("currency", { required }) ?? undefined;
  if (c === undefined) return undefined;
  if (!CURRENCY.test(c.toLowerCase())) throw err.invalid(`Invalid currency: ${c.toLowerCase()}. Stripe currently supports these currencies: usd, eur, gbp, ...`, { param: "currency" });
  return c.toLowerCase();
}

function customerOf(s: Ctx, p: Params): string | null | undefined {
  const c = p.str("customer");
  if (c) s.store.get("customer", c, "customer");
  return c;
}

const unbuilt = (what: string) => new StripeError(501, { type: "api_error", code: "not_implemented", message: `${what} is not implemented by the Stripe clone yet.` });

/** Connect's fields and confirmation tokens move money or cards the clone does not model: a 501, never ignored. */
function refuseUnbuilt(p: Params): void {
  for (const key of ["application_fee_amount", "on_behalf_of", "transfer_data", "confirmation_token"]) {
    if (p.raw[key] !== undefined && p.raw[key] !== "") throw unbuilt(`PaymentIntents with \`${key}\``);
  }
}

/** `shipping`: a name and an address are required, as at Stripe; "" unsets it. */
function shippingOf(p: Params): Obj | null | undefined {
  const sh = p.obj("shipping");
  if (sh === undefined || sh === null) return sh;
  sh.allow("address", "name", "phone", "carrier", "tracking_number");
  const a = address(sh, "address");
  if (!a) throw err.missingParam("shipping[address]");
  return { address: a, carrier: sh.str("carrier") ?? null, name: sh.reqStr("name"), phone: sh.str("phone") ?? null, tracking_number: sh.str("tracking_number") ?? null } as unknown as Obj;
}

/** `payment_method_options[card][request_three_d_secure]`: `any` and `challenge` ask for 3-D Secure whatever the card. */
function cardOptions(p: Params, prior: Obj): Obj | undefined {
  const pmo = p.obj("payment_method_options");
  if (!pmo) return undefined;
  for (const k of Object.keys(pmo.raw)) if (k !== "card") throw unbuilt(`\`payment_method_options[${k}]\``);
  const card = pmo.obj("card");
  if (!card) return undefined;
  for (const k of Object.keys(card.raw)) if (k !== "request_three_d_secure") throw unbuilt(`\`payment_method_options[card][${k}]\``);
  const r3ds = card.oneOf("request_three_d_secure", ["any", "automatic", "challenge"]) ?? "automatic";
  return { ...prior, card: { ...((prior as { card?: Obj }).card ?? {}), request_three_d_secure: r3ds } } as unknown as Obj;
}

/** Sets the intent's payment method from `payment_method` or `payment_method_data`. */
function choosePaymentMethod(s: Ctx, pi: Obj, p: Params, creating = false): void {
  const pmId = p.str("payment_method");
  const data = p.obj("payment_method_data");
  let pm: Obj | null = null;
  if (pmId) pm = resolvePaymentMethod(s, pmId);
  else if (data) pm = paymentMethodFromData(s, data);
  if (!pm) return;
  if (pm.customer && pi.customer && pm.customer !== pi.customer) {
    throw err.invalid(`The provided PaymentMethod was previously attached to a different Customer. To use it with the Customer ${pi.customer}, detach it first.`, { param: "payment_method" });
  }
  if (pm.customer && !pi.customer) {
    throw err.invalid("The provided PaymentMethod was previously attached to a Customer. To use it with this PaymentIntent, pass the Customer's ID in `customer`.", { param: "payment_method" });
  }
  if (!pm.customer && isUsed(s, pm.id)) throw err.invalid(usedMessage, { param: "payment_method" });
  // A new PaymentIntent is inserted unauthenticated; only an existing one has a 3DS result to drop.
  if (!creating && pi.payment_method !== pm.id) s.store.setInternal("payment_intent", pi.id, { ...s.store.internal<PiInternal>("payment_intent", pi.id), authenticated: false });
  pi.payment_method = pm.id;
  if (pi.status === "requires_payment_method") pi.status = "requires_confirmation";
}

export function createIntent(s: Ctx, p: Params): Obj {
  p.allow(...CREATE);
  refuseUnbuilt(p);
  const amount = amountOf(p, true)!;
  const currency = currencyOf(p, true)!;
  const customer = customerOf(s, p) ?? null;
  const types = p.strings("payment_method_types");
  const apm = p.obj("automatic_payment_methods");
  if (types && apm) throw err.invalid("You may only specify one of these parameters: automatic_payment_methods, payment_method_types.", { param: "automatic_payment_methods" });
  let automatic: Obj["automatic_payment_methods"] = null;
  if (apm) {
    apm.allow("enabled", "allow_redirects");
    automatic = { ...(apm.has("allow_redirects") ? { allow_redirects: apm.oneOf("allow_redirects", ["always", "never"]) } : {}), enabled: apm.bool("enabled") ?? false };
  } else if (!types) automatic = { allow_redirects: "always", enabled: true };
  if (types) for (const [i, t] of types.entries()) if (t !== "card") throw err.invalid(`The payment method type provided: ${t} is invalid. The Stripe clone supports card.`, { param: `payment_method_types[${i}]` });
  const id = newId(s.k, "payment_intent");
  const pi: Obj = {
    id,
    object: "payment_intent",
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: automatic,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: p.oneOf("capture_method", ["automatic", "automatic_async", "manual"]) ?? "automatic_async",
    client_secret: `${id}_secret_${s.k.ids.make("secret_", 25).slice(7)}`,
    confirmation_method: p.oneOf("confirmation_method", ["automatic", "manual"]) ?? "automatic",
    created: unixNow(s.k),
    currency,
    customer,
    customer_account: null,
    description: p.str("description") ?? null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: metadata(p),
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: "automatic" } },
    shipping: null,
    payment_method_types: types ?? ["card"],
    processing: null,
    receipt_email: p.str("receipt_email") ?? null,
    review: null,
    setup_future_usage: p.oneOf("setup_future_usage", ["off_session", "on_session"]) ?? null,
    source: null,
    statement_descriptor: p.str("statement_descriptor") ?? null,
    statement_descriptor_suffix: p.str("statement_descriptor_suffix") ?? null,
    status: "requires_payment_method",
    transfer_data: null,
    transfer_group: p.str("transfer_group") ?? null,
  };
  pi.shipping = shippingOf(p) ?? null;
  pi.payment_method_options = cardOptions(p, pi.payment_method_options as Obj) ?? pi.payment_method_options;
  choosePaymentMethod(s, pi, p, true);
  s.store.insert("payment_intent", pi, {});
  emit(s, "payment_intent.created", pi);
  if (p.bool("confirm")) return confirmIntent(s, id, p, true);
  if (p.has("off_session") || p.has("return_url") || p.has("error_on_requires_action")) {
    throw err.invalid("You can only pass `off_session`, `return_url` or `error_on_requires_action` when `confirm=true`.", { param: "off_session" });
  }
  return pi;
}

export function updateIntent(s: Ctx, id: string, p: Params): Obj {
  p.allow("amount", "currency", "customer", "description", "metadata", "payment_method", "payment_method_data", "payment_method_types", "receipt_email",
    "setup_future_usage", "shipping", "statement_descriptor", "statement_descriptor_suffix", "capture_method", "transfer_group", "payment_method_options",
    "application_fee_amount", "payment_method_configuration", "excluded_payment_method_types");
  refuseUnbuilt(p);
  const before = s.store.get("payment_intent", id, "intent");
  const onlyMeta = Object.keys(p.raw).every((k) => k === "metadata" || k === "description" || k === "expand" || k === "shipping");
  if (!onlyMeta && !MUTABLE.includes(String(before.status))) {
    throw err.unexpectedState(`This PaymentIntent could not be updated because it has a status of ${before.status}. You may only update a PaymentIntent with one of the following statuses: ${statuses(MUTABLE)}.`);
  }
  const pi: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  const amount = amountOf(p, false);
  if (amount !== undefined) pi.amount = amount;
  const currency = currencyOf(p, false);
  if (currency) pi.currency = currency;
  if (p.has("customer")) pi.customer = customerOf(s, p) ?? null;
  for (const f of ["description", "receipt_email", "statement_descriptor", "statement_descriptor_suffix", "transfer_group"]) if (p.has(f)) pi[f] = p.str(f) ?? null;
  if (p.has("setup_future_usage")) pi.setup_future_usage = p.oneOf("setup_future_usage", ["off_session", "on_session"]) ?? null;
  if (p.has("capture_method")) pi.capture_method = p.oneOf("capture_method", ["automatic", "automatic_async", "manual"]);
  if (p.has("shipping")) pi.shipping = shippingOf(p) ?? null;
  pi.payment_method_options = cardOptions(p, pi.payment_method_options as Obj) ?? pi.payment_method_options;
  choosePaymentMethod(s, pi, p);
  const prev = changed(before, pi);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("payment_intent", pi);
  emit(s, "payment_intent.updated", pi, prev);
  return pi;
}

/** Confirms: 3-D Secure may be required; then the card is charged (or authorized) or declined. */
export function confirmIntent(s: Ctx, id: string, p: Params, fromCreate = false): Obj {
  if (!fromCreate) {
    p.allow("payment_method", "payment_method_data", "return_url", "off_session", "setup_future_usage", "error_on_requires_action", "mandate_data",
      "payment_method_options", "payment_method_types", "receipt_email", "shipping", "use_stripe_sdk", "capture_method", "confirmation_token", "radar_options");
  }
  const pi = { ...s.store.get("payment_intent", id, "intent") };
  if (!MUTABLE.includes(String(pi.status))) {
    throw err.unexpectedState(`You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${statuses(MUTABLE)}.`);
  }
  if (!fromCreate) {
    choosePaymentMethod(s, pi, p);
    if (p.has("setup_future_usage")) pi.setup_future_usage = p.oneOf("setup_future_usage", ["off_session", "on_session"]) ?? null;
    if (p.has("receipt_email")) pi.receipt_email = p.str("receipt_email") ?? null;
    if (p.has("capture_method")) pi.capture_method = p.oneOf("capture_method", ["automatic", "automatic_async", "manual"]);
    if (p.has("shipping")) pi.shipping = shippingOf(p) ?? null;
    pi.payment_method_options = cardOptions(p, pi.payment_method_options as Obj) ?? pi.payment_method_options;
    refuseUnbuilt(p);
  }
  if (!pi.payment_method) {
    throw err.unexpectedState("You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.");
  }
  const offSession = p.bool("off_session") ?? false;
  s.store.setInternal("payment_intent", id, { ...s.store.internal<PiInternal>("payment_intent", id), offSession });
  const card = testCardOf(s, String(pi.payment_method));
  const asked = ((pi.payment_method_options as { card?: { request_three_d_secure?: string } } | null)?.card?.request_three_d_secure ?? "automatic") !== "automatic";
  if ((card.threeDS || (asked && !card.decline)) && !s.store.internal<PiInternal>("payment_intent", id).authenticated) {
    if (offSession || p.bool("error_on_requires_action")) {
      return decline(s, pi, { code: "authentication_required", decline_code: "authentication_required", message: "Your card was declined. This transaction requires authentication.", onAttach: false });
    }
    return requireAction(s, pi);
  }
  return authorize(s, pi);
}

function requireAction(s: Ctx, pi: Obj): Obj {
  const before = s.store.get("payment_intent", pi.id);
  pi.status = "requires_action";
  pi.next_action = {
    type: "use_stripe_sdk",
    use_stripe_sdk: { type: "three_d_secure_redirect", stripe_js: `${s.k.world().urls.stripe}/v1/payment_intents/${pi.id}`, source: s.k.ids.make("src_", 24) },
  };
  s.store.save("payment_intent", pi);
  emit(s, "payment_intent.requires_action", pi, changed(before, pi));
  return pi;
}

/** The card network's answer: a chaos `card_declined` preset first, then the test card's own. */
function authorize(s: Ctx, pi: Obj): Obj {
  const card = testCardOf(s, String(pi.payment_method));
  const forced = s.k.chaos.take("stripe", "card_declined");
  const refusal: Decline | null = forced ? { code: "card_declined", decline_code: "generic_decline", message: "Your card was declined.", onAttach: false } : (card.decline ?? null);
  if (refusal) return decline(s, pi, refusal);
  const pm = s.store.get("payment_method", String(pi.payment_method));
  const manual = pi.capture_method === "manual";
  const ch = createCharge(s, pi, pm, { capture: !manual, decline: null, threeDS: !!card.threeDS });
  Object.assign(pi, {
    status: manual ? "requires_capture" : "succeeded",
    amount_capturable: manual ? pi.amount : 0,
    amount_received: manual ? 0 : pi.amount,
    latest_charge: ch.id,
    last_payment_error: null,
    next_action: null,
  });
  s.store.save("payment_intent", pi);
  emit(s, manual ? "payment_intent.amount_capturable_updated" : "payment_intent.succeeded", pi);
  if (pi.customer && pi.setup_future_usage && !pm.customer) attachPaymentMethod(s, pm.id, String(pi.customer));
  else if (!pm.customer) markUsed(s, pm.id);
  const invoice = s.store.internal<PiInternal>("payment_intent", pi.id).invoice;
  if (invoice && !manual) intentPaid(s, invoice, pi);
  return pi;
}

/** A failed charge, the intent back to requires_payment_method, and a committed 402. */
function decline(s: Ctx, pi: Obj, d: Decline): never {
  const pm = s.store.get("payment_method", String(pi.payment_method));
  const ch = createCharge(s, pi, pm, { capture: false, decline: d, threeDS: false });
  const doc_url = `https://stripe.com/docs/error-codes/${d.code.replaceAll("_", "-")}`;
  const error = { charge: ch.id, code: d.code, decline_code: d.decline_code, doc_url, message: d.message, payment_method: pm, type: "card_error" };
  Object.assign(pi, { status: "requires_payment_method", last_payment_error: error, latest_charge: ch.id, next_action: null, payment_method: null });
  s.store.save("payment_intent", pi);
  emit(s, "payment_intent.payment_failed", pi);
  throw err.card({ charge: ch.id, code: d.code, decline_code: d.decline_code, doc_url, message: d.message, payment_intent: pi, payment_method: pm, request_log_url: null });
}

/** Completes or fails a pending 3-D Secure challenge (the admin API's stand-in for the customer). */
export function finishAuthentication(s: Ctx, id: string, outcome: "complete" | "fail"): Obj {
  const pi = { ...s.store.get("payment_intent", id, "intent") };
  if (pi.status !== "requires_action") throw err.unexpectedState(`PaymentIntent ${id} has a status of ${pi.status}, not requires_action.`);
  if (outcome === "complete") {
    s.store.setInternal("payment_intent", id, { ...s.store.internal<PiInternal>("payment_intent", id), authenticated: true });
    try {
      return authorize(s, pi);
    } catch (e) {
      if (e instanceof Error && "committed" in e && e.committed) return s.store.get("payment_intent", id);
      throw e;
    }
  }
  const pm = s.store.get("payment_method", String(pi.payment_method));
  Object.assign(pi, {
    status: "requires_payment_method",
    next_action: null,
    payment_method: null,
    last_payment_error: {
      code: "payment_intent_authentication_failure",
      doc_url: "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
      message: "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
      payment_method: pm,
      type: "invalid_request_error",
    },
  });
  s.store.save("payment_intent", pi);
  emit(s, "payment_intent.payment_failed", pi);
  return pi;
}

export function captureIntent(s: Ctx, id: string, p: Params): Obj {
  p.allow("amount_to_capture", "metadata", "application_fee_amount", "final_capture", "statement_descriptor", "statement_descriptor_suffix", "transfer_data");
  const before = s.store.get("payment_intent", id, "intent");
  if (before.status !== "requires_capture") {
    throw err.unexpectedState(`This PaymentIntent could not be captured because it has a status of ${before.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`);
  }
  const capturable = Number(before.amount_capturable);
  const amount = p.int("amount_to_capture", { min: 1 }) ?? capturable;
  if (amount > capturable) {
    throw err.invalid(`The amount to capture (${amount}) exceeds the amount capturable (${capturable}).`, { code: "amount_too_large", param: "amount_to_capture" });
  }
  captureCharge(s, String(before.latest_charge), amount);
  const pi: Obj = { ...before, status: "succeeded", amount_capturable: 0, amount_received: amount, metadata: metadata(p, before.metadata as Record<string, string>) };
  s.store.save("payment_intent", pi);
  emit(s, "payment_intent.succeeded", pi);
  return pi;
}

export function cancelIntent(s: Ctx, id: string, p: Params): Obj {
  p.allow("cancellation_reason");
  const before = s.store.get("payment_intent", id, "intent");
  if (!CANCELABLE.includes(String(before.status))) {
    throw err.unexpectedState(`You cannot cancel this PaymentIntent because it has a status of ${before.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${statuses(CANCELABLE)}.`);
  }
  if (before.status === "requires_capture") releaseCharge(s, String(before.latest_charge));
  const pi: Obj = {
    ...before,
    status: "canceled",
    canceled_at: unixNow(s.k),
    cancellation_reason: p.oneOf("cancellation_reason", ["duplicate", "fraudulent", "requested_by_customer", "abandoned"]) ?? null,
    amount_capturable: 0,
    next_action: null,
  };
  s.store.save("payment_intent", pi);
  emit(s, "payment_intent.canceled", pi);
  return pi;
}

export function listIntents(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer");
  return listJson("/v1/payment_intents", s.store.list("payment_intent", listQuery(p), { customer: p.str("customer") ?? undefined }));
}

export const searchIntents = (s: Ctx, p: Params) => search(s, p, "payment_intent", "payment_intents", ["amount", "created", "currency", "customer", "status"]);
