// Charges (made by confirming a PaymentIntent) and refunds, full and partial.
import { receiptNumber, sendReceipt } from "./receipts.ts";
import { chargeTransaction, refundTransaction } from "./balance.ts";
import { openDispute } from "./disputes.ts";
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import type { Decline } from "./cards.ts";
import { resolvePaymentMethod, testCardOf } from "./payment-methods.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, metadata, search, type Ctx, type Params } from "./wire.ts";

const txn = (s: Ctx) => s.k.ids.make("txn_", 24);

function outcome(decline: Decline | null) {
  return decline
    ? {
        advice_code: null, network_advice_code: null, network_decline_code: null, network_status: "declined_by_network", reason: decline.decline_code, risk_level: "normal",
        risk_score: 20, seller_message: decline.decline_code === "generic_decline" ? "The bank did not return any further details with this decline." : `The bank returned the decline code \`${decline.decline_code}\`.`, type: "issuer_declined",
      }
    : { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: "approved_by_network", reason: null, risk_level: "normal", risk_score: 20, seller_message: "Payment complete.", type: "authorized" };
}

/** A captured charge on one of the dispute test cards is disputed at once. */
function disputeIfAsked(s: Ctx, ch: Obj): void {
  const kind = ch.payment_method ? testCardOf(s, String(ch.payment_method)).dispute : undefined;
  if (kind && !ch.disputed) openDispute(s, ch, kind);
}

/** The charge of one confirmation attempt: succeeded (captured or not) or failed with the decline. */
export function createCharge(s: Ctx, pi: Obj, pm: Obj, opts: { capture: boolean; decline: Decline | null; threeDS: boolean }): Obj {
  const receipt = !opts.decline && pi.receipt_email ? receiptNumber(s) : null;
  const card = pm.card as Obj;
  const ok = opts.decline === null;
  const ch: Obj = {
    id: newId(s.k, "charge"),
    object: "charge",
    amount: pi.amount,
    amount_captured: ok && opts.capture ? pi.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: ok && opts.capture ? txn(s) : null,
    billing_details: pm.billing_details,
    calculated_statement_descriptor: "MOLAR CLONES",
    captured: ok && opts.capture,
    created: unixNow(s.k),
    currency: pi.currency,
    customer: pi.customer,
    description: pi.description,
    destination: null,
    dispute: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: opts.decline?.code ?? null,
    failure_message: opts.decline?.message ?? null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: outcome(opts.decline),
    paid: ok,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: {
      card: {
        amount_authorized: ok ? pi.amount : null, authorization_code: ok ? "123456" : null, brand: card.brand, checks: card.checks, country: card.country,
        exp_month: card.exp_month, exp_year: card.exp_year, extended_authorization: { status: "disabled" }, fingerprint: card.fingerprint, funding: card.funding,
        incremental_authorization: { status: "unavailable" }, installments: null, last4: card.last4, mandate: null, multicapture: { status: "unavailable" },
        network: card.brand, network_token: { used: false }, network_transaction_id: ok ? "104102978678771" : null,
        overcapture: { maximum_amount_capturable: pi.amount, status: "unavailable" }, regulated_status: "unregulated",
        three_d_secure: opts.threeDS ? { authentication_flow: "challenge", electronic_commerce_indicator: "05", exemption_indicator: null, result: "authenticated", result_reason: null, transaction_id: null, version: "2.2.0" } : null,
        wallet: null,
      },
      type: "card",
    },
    radar_options: {},
    receipt_email: pi.receipt_email ?? null,
    receipt_number: receipt,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: pi.shipping ?? null,
    source: null,
    source_transfer: null,
    statement_descriptor: pi.statement_descriptor ?? null,
    statement_descriptor_suffix: pi.statement_descriptor_suffix ?? null,
    status: ok ? "succeeded" : "failed",
    transfer_data: null,
    transfer_group: pi.transfer_group ?? null,
  };
  s.store.insert("charge", ch);
  if (ch.balance_transaction) chargeTransaction(s, ch);
  emit(s, ok ? "charge.succeeded" : "charge.failed", ch);
  if (receipt) sendReceipt(s, ch, receipt);
  if (ch.captured) disputeIfAsked(s, ch);
  return ch;
}

/**
 * The legacy Charges API (`source: "tok_visa"`, or a customer's saved card): no PaymentIntent.
 * A decline keeps its failed charge and answers 402, as confirmation does.
 */
export function createLegacyCharge(s: Ctx, p: Params): Obj {
  p.allow("amount", "currency", "source", "customer", "description", "metadata", "capture", "receipt_email", "statement_descriptor", "statement_descriptor_suffix", "shipping", "transfer_group", "application_fee_amount", "on_behalf_of", "transfer_data", "radar_options");
  const amount = p.int("amount", { required: true })!;
  if (amount < 50) throw err.invalid("Amount must be at least $0.50 usd", { code: "amount_too_small", param: "amount" });
  const currency = p.reqStr("currency").toLowerCase();
  const customer = p.str("customer") ?? null;
  const cus = customer ? s.store.get("customer", customer, "customer") : null;
  let source = p.str("source") ?? null;
  if (!source && cus) source = ((cus.invoice_settings as Obj | null)?.default_payment_method as string | null) ?? s.store.list("payment_method", { limit: 1 }, { customer }).data[0]?.id ?? null;
  if (!source) {
    throw err.invalid(cus ? "Cannot charge a customer that has no active card" : "Must provide source or customer.", { code: cus ? "missing" : "parameter_missing", param: cus ? "card" : "source" });
  }
  const pm = resolvePaymentMethod(s, source, "source");
  const pseudo = { id: null, amount, currency, customer, description: p.str("description") ?? null, receipt_email: p.str("receipt_email") ?? null, statement_descriptor: p.str("statement_descriptor") ?? null } as unknown as Obj;
  const forced = s.k.chaos.take("stripe", "card_declined");
  const decline: Decline | null = forced ? { code: "card_declined", decline_code: "generic_decline", message: "Your card was declined.", onAttach: false } : (testCardOf(s, pm.id).decline ?? null);
  const ch = createCharge(s, pseudo, pm, { capture: p.bool("capture") ?? true, decline, threeDS: false });
  const withMeta = s.store.save("charge", { ...ch, metadata: metadata(p) });
  if (decline) {
    const doc_url = `https://stripe.com/docs/error-codes/${decline.code.replaceAll("_", "-")}`;
    throw err.card({ charge: ch.id, code: decline.code, decline_code: decline.decline_code, doc_url, message: decline.message, request_log_url: null });
  }
  return withMeta;
}

/** Captures `amount` of an authorized charge; the rest is released (shown as refunded). */
export function captureCharge(s: Ctx, id: string, amount: number): Obj {
  const before = s.store.get("charge", id);
  const next: Obj = { ...before, captured: true, amount_captured: amount, amount_refunded: Number(before.amount) - amount, balance_transaction: txn(s) };
  s.store.save("charge", next);
  chargeTransaction(s, next);
  emit(s, "charge.captured", next, changed(before, next));
  disputeIfAsked(s, next);
  return s.store.get("charge", id);
}

/** An uncaptured charge whose PaymentIntent is canceled: its authorization is released. */
export function releaseCharge(s: Ctx, id: string): void {
  const before = s.store.get("charge", id);
  const next: Obj = { ...before, amount_refunded: before.amount, refunded: true };
  s.store.save("charge", next);
  emit(s, "charge.refunded", next, changed(before, next));
}

export function updateCharge(s: Ctx, id: string, p: Params): Obj {
  p.allow("description", "metadata", "receipt_email", "shipping", "fraud_details", "transfer_group", "customer");
  const before = s.store.get("charge", id);
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  for (const f of ["description", "receipt_email", "transfer_group"]) if (p.has(f)) next[f] = p.str(f) ?? null;
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("charge", next);
  emit(s, "charge.updated", next, prev);
  return next;
}

export function listCharges(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer", "payment_intent", "transfer_group");
  return listJson("/v1/charges", s.store.list("charge", listQuery(p), { customer: p.str("customer") ?? undefined, payment_intent: p.str("payment_intent") ?? undefined }));
}

export const searchCharges = (s: Ctx, p: Params) => search(s, p, "charge", "charges", ["amount", "created", "currency", "customer", "disputed", "payment_method_details.card.last4", "refunded", "status", "payment_intent"]);

// ---- refunds --------------------------------------------------------------------------------

const money = (n: number, currency: string) => `${currency === "usd" ? "$" : ""}${(n / 100).toFixed(2)}${currency === "usd" ? "" : ` ${currency.toUpperCase()}`}`;

export function createRefund(s: Ctx, p: Params): Obj {
  p.allow("charge", "payment_intent", "amount", "reason", "metadata", "instructions_email", "refund_application_fee", "reverse_transfer", "currency", "customer", "origin");
  let chargeId = p.str("charge") ?? null;
  const piId = p.str("payment_intent") ?? null;
  if (!chargeId && !piId) throw err.invalid("One of the following params should be provided for this request: payment_intent or charge.", { code: "parameter_missing" });
  if (chargeId && piId) {
    const c = s.store.get("charge", chargeId, "charge");
    if (c.payment_intent !== piId) throw err.invalid(`The charge '${chargeId}' does not belong to the PaymentIntent '${piId}'.`, { param: "charge" });
  }
  if (!chargeId) {
    const pi = s.store.get("payment_intent", piId!, "payment_intent");
    if (pi.status !== "succeeded" || !pi.latest_charge) {
      throw err.invalid(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { param: "payment_intent" });
    }
    chargeId = String(pi.latest_charge);
  }
  const before = s.store.get("charge", chargeId, "charge");
  if (before.status !== "succeeded") throw err.invalid(`Charge ${chargeId} has a status of ${before.status} and cannot be refunded.`, { param: "charge" });
  if (!before.captured) throw err.invalid(`Charge ${chargeId} has not been captured; cancel its PaymentIntent to release the authorization.`, { param: "charge" });
  // A partial capture shows its released remainder as refunded, so what is left is amount - refunded.
  const remaining = Number(before.amount) - Number(before.amount_refunded);
  if (remaining <= 0) throw err.invalid(`Charge ${chargeId} has already been refunded.`, { code: "charge_already_refunded" });
  const amount = p.int("amount", { min: 1 }) ?? remaining;
  const currency = String(before.currency);
  if (amount > remaining) {
    throw err.invalid(`Refund amount (${money(amount, currency)}) is greater than unrefunded amount on charge (${money(remaining, currency)})`, { param: "amount", code: "amount_too_large" });
  }
  const refund: Obj = {
    id: newId(s.k, "refund"),
    object: "refund",
    amount,
    balance_transaction: txn(s),
    charge: chargeId,
    created: unixNow(s.k),
    currency,
    customer: before.customer ?? null,
    customer_account: null,
    destination_details: { card: { reference: null, reference_status: "pending", reference_type: "acquirer_reference_number", type: "refund" }, type: "card" },
    metadata: metadata(p),
    payment_intent: before.payment_intent,
    payment_method: before.payment_method ?? null,
    reason: p.oneOf("reason", ["duplicate", "fraudulent", "requested_by_customer"]) ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
  s.store.insert("refund", refund);
  refundTransaction(s, refund, before);
  const refunded = Number(before.amount_refunded) + amount;
  const next: Obj = { ...before, amount_refunded: refunded, refunded: refunded >= Number(before.amount) };
  s.store.save("charge", next);
  emit(s, "refund.created", refund);
  emit(s, "charge.refunded", next, changed(before, next));
  return refund;
}

export function updateRefund(s: Ctx, id: string, p: Params): Obj {
  p.allow("metadata");
  const before = s.store.get("refund", id);
  const next = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  const prev = changed(before, next);
  if (Object.keys(prev).length === 0) return before;
  s.store.save("refund", next);
  emit(s, "refund.updated", next, prev);
  return next;
}

export function cancelRefund(s: Ctx, id: string): Obj {
  const r = s.store.get("refund", id);
  throw err.invalid(`Refund ${r.id} has a status of ${r.status}. Only refunds with a status of requires_action can be canceled.`, { param: "refund" });
}

export function listRefunds(s: Ctx, p: Params, charge?: string) {
  p.allow(...LIST_PARAMS, ...(charge ? [] : ["charge"]), "payment_intent");
  const ch = charge ?? p.str("charge") ?? undefined;
  return listJson(charge ? `/v1/charges/${charge}/refunds` : "/v1/refunds", s.store.list("refund", listQuery(p), { charge: ch, payment_intent: p.str("payment_intent") ?? undefined }));
}
