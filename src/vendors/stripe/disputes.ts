// Disputes, as Stripe's test cards make them: a charge on 4000000000000259 (pm_card_createDispute)
// is disputed as fraudulent right after it succeeds, 4000000000002685 as product not received,
// 4000000000001976 opens an inquiry. A chargeback withdraws the amount and a $15 fee from the
// balance. Evidence is updated or submitted through the API; submitted with `winning_evidence`
// in uncategorized_text the dispute is won (funds reinstated), with `losing_evidence` lost, a
// minute later on the run clock, as test mode decides them. Closing accepts the loss.
import type { Kernel } from "../../kernel/types.ts";
import { err } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, ctxOf, listJson, listQuery, metadata, type Ctx, type Params } from "./wire.ts";
import { disputeTransaction } from "./balance.ts";

export type DisputeKind = "fraudulent" | "product_not_received" | "inquiry";

const DECIDE_JOB = "stripe.dispute_decision";
const DISPUTE_FEE = 1500;
/** Evidence is due seven days after the dispute opens (test mode's window). */
const DUE_DAYS = 7;

const EVIDENCE_TEXT = [
  "access_activity_log", "billing_address", "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
  "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
  "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address", "shipping_carrier", "shipping_date",
  "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text", "cancellation_policy",
];

const emptyEvidence = () => ({ ...Object.fromEntries(EVIDENCE_TEXT.map((k) => [k, null])), enhanced_evidence: {} });

/** Opens the dispute a test card asks for, right after its charge succeeded. */
export function openDispute(s: Ctx, charge: Obj, kind: DisputeKind): Obj {
  const now = unixNow(s.k);
  const inquiry = kind === "inquiry";
  const card = ((charge.payment_method_details as Obj).card ?? {}) as Obj;
  const dispute: Obj = {
    id: newId(s.k, "dispute"),
    object: "dispute",
    amount: charge.amount,
    balance_transactions: [] as Obj[],
    charge: charge.id,
    created: now,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: emptyEvidence(),
    evidence_details: { due_by: now + DUE_DAYS * 86_400, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: inquiry,
    livemode: false,
    metadata: {},
    payment_intent: charge.payment_intent ?? null,
    payment_method_details: { card: { brand: card.brand ?? "visa", case_type: inquiry ? "inquiry" : "chargeback", network_reason_code: kind === "fraudulent" ? "10.4" : "13.1" }, type: "card" },
    reason: inquiry ? "general" : kind,
    status: inquiry ? "warning_needs_response" : "needs_response",
  };
  if (!inquiry) dispute.balance_transactions = [disputeTransaction(s, dispute, -Number(charge.amount), DISPUTE_FEE, "Chargeback withdrawal")];
  s.store.insert("dispute", dispute);
  const ch = { ...s.store.get("charge", String(charge.id)), disputed: true, dispute: dispute.id };
  s.store.save("charge", ch);
  emit(s, "charge.dispute.created", dispute);
  if (!inquiry) emit(s, "charge.dispute.funds_withdrawn", dispute);
  return dispute;
}

function evidenceOf(p: Params, prev: Obj): Obj {
  const e = p.obj("evidence");
  if (!e) return prev;
  e.allow(...EVIDENCE_TEXT, "enhanced_evidence");
  const next: Obj = { ...prev };
  for (const k of EVIDENCE_TEXT) if (e.has(k)) next[k] = e.str(k) ?? null;
  return next;
}

export function updateDispute(s: Ctx, id: string, p: Params): Obj {
  p.allow("evidence", "metadata", "submit");
  const before = s.store.get("dispute", id);
  const open = before.status === "needs_response" || before.status === "warning_needs_response";
  if (!open) throw err.invalid(`This dispute is already ${before.status === "under_review" || before.status === "warning_under_review" ? "under review" : "closed"} and its evidence can no longer be changed.`, { param: "evidence" });
  const evidence = evidenceOf(p, before.evidence as Obj);
  const submit = p.bool("submit") ?? false;
  const details = before.evidence_details as Obj;
  const hasEvidence = EVIDENCE_TEXT.some((k) => evidence[k] !== null && evidence[k] !== "");
  const next: Obj = {
    ...before,
    evidence,
    metadata: metadata(p, before.metadata as Record<string, string>),
    evidence_details: { ...details, has_evidence: hasEvidence, submission_count: Number(details.submission_count) + (submit ? 1 : 0) },
    status: submit ? (before.status === "warning_needs_response" ? "warning_under_review" : "under_review") : before.status,
  };
  s.store.save("dispute", next);
  emit(s, "charge.dispute.updated", next, changed(before, next));
  const text = String(evidence.uncategorized_text ?? "");
  if (submit && (text.includes("winning_evidence") || text.includes("losing_evidence"))) {
    s.k.jobs.schedule("stripe", DECIDE_JOB, s.k.clock.now() + 60_000, { won: text.includes("winning_evidence") }, id);
  }
  return next;
}

/** Accepting the dispute: it is lost and the funds stay withdrawn. */
export function closeDispute(s: Ctx, id: string): Obj {
  const before = s.store.get("dispute", id);
  if (before.status === "won" || before.status === "lost" || before.status === "warning_closed") throw err.invalid(`This dispute is already closed.`, { param: "dispute" });
  return decide(s, before, false);
}

function decide(s: Ctx, before: Obj, won: boolean): Obj {
  const inquiry = String(before.status).startsWith("warning_");
  const next: Obj = { ...before, status: inquiry ? "warning_closed" : won ? "won" : "lost", is_charge_refundable: inquiry };
  if (won && !inquiry) next.balance_transactions = [...(before.balance_transactions as Obj[]), disputeTransaction(s, before, Number(before.amount), -DISPUTE_FEE, "Chargeback reversal")];
  s.store.save("dispute", next);
  emit(s, "charge.dispute.closed", next, changed(before, next));
  if (won && !inquiry) emit(s, "charge.dispute.funds_reinstated", next);
  return next;
}

export function listDisputes(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "charge", "payment_intent");
  return listJson("/v1/disputes", s.store.list("dispute", listQuery(p), { charge: p.str("charge") ?? undefined, payment_intent: p.str("payment_intent") ?? undefined }));
}

export function disputeJobs(k: Kernel) {
  return {
    [DECIDE_JOB]: (payload: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const d = s.store.find("dispute", job.ref!);
      if (!d || (d.status !== "under_review" && d.status !== "warning_under_review")) return;
      const next = decide(s, d, payload.won === true);
      return `dispute ${d.id} ${next.status}`;
    },
  };
}
