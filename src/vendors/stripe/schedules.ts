// Subscription schedules: a subscription's items in phases on the run clock. A schedule starting now
// (or when its start_date comes) creates its subscription from the first phase; at each phase's end,
// the renewal (renewals.ts, atBoundary) moves the subscription to the next phase's items before it
// drafts that period's invoice; after the last phase the subscription is released or canceled.
// Phases end on billing-period boundaries (iterations, or an end_date that is one); a phase ending
// mid-period, or changing the billing interval, would need prorations and answers a 501.
import type { Kernel } from "../../kernel/types.ts";
import { err, StripeError } from "./errors.ts";
import { changed, emit } from "./events.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, Params, listJson, listQuery, metadata, type Ctx, ctxOf } from "./wire.ts";
import { addInterval, createSubscription, endSubscription, items, period, planOf } from "./subscriptions.ts";

export const SCHEDULE_START = "stripe.subscription_schedule_start";

const unbuilt = (what: string) => new StripeError(501, { type: "api_error", code: "not_implemented", message: `${what} is not implemented by the Stripe clone yet.` });

interface PhaseItem { price: string; quantity: number }
interface Interval { interval: string; count: number }

const AUTOMATIC_TAX = { disabled_reason: null, enabled: false, liability: null };
const INVOICE_SETTINGS = { account_tax_ids: null, days_until_due: null, issuer: { type: "self" } };

function phaseJson(s: Ctx, start: number, end: number, list: PhaseItem[], prorationBehavior: string, meta: Record<string, string>): Obj {
  const currency = list.length ? s.store.get("price", list[0].price).currency : null;
  return {
    add_invoice_items: [], application_fee_percent: null, automatic_tax: AUTOMATIC_TAX, billing_cycle_anchor: null, billing_thresholds: null, collection_method: null,
    currency, default_payment_method: null, default_tax_rates: [], description: null, discounts: [], end_date: end, invoice_settings: null,
    items: list.map((i) => ({ billing_thresholds: null, discounts: [], metadata: {}, plan: i.price, price: i.price, quantity: i.quantity, tax_rates: [] })),
    metadata: meta, on_behalf_of: null, proration_behavior: prorationBehavior, start_date: start, transfer_data: null, trial_end: null,
  } as unknown as Obj;
}

function intervalOf(price: Obj): Interval {
  const r = price.recurring as Obj | null;
  if (!r) throw err.invalid(`The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`, { param: "phases" });
  return { interval: String(r.interval), count: Number(r.interval_count) };
}

/**
 * A phase's end: `end_date`, `duration` (this API version's way) or `iterations` (older versions'),
 * one billing period by default; it must fall on a billing-period boundary from the phase's start.
 */
function phaseEnd(pp: Params, start: number, iv: Interval, i: number): number {
  const iterations = pp.int("iterations", { min: 1 });
  const duration = pp.obj("duration");
  let endDate = pp.int("end_date");
  if ([iterations, duration, endDate].filter((x) => x !== undefined && x !== null).length > 1) {
    throw err.invalid("You may only specify one of these parameters: duration, end_date, iterations.", { param: `phases[${i}][end_date]` });
  }
  if (duration) {
    duration.allow("interval", "interval_count");
    const unit = duration.oneOf("interval", ["day", "week", "month", "year"], { required: true })!;
    endDate = addInterval(start, unit, duration.int("interval_count", { min: 1 }) ?? 1);
  }
  if (endDate === undefined) return addInterval(start, iv.interval, iv.count * (iterations ?? 1));
  if (endDate <= start) throw err.invalid("The phase's end_date must be after its start_date.", { param: `phases[${i}][end_date]` });
  for (let n = 1, at = addInterval(start, iv.interval, iv.count); at <= endDate; n++, at = addInterval(start, iv.interval, iv.count * n)) if (at === endDate) return endDate;
  throw unbuilt("A schedule phase ending in the middle of a billing period (prorated)");
}

/** The `phases` param as phase objects, the first starting at `start`, each where the last ended. */
function phasesParam(s: Ctx, p: Params, start: number): Obj[] {
  const list = p.list("phases");
  if (!list || list.length === 0) throw err.missingParam("phases");
  let at = start;
  let iv: Interval | null = null;
  return list.map((pp, i) => {
    pp.allow("items", "iterations", "end_date", "start_date", "proration_behavior", "metadata", "trial", "trial_end", "currency", "description", "default_payment_method",
      "collection_method", "add_invoice_items", "default_tax_rates", "discounts", "automatic_tax", "billing_cycle_anchor", "invoice_settings", "on_behalf_of", "transfer_data",
      "application_fee_percent", "billing_thresholds", "trial_continuation", "duration");
    for (const k of ["trial", "trial_end", "add_invoice_items", "default_tax_rates", "discounts", "billing_cycle_anchor", "on_behalf_of", "transfer_data", "application_fee_percent",
      "billing_thresholds", "default_payment_method", "collection_method"]) {
      const v = pp.raw[k];
      if (v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0) && v !== "false") throw unbuilt(`Schedule phases with \`${k}\``);
    }
    const given = pp.raw.start_date === "now" ? unixNow(s.k) : pp.int("start_date");
    if (given !== undefined && given !== at) {
      throw err.invalid(i === 0 ? "The first phase's start_date must be the schedule's start (or the current phase's)." : "A phase must start where the previous phase ends.", { param: `phases[${i}][start_date]` });
    }
    const itemList = pp.list("items");
    if (!itemList || itemList.length === 0) throw err.missingParam(`phases[${i}][items]`);
    const phaseItems = itemList.map((ip, j) => {
      ip.allow("price", "plan", "quantity", "metadata", "price_data", "tax_rates", "discounts", "billing_thresholds");
      if (ip.raw.price_data !== undefined) throw unbuilt("Schedule phase items with `price_data`");
      const priceId = ip.str("price") ?? ip.str("plan");
      if (!priceId) throw err.missingParam(`phases[${i}][items][${j}][price]`);
      const price = s.store.get("price", priceId, `phases[${i}][items][${j}][price]`);
      const piv = intervalOf(price);
      if (iv && (piv.interval !== iv.interval || piv.count !== iv.count)) throw unbuilt("A schedule whose phases bill at different intervals");
      iv = piv;
      return { price: price.id, quantity: ip.int("quantity", { min: 0 }) ?? 1 };
    });
    const end = phaseEnd(pp, at, iv!, i);
    const phase = phaseJson(s, at, end, phaseItems, pp.oneOf("proration_behavior", ["always_invoice", "create_prorations", "none"]) ?? "create_prorations", metadata(pp));
    at = end;
    return phase;
  });
}

function baseSchedule(s: Ctx, customer: string, endBehavior: string, meta: Record<string, string>): Obj {
  const c = s.store.get("customer", customer, "customer");
  return {
    id: newId(s.k, "subscription_schedule"), object: "subscription_schedule", application: null, billing_mode: { flexible: null, type: "classic" }, canceled_at: null, completed_at: null,
    created: unixNow(s.k), current_phase: null, customer: c.id, customer_account: null,
    default_settings: {
      application_fee_percent: null, automatic_tax: AUTOMATIC_TAX, billing_cycle_anchor: "automatic", billing_thresholds: null, collection_method: "charge_automatically",
      default_payment_method: null, description: null, invoice_settings: INVOICE_SETTINGS, on_behalf_of: null, transfer_data: null,
    },
    end_behavior: endBehavior, livemode: false, metadata: meta, phases: [], released_at: null, released_subscription: null, status: "not_started", subscription: null,
    test_clock: c.test_clock ?? null,
  };
}

const phaseItems = (phase: Obj) => (phase.items as { price: string; quantity: number }[]).map((i) => ({ price: i.price, quantity: i.quantity }));

/** Creates the schedule's subscription from its first phase, now. */
function start(s: Ctx, sched: Obj): Obj {
  const first = (sched.phases as Obj[])[0];
  const sub = createSubscription(s, new Params({ customer: String(sched.customer), items: phaseItems(first).map((i) => ({ price: i.price, quantity: String(i.quantity) })) }));
  s.store.save("subscription", { ...s.store.get("subscription", sub.id), schedule: sched.id });
  const next = { ...sched, status: "active", subscription: sub.id, current_phase: { start_date: first.start_date, end_date: first.end_date } };
  s.store.save("subscription_schedule", next);
  return next;
}

export function createSchedule(s: Ctx, p: Params): Obj {
  p.allow("customer", "customer_account", "phases", "start_date", "end_behavior", "metadata", "from_subscription", "default_settings", "billing_mode");
  const endBehavior = p.oneOf("end_behavior", ["cancel", "release", "none", "renew"]) ?? "release";
  if (endBehavior === "none" || endBehavior === "renew") throw unbuilt(`end_behavior=${endBehavior}`);
  if (p.raw.default_settings !== undefined) throw unbuilt("Schedules with `default_settings`");
  const fromSub = p.str("from_subscription");
  if (fromSub) {
    for (const k of ["customer", "phases", "start_date", "end_behavior"]) if (p.has(k)) throw err.invalid(`You cannot set '${k}' if 'from_subscription' is set.`, { param: k });
    const sub = s.store.get("subscription", fromSub, "from_subscription");
    if (sub.schedule) throw err.invalid(`You cannot migrate a subscription that is already attached to a schedule: \`${sub.schedule}\`.`, { param: "from_subscription" });
    if (sub.status === "canceled" || sub.status === "incomplete_expired") throw err.invalid("You cannot create a schedule from a canceled subscription.", { param: "from_subscription" });
    const per = period(sub);
    const sched: Obj = {
      ...baseSchedule(s, String(sub.customer), "release", metadata(p)),
      status: "active", subscription: sub.id, current_phase: { start_date: per.start, end_date: per.end },
      phases: [phaseJson(s, per.start, per.end, items(sub).map((i) => ({ price: String((i.price as Obj).id), quantity: Number(i.quantity) })), "create_prorations", {})],
    };
    s.store.insert("subscription_schedule", sched);
    s.store.save("subscription", { ...sub, schedule: sched.id });
    emit(s, "subscription_schedule.created", sched);
    return sched;
  }
  const now = unixNow(s.k);
  const startParam = p.str("start_date");
  const at = startParam === undefined || startParam === "now" ? now : p.int("start_date")!;
  if (at < now) throw unbuilt("A schedule starting in the past (backdated)");
  const sched: Obj = { ...baseSchedule(s, p.reqStr("customer"), endBehavior, metadata(p)) };
  sched.phases = phasesParam(s, p, at);
  s.store.insert("subscription_schedule", sched);
  emit(s, "subscription_schedule.created", sched);
  if (at === now) return start(s, sched);
  s.k.jobs.schedule("stripe", SCHEDULE_START, at * 1000, {}, sched.id);
  return sched;
}

export function updateSchedule(s: Ctx, id: string, p: Params): Obj {
  p.allow("phases", "end_behavior", "metadata", "proration_behavior", "default_settings");
  const before = s.store.get("subscription_schedule", id);
  if (before.status !== "active" && before.status !== "not_started") {
    throw err.invalid(`You cannot update a subscription schedule that is ${before.status}.`, { param: "id" });
  }
  if (p.raw.default_settings !== undefined) throw unbuilt("Schedules with `default_settings`");
  const next: Obj = { ...before, metadata: metadata(p, before.metadata as Record<string, string>) };
  if (p.has("end_behavior")) {
    const eb = p.oneOf("end_behavior", ["cancel", "release", "none", "renew"])!;
    if (eb === "none" || eb === "renew") throw unbuilt(`end_behavior=${eb}`);
    next.end_behavior = eb;
  }
  if (p.has("phases")) {
    const old = before.phases as Obj[];
    const current = before.current_phase as { start_date: number } | null;
    const start = current?.start_date ?? Number(old[0].start_date);
    const phases = phasesParam(s, p, start);
    // The phase under way bills what the subscription has: changing it now would prorate.
    if (before.status === "active") {
      const live = old.find((x) => Number(x.start_date) === start)!;
      if (JSON.stringify(phaseItems(phases[0])) !== JSON.stringify(phaseItems(live)) || phases[0].end_date !== live.end_date) {
        throw unbuilt("Changing the items or the end of a schedule's current phase (prorated)");
      }
    }
    next.phases = phases;
  }
  const prev = changed(before, next);
  if (!Object.keys(prev).length) return before;
  s.store.save("subscription_schedule", next);
  emit(s, "subscription_schedule.updated", next, prev);
  return next;
}

export function cancelSchedule(s: Ctx, id: string, p: Params): Obj {
  p.allow("invoice_now", "prorate");
  if (p.bool("invoice_now") || p.bool("prorate")) throw unbuilt("Cancelling a schedule with `invoice_now` or `prorate`");
  const before = s.store.get("subscription_schedule", id);
  if (before.status !== "active" && before.status !== "not_started") throw err.invalid(`You cannot cancel a subscription schedule that is ${before.status}.`, { param: "id" });
  s.k.jobs.cancel(SCHEDULE_START, id);
  const next = { ...before, status: "canceled", canceled_at: unixNow(s.k), current_phase: null };
  s.store.save("subscription_schedule", next);
  emit(s, "subscription_schedule.canceled", next, changed(before, next));
  const sub = before.subscription ? s.store.find("subscription", String(before.subscription)) : null;
  if (sub && sub.status !== "canceled") endSubscription(s, sub, "cancellation_requested");
  return next;
}

export function releaseSchedule(s: Ctx, id: string, p: Params): Obj {
  p.allow("preserve_cancel_date");
  const before = s.store.get("subscription_schedule", id);
  if (before.status !== "active" && before.status !== "not_started") throw err.invalid(`You cannot release a subscription schedule that is ${before.status}.`, { param: "id" });
  s.k.jobs.cancel(SCHEDULE_START, id);
  return release(s, before);
}

function release(s: Ctx, before: Obj): Obj {
  const sub = before.subscription ? s.store.find("subscription", String(before.subscription)) : null;
  if (sub) s.store.save("subscription", { ...sub, schedule: null });
  const next = { ...before, status: "released", released_at: unixNow(s.k), released_subscription: sub?.id ?? null, subscription: null, current_phase: null };
  s.store.save("subscription_schedule", next);
  emit(s, "subscription_schedule.released", next, changed(before, next));
  return next;
}

export function listSchedules(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS, "customer", "customer_account", "scheduled", "canceled_at", "completed_at", "released_at");
  return listJson("/v1/subscription_schedules", s.store.list("subscription_schedule", listQuery(p), { customer: p.str("customer") ?? undefined }));
}

/**
 * What a scheduled subscription becomes when its period ends at `at`: moved to the next phase's
 * items (answers the subscription to renew), released (renews as it is), or, after the last phase
 * with end_behavior=cancel, ended (answers null). Subscriptions without a schedule pass through.
 */
export function atBoundary(s: Ctx, sub: Obj, at: number): Obj | null {
  if (!sub.schedule) return sub;
  const sched = s.store.find("subscription_schedule", String(sub.schedule));
  if (!sched || sched.status !== "active") return sub;
  const phases = sched.phases as Obj[];
  const nextPhase = phases.find((x) => Number(x.start_date) === at);
  if (!nextPhase) {
    if (Number(phases[phases.length - 1].end_date) > at) return sub;
    if (sched.end_behavior === "cancel") {
      const done = { ...sched, status: "completed", completed_at: at, current_phase: null };
      s.store.save("subscription_schedule", done);
      emit(s, "subscription_schedule.completed", done, changed(sched, done));
      endSubscription(s, sub, "cancellation_requested");
      return null;
    }
    release(s, sched);
    return s.store.get("subscription", sub.id);
  }
  // The next phase's items: an item whose price stays keeps its id.
  const old = items(sub);
  const data = phaseItems(nextPhase).map((pi) => {
    const price = s.store.get("price", pi.price);
    const kept = old.find((i) => (i.price as Obj).id === pi.price);
    return kept
      ? { ...kept, quantity: pi.quantity }
      : { id: s.k.ids.make("si_", 14), object: "subscription_item", billing_thresholds: null, created: at, current_period_end: at, current_period_start: Number(old[0].current_period_start), discounts: [], metadata: {}, plan: planOf(price), price, quantity: pi.quantity, subscription: sub.id, tax_rates: [] };
  });
  const moved = { ...sub, items: { ...(sub.items as Obj), data, total_count: data.length } };
  s.store.save("subscription", moved);
  emit(s, "customer.subscription.updated", moved, changed(sub, moved));
  const nextSched = { ...sched, current_phase: { start_date: nextPhase.start_date, end_date: nextPhase.end_date } };
  s.store.save("subscription_schedule", nextSched);
  emit(s, "subscription_schedule.updated", nextSched, changed(sched, nextSched));
  return moved;
}

export function scheduleJobs(k: Kernel) {
  return {
    [SCHEDULE_START]: (_p: Record<string, unknown>, job: { ref: string | null }) => {
      const s = ctxOf(k);
      const sched = s.store.find("subscription_schedule", job.ref!);
      if (!sched || sched.status !== "not_started") return;
      const started = start(s, sched);
      return `subscription schedule ${sched.id} started subscription ${started.subscription}`;
    },
  };
}
