// Payouts of the available balance to the account's (test) bank account: the amount leaves the
// balance at once, the payout is paid on its arrival date on the run clock (payout.paid), and a
// pending one can be canceled, which returns the funds.
import type { Kernel } from "../../kernel/types.ts";
import { StripeError, err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, ctxOf, listJson, listQuery, metadata, type Ctx, type Params } from "./wire.ts";
import { availableOf, payoutTransaction } from "./balance.ts";

const ARRIVE_JOB = "stripe.payout_arrival";
/** The account's one external account in test mode. */
const BANK = "ba_1MolarClonesTestBank000";

export function createPayout(s: Ctx, p: Params): Obj {
  p.allow("amount", "currency", "description", "metadata", "method", "statement_descriptor", "source_type", "destination");
  const amount = p.int("amount", { required: true, min: 1 })!;
  const currency = p.reqStr("currency").toLowerCase();
  const method = p.oneOf("method", ["standard", "instant"]) ?? "standard";
  if (method === "instant") throw new StripeError(501, { type: "api_error", code: "not_implemented", message: "Instant payouts are not implemented by the Stripe clone yet." });
  const destination = p.str("destination") ?? BANK;
  if (destination !== BANK) throw err.missing("external account", destination, "destination");
  const available = availableOf(s, currency);
  if (amount > available) {
    throw err.invalid(`You have insufficient funds in your Stripe account for this payout (${amount} ${currency} requested, ${available} available).`, { code: "balance_insufficient", param: "amount" });
  }
  const now = unixNow(s.k);
  // Standard payouts arrive at the next midnight UTC (a test bank account pays at once).
  const arrival = (Math.floor(now / 86_400) + 1) * 86_400;
  const id = newId(s.k, "payout");
  const tx = payoutTransaction(s, id, -amount, currency, "STRIPE PAYOUT", "payout");
  const payout: Obj = {
    id, object: "payout", amount, application_fee: null, application_fee_amount: null, arrival_date: arrival, automatic: false, balance_transaction: tx,
    created: now, currency, description: p.str("description") ?? "STRIPE PAYOUT", destination, failure_balance_transaction: null, failure_code: null, failure_message: null,
    livemode: false, metadata: metadata(p), method, original_payout: null, payout_method: null, reconciliation_status: "not_applicable", reversed_by: null,
    source_type: p.oneOf("source_type", ["bank_account", "card", "fpx"]) ?? "card", statement_descriptor: p.str("statement_descriptor") ?? null,
    status: "pending", trace_id: null, type: "bank_account",
  };
  s.store.insert("payout", payout);
  s.k.jobs.schedule("stripe", ARRIVE_JOB, arrival * 1000, {}, id);
  emit(s, "payout.created", payout);
  return payout;
}

export function updatePayout(s: Ctx, id: string, p: Params): Obj {
  p.allow("metadata");
  const before = s.store.get("payout", id);
  const next = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  const prev = changed(before, next);
  if (!Object.keys(prev).length) return before;
  s.store.save("payout", next);
  emit(s, "payout.updated", next, prev);
  return next;
}

export function cancelPayout(s: Ctx, id: string): Obj {
  const before = s.store.get("payout", id);
  if (before.status !== "pending") throw err.invalid(`Payouts can only be canceled while they are pending. This payout is ${before.status}.`, { param: "payout" });
  payoutTransaction(s, id, Number(before.amount), String(before.currency), `Payout cancellation for ${id}`, "payout_cancel");
  const next = { ...before, status: "canceled" };
  s.store.save("payout", next);
  s.k.jobs.cancel(ARRIVE_JOB, id);
  emit(s, "payout.canceled", next, changed(before, next));
  return next;
}

export function listPayouts(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "status", "destination", "arrival_date");
  return listJson("/v1/payouts", s.store.list("payout", listQuery(p), { status: p.oneOf("status", ["pending", "paid", "failed", "canceled"]), destination: p.str("destination") ?? undefined }));
}

export function payoutJobs(k: Kernel) {
  return {
    [ARRIVE_JOB]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const before = s.store.find("payout", job.ref!);
      if (!before || before.status !== "pending") return;
      const next = { ...before, status: "paid" };
      s.store.save("payout", next);
      emit(s, "payout.paid", next, changed(before, next));
      return `payout ${before.id} paid`;
    },
  };
}
