// What the run clock does to subscriptions: trial_will_end three days ahead, renewals that draft,
// finalize and charge an invoice, dunning (retries, then what the settings say), incomplete
// subscriptions expiring; and paying an open invoice by hand.
import type { Kernel } from "../../kernel/types.ts";
import { err, StripeError } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { attemptPayment, finalizeInvoice, markPaid, markUncollectible, setNextAttempt, voidInvoice } from "./invoices.ts";
import { renewDue } from "./bulk-renewals.ts";
import { atBoundary } from "./schedules.ts";
import { unixNow, type Obj } from "./store.ts";
import { ctxOf, type Ctx, type Params } from "./wire.ts";
import {
  CANCEL_AT, DAY, EXPIRE, RENEW, RENEWALS, RESUME_COLLECTION, RETRY, TRIAL_WILL_END, TRIAL_WILL_END_DAYS, addInterval, draftFor, endSubscription, invoiceFor, items, paymentMethodFor, period,
  scheduleRenewal, withPeriod,
} from "./subscriptions.ts";

/**
 * What happens after a renewal payment fails: retries `retryDays` after each failure, then
 * `onFailure` (the subscription is canceled, or left past_due / unpaid). Changed through the admin
 * API (`POST {adminUrl}/stripe/settings/dunning`), as in Stripe's dashboard.
 */
export interface Dunning {
  retryDays: number[];
  onFailure: "cancel" | "past_due" | "unpaid";
  /** What becomes of the invoice when retries are exhausted. */
  invoice: "leave_open" | "mark_uncollectible";
}
export const DEFAULT_DUNNING: Dunning = { retryDays: [3, 5, 7], onFailure: "cancel", invoice: "leave_open" };

export function dunningOf(s: Ctx): Dunning {
  const row = s.k.sql.exec<{ value: string }>("SELECT value FROM stripe_settings WHERE key = 'dunning'").toArray()[0];
  return row ? { ...DEFAULT_DUNNING, ...(JSON.parse(row.value) as Partial<Dunning>) } : DEFAULT_DUNNING;
}

export function setDunning(s: Ctx, d: Dunning): void {
  s.k.sql.exec("INSERT INTO stripe_settings (key, value) VALUES ('dunning', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", JSON.stringify(d));
}
/** A renewal (or a retry) settled: active and the next renewal scheduled, or past_due and a retry. */
function afterAttempt(s: Ctx, sub: Obj, inv: Obj, paid: boolean, attempt: number): string {
  const before = s.store.get("subscription", sub.id);
  if (paid) {
    const next = { ...before, status: "active", latest_invoice: inv.id };
    s.store.save("subscription", next);
    emit(s, "customer.subscription.updated", next, changed(before, next));
    return `subscription ${sub.id} renewed, invoice ${inv.id} paid`;
  }
  const dunning = dunningOf(s);
  const days = dunning.retryDays[attempt - 1];
  if (days === undefined) {
    setNextAttempt(s, inv, null);
    if (dunning.invoice === "mark_uncollectible") {
      const open = s.store.get("invoice", inv.id);
      const marked = { ...open, status: "uncollectible", status_transitions: { ...(open.status_transitions as Obj), marked_uncollectible_at: unixNow(s.k) } };
      s.store.save("invoice", marked);
      emit(s, "invoice.marked_uncollectible", marked, changed(open, marked));
    }
    if (dunning.onFailure === "cancel") {
      endSubscription(s, before, "payment_failed");
      return `subscription ${sub.id} canceled after ${attempt} failed payments`;
    }
    const next = { ...before, status: dunning.onFailure, latest_invoice: inv.id };
    s.store.save("subscription", next);
    if (before.status !== next.status) emit(s, "customer.subscription.updated", next, changed(before, next));
    return `subscription ${sub.id} ${dunning.onFailure} after ${attempt} failed payments`;
  }
  const at = unixNow(s.k) + days * DAY;
  setNextAttempt(s, inv, at);
  s.k.jobs.schedule("stripe", RETRY, at * 1000, { attempt: attempt + 1 }, inv.id);
  const next = { ...before, status: "past_due", latest_invoice: inv.id };
  s.store.save("subscription", next);
  if (before.status !== "past_due") emit(s, "customer.subscription.updated", next, changed(before, next));
  return `subscription ${sub.id} past_due, invoice ${inv.id} retried in ${days} days`;
}

/**
 * One subscription's renewal: period moved, invoice drafted, finalized and charged (or not). With
 * collection paused the invoice is kept as a draft, marked uncollectible or voided instead.
 */
function renewOne(s: Ctx, id: string, reason = "subscription_cycle"): string | undefined {
  const found = s.store.find("subscription", id);
  if (!found || found.status === "canceled" || found.status === "incomplete_expired") return;
  const old = period(found);
  // A schedule's phase boundary first: the next phase's items are what this period bills.
  const sub = atBoundary(s, found, old.end);
  if (!sub) return `subscription ${id} canceled at the end of its schedule`;
  if (sub.cancel_at_period_end || (sub.cancel_at !== null && Number(sub.cancel_at) <= old.end)) {
    endSubscription(s, sub, "cancellation_requested");
    return `subscription ${sub.id} canceled at period end`;
  }
  const price = items(sub)[0].price as Obj;
  const rec = price.recurring as Obj;
  const end = addInterval(old.end, String(rec.interval), Number(rec.interval_count));
  const moved = withPeriod(sub, old.end, end);
  s.store.save("subscription", moved);
  scheduleRenewal(s, sub.id, end);
  const paused = sub.pause_collection as { behavior: string } | null;
  if (paused) return renewPaused(s, moved, paused.behavior, reason, old.end, end);
  const inv = invoiceFor(s, moved, reason, old.end, end, false);
  if (sub.collection_method === "send_invoice") return `subscription ${sub.id} invoiced (${inv.id})`;
  const r = attemptPayment(s, inv, paymentMethodFor(s, moved));
  return afterAttempt(s, { ...moved, status: sub.status }, r.invoice, r.paid, 1);
}

function renewPaused(s: Ctx, sub: Obj, behavior: string, reason: string, start: number, end: number): string {
  let inv = draftFor(s, sub, reason, start, end, false);
  if (behavior === "keep_as_draft") {
    inv = { ...inv, auto_advance: false, automatically_finalizes_at: null };
    s.store.save("invoice", inv);
  } else {
    inv = finalizeInvoice(s, inv);
    if (inv.status === "open") inv = behavior === "void" ? voidInvoice(s, inv.id) : markUncollectible(s, inv.id);
  }
  // Paused collection leaves the subscription as it was, but a trial that ran out is over.
  const before = s.store.get("subscription", sub.id);
  const next = { ...before, status: before.status === "trialing" ? "active" : before.status, latest_invoice: inv.id };
  s.store.save("subscription", next);
  emit(s, "customer.subscription.updated", next, changed(before, next));
  return `subscription ${sub.id} renewed with collection paused, invoice ${inv.id} ${inv.status}`;
}

/** Renews a subscription at once (its trial ended now): the new period starts now. */
export function renewNow(s: Ctx, id: string, reason: string): string | undefined {
  return renewOne(s, id, reason);
}

export function subscriptionJobs(k: Kernel) {
  return {
    [TRIAL_WILL_END]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const sub = s.store.find("subscription", job.ref!);
      if (!sub || sub.status !== "trialing") return;
      emit(s, "customer.subscription.trial_will_end", sub);
      return `subscription ${sub.id} trial ends in ${TRIAL_WILL_END_DAYS} days`;
    },
    [RENEW]: (_p: Record<string, unknown>, job: { ref: string | null }) => renewOne(ctxOf(k), job.ref!),
    [RENEWALS]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const done = renewDue(ctxOf(k), Number(job.ref), renewOne);
      return done.length <= 10 ? done.join("; ") : `${done.length} subscriptions renewed or ended`;
    },
    [CANCEL_AT]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const sub = s.store.find("subscription", job.ref!);
      if (!sub || sub.status === "canceled" || sub.cancel_at === null || Number(sub.cancel_at) > unixNow(s.k)) return;
      endSubscription(s, sub, "cancellation_requested");
      return `subscription ${sub.id} canceled at its cancel_at`;
    },
    [RESUME_COLLECTION]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const sub = s.store.find("subscription", job.ref!);
      const resumes = (sub?.pause_collection as { resumes_at: number | null } | null | undefined)?.resumes_at;
      if (!sub || sub.status === "canceled" || !resumes || resumes > unixNow(s.k)) return;
      const next = { ...sub, pause_collection: null };
      s.store.save("subscription", next);
      emit(s, "customer.subscription.updated", next, changed(sub, next));
      return `subscription ${sub.id} collection resumed`;
    },
    [EXPIRE]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const sub = s.store.find("subscription", job.ref!);
      if (!sub || sub.status !== "incomplete") return;
      const next = { ...sub, status: "incomplete_expired", ended_at: unixNow(s.k) };
      s.store.save("subscription", next);
      const inv = sub.latest_invoice ? s.store.find("invoice", String(sub.latest_invoice)) : null;
      if (inv?.status === "open") {
        const voided = { ...inv, status: "void", amount_remaining: 0, status_transitions: { ...(inv.status_transitions as Obj), voided_at: unixNow(s.k) } };
        s.store.save("invoice", voided);
        emit(s, "invoice.voided", voided, changed(inv, voided));
      }
      emit(s, "customer.subscription.deleted", next);
      return `subscription ${sub.id} incomplete_expired`;
    },
    [RETRY]: (p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const inv = s.store.find("invoice", job.ref!);
      if (!inv || inv.status !== "open") return;
      const sub = s.store.find("subscription", String(inv.subscription));
      if (!sub || sub.status === "canceled") return;
      const r = attemptPayment(s, inv, paymentMethodFor(s, sub));
      return afterAttempt(s, sub, r.invoice, r.paid, Number(p.attempt));
    },
  };
}

/** A paid invoice revives its subscription: active again, and renewing if it never did. */
function activate(s: Ctx, sub: Obj, invoiceId: string, defaultPaymentMethod?: string): void {
  const next: Obj = { ...sub, latest_invoice: invoiceId, ...(defaultPaymentMethod ? { default_payment_method: defaultPaymentMethod } : {}) };
  if (sub.status !== "canceled") next.status = "active";
  const prev = changed(sub, next);
  if (!Object.keys(prev).length) return;
  s.store.save("subscription", next);
  emit(s, "customer.subscription.updated", next, prev);
  if (sub.status === "incomplete") {
    s.k.jobs.cancel(EXPIRE, sub.id);
    scheduleRenewal(s, sub.id, period(sub).end);
  }
}

/**
 * An invoice's own PaymentIntent succeeded (its customer confirmed it): the invoice is paid, and
 * its subscription active, with the card as its default when its settings save it.
 */
export function intentPaid(s: Ctx, invoiceId: string, pi: Obj): void {
  const inv = s.store.find("invoice", invoiceId);
  if (!inv || inv.status !== "open") return;
  markPaid(s, inv, pi);
  s.k.jobs.cancel(RETRY, invoiceId);
  const sub = inv.subscription ? s.store.find("subscription", String(inv.subscription)) : null;
  if (!sub || sub.status === "canceled") return;
  const save = (sub.payment_settings as { save_default_payment_method?: string } | null)?.save_default_payment_method === "on_subscription";
  activate(s, sub, invoiceId, save ? String(pi.payment_method) : undefined);
}

/**
 * Pays an invoice now (a customer fixed their card): a draft is finalized first, an uncollectible
 * one may still be paid; a past_due subscription becomes active. The payment method is the one
 * given, else the invoice's default, else the subscription's or the customer's invoice default.
 */
export function payInvoice(s: Ctx, id: string, p: Params): Obj {
  p.allow("payment_method", "off_session", "paid_out_of_band", "forgive", "source", "mandate");
  let inv = s.store.get("invoice", id, "invoice");
  if (inv.status === "paid") throw err.invalid("Invoice is already paid", { code: "invoice_already_paid" });
  if (inv.status === "void") throw err.invalid("Voided invoices cannot be paid.", { code: "invoice_not_editable" });
  const pmParam = p.str("payment_method") ?? null;
  if (pmParam) {
    const pm = s.store.get("payment_method", pmParam, "payment_method");
    if (pm.customer && pm.customer !== inv.customer) throw err.invalid(`The PaymentMethod ${pmParam} does not belong to the invoice's customer.`, { param: "payment_method" });
  }
  const outOfBand = p.bool("paid_out_of_band") ?? false;
  if (inv.status === "draft") inv = finalizeInvoice(s, inv);
  const sub = inv.subscription ? s.store.find("subscription", String(inv.subscription)) : null;
  let paid: boolean;
  let error: Record<string, unknown> | null = null;
  if (outOfBand) {
    const next = { ...inv, status: "paid", amount_remaining: 0, next_payment_attempt: null, status_transitions: { ...(inv.status_transitions as Obj), paid_at: unixNow(s.k) } };
    s.store.save("invoice", next);
    emit(s, "invoice.paid", next, changed(inv, next));
    paid = true;
  } else {
    const customer = s.store.find("customer", String(inv.customer));
    const pm = pmParam ?? (inv.default_payment_method as string | null) ?? (sub ? paymentMethodFor(s, sub) : null) ??
      (((customer?.invoice_settings as Obj | undefined)?.default_payment_method as string | null) ?? null);
    const r = attemptPayment(s, inv, pm);
    paid = r.paid;
    error = r.error;
  }
  if (paid) {
    s.k.jobs.cancel(RETRY, id);
    if (sub && sub.status !== "active" && sub.status !== "canceled") activate(s, sub, id);
    return s.store.get("invoice", id);
  }
  if (error?.type === "card_error") throw err.card(error);
  throw new StripeError(402, { ...error, type: error?.type ?? "invalid_request_error" }, true);
}
