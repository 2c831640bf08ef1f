// SetupIntents: save a card for later. Confirming verifies the card (declining test cards fail
// here), may require 3-D Secure, and attaches the payment method to the customer.
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { isUsed, markUsed, paymentMethodFromData, resolvePaymentMethod, testCardOf, usedMessage } from "./payment-methods.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, type Ctx, type Params } from "./wire.ts";

const MUTABLE = ["requires_payment_method", "requires_confirmation", "requires_action"];

function choose(s: Ctx, si: Obj, p: Params): void {
  const id = p.str("payment_method");
  const data = p.obj("payment_method_data");
  const pm = id ? resolvePaymentMethod(s, id) : data ? paymentMethodFromData(s, data) : null;
  if (!pm) return;
  if (pm.customer && pm.customer !== si.customer) throw err.invalid("The provided PaymentMethod was previously attached to a different Customer.", { param: "payment_method" });
  if (!pm.customer && isUsed(s, pm.id)) throw err.invalid(usedMessage, { param: "payment_method" });
  si.payment_method = pm.id;
  if (si.status === "requires_payment_method") si.status = "requires_confirmation";
}

export function createSetupIntent(s: Ctx, p: Params): Obj {
  p.allow("customer", "payment_method", "payment_method_data", "payment_method_types", "automatic_payment_methods", "confirm", "description", "metadata",
    "usage", "return_url", "on_behalf_of", "payment_method_options", "mandate_data", "single_use", "attach_to_self", "flow_directions", "use_stripe_sdk",
    "payment_method_configuration", "confirmation_token", "excluded_payment_method_types");
  const customer = p.str("customer") ?? null;
  if (customer) s.store.get("customer", customer, "customer");
  const types = p.strings("payment_method_types");
  const id = newId(s.k, "setup_intent");
  const si: Obj = {
    id,
    object: "setup_intent",
    application: null,
    automatic_payment_methods: types ? null : { allow_redirects: "always", enabled: true },
    cancellation_reason: null,
    client_secret: `${id}_secret_${s.k.ids.make("secret_", 32).slice(7)}`,
    created: unixNow(s.k),
    customer,
    customer_account: null,
    description: p.str("description") ?? null,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: metadata(p),
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: "automatic" } },
    payment_method_types: types ?? ["card"],
    single_use_mandate: null,
    status: "requires_payment_method",
    usage: p.oneOf("usage", ["off_session", "on_session"]) ?? "off_session",
  };
  choose(s, si, p);
  s.store.insert("setup_intent", si, {});
  emit(s, "setup_intent.created", si);
  if (p.bool("confirm")) return confirmSetupIntent(s, id, p, true);
  return si;
}

export function updateSetupIntent(s: Ctx, id: string, p: Params): Obj {
  p.allow("customer", "description", "metadata", "payment_method", "payment_method_data", "payment_method_types", "payment_method_options", "flow_directions", "attach_to_self", "excluded_payment_method_types");
  const before = s.store.get("setup_intent", id, "intent");
  if (!MUTABLE.includes(String(before.status))) {
    throw err.invalid(`You cannot update this SetupIntent because it has a status of ${before.status}.`, { code: "setup_intent_unexpected_state" });
  }
  const si: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("description")) si.description = p.str("description") ?? null;
  if (p.has("customer")) {
    const c = p.str("customer") ?? null;
    if (c) s.store.get("customer", c, "customer");
    si.customer = c;
  }
  choose(s, si, p);
  const prev = changed(before, si);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("setup_intent", si);
  emit(s, "setup_intent.updated", si, prev);
  return si;
}

export function confirmSetupIntent(s: Ctx, id: string, p: Params, fromCreate = false): Obj {
  if (!fromCreate) p.allow("payment_method", "payment_method_data", "return_url", "mandate_data", "payment_method_options", "use_stripe_sdk", "confirmation_token");
  const si = { ...s.store.get("setup_intent", id, "intent") };
  if (!MUTABLE.includes(String(si.status))) {
    throw err.invalid(`You cannot confirm this SetupIntent because it has a status of ${si.status}.`, { code: "setup_intent_unexpected_state" });
  }
  if (!fromCreate) choose(s, si, p);
  if (!si.payment_method) {
    throw err.invalid("You cannot confirm this SetupIntent because it's missing a payment method. Update it with a payment method, or confirm it directly with one.", { code: "setup_intent_unexpected_state" });
  }
  const card = testCardOf(s, String(si.payment_method));
  if (card.threeDS && !s.store.internal<{ authenticated?: boolean }>("setup_intent", id).authenticated) {
    const before = s.store.get("setup_intent", id);
    Object.assign(si, { status: "requires_action", next_action: { type: "use_stripe_sdk", use_stripe_sdk: { type: "three_d_secure_redirect", source: s.k.ids.make("src_", 24) } } });
    s.store.save("setup_intent", si);
    emit(s, "setup_intent.requires_action", si, changed(before, si));
    return si;
  }
  return verify(s, si);
}

function verify(s: Ctx, si: Obj): Obj {
  const pm = s.store.get("payment_method", String(si.payment_method));
  const d = testCardOf(s, pm.id).decline;
  if (d?.onAttach) {
    const doc_url = `https://stripe.com/docs/error-codes/${d.code.replaceAll("_", "-")}`;
    const error = { code: d.code, decline_code: d.decline_code, doc_url, message: d.message, payment_method: pm, type: "card_error" };
    Object.assign(si, { status: "requires_payment_method", last_setup_error: error, payment_method: null, next_action: null });
    s.store.save("setup_intent", si);
    emit(s, "setup_intent.setup_failed", si);
    throw err.card({ code: d.code, decline_code: d.decline_code, doc_url, message: d.message, setup_intent: si, payment_method: pm, request_log_url: null });
  }
  Object.assign(si, { status: "succeeded", last_setup_error: null, next_action: null });
  s.store.save("setup_intent", si);
  if (si.customer && pm.customer !== si.customer) {
    const attached = { ...pm, customer: si.customer };
    s.store.save("payment_method", attached);
    emit(s, "payment_method.attached", attached);
  } else if (!si.customer) markUsed(s, pm.id);
  emit(s, "setup_intent.succeeded", si);
  return si;
}

/** Completes or fails a pending 3-D Secure challenge of a SetupIntent. */
export function finishSetupAuthentication(s: Ctx, id: string, outcome: "complete" | "fail"): Obj {
  const si = { ...s.store.get("setup_intent", id, "intent") };
  if (si.status !== "requires_action") throw err.invalid(`SetupIntent ${id} has a status of ${si.status}, not requires_action.`, { code: "setup_intent_unexpected_state" });
  if (outcome === "complete") {
    s.store.setInternal("setup_intent", id, { authenticated: true });
    try {
      return verify(s, si);
    } catch (e) {
      if (e instanceof Error && "committed" in e && e.committed) return s.store.get("setup_intent", id);
      throw e;
    }
  }
  const pm = s.store.get("payment_method", String(si.payment_method));
  Object.assign(si, {
    status: "requires_payment_method",
    next_action: null,
    payment_method: null,
    last_setup_error: {
      code: "setup_intent_authentication_failure",
      doc_url: "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
      message: "The latest attempt to set up the payment method has failed because authentication failed.",
      payment_method: pm,
      type: "invalid_request_error",
    },
  });
  s.store.save("setup_intent", si);
  emit(s, "setup_intent.setup_failed", si);
  return si;
}

export function cancelSetupIntent(s: Ctx, id: string, p: Params): Obj {
  p.allow("cancellation_reason");
  const before = s.store.get("setup_intent", id, "intent");
  if (!MUTABLE.includes(String(before.status))) {
    throw err.invalid(`You cannot cancel this SetupIntent because it has a status of ${before.status}.`, { code: "setup_intent_unexpected_state" });
  }
  const si = { ...before, status: "canceled", next_action: null, cancellation_reason: p.oneOf("cancellation_reason", ["abandoned", "duplicate", "requested_by_customer"]) ?? null };
  s.store.save("setup_intent", si);
  emit(s, "setup_intent.canceled", si);
  return si;
}

export function listSetupIntents(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer", "payment_method", "attach_to_self");
  return listJson("/v1/setup_intents", s.store.list("setup_intent", listQuery(p), { customer: p.str("customer") ?? undefined, payment_method: p.str("payment_method") ?? undefined }));
}
