// Test clocks (`/v1/test_helpers/test_clocks`) mapped onto the run clock. A world has one time, so
// a test clock cannot run apart from it: its `frozen_time` is its own reading, and advancing it by
// Δ (the new frozen_time minus the old) advances the whole run clock by Δ, firing every renewal,
// retry and delivery that falls due, as `POST {adminUrl}/clock/advance` does. The clock answers
// `advancing` and turns `ready` (with the events Stripe sends) once the run clock has arrived.
// Customers created with `test_clock` carry it, and so do their subscriptions, invoices and
// invoice items; lists leave them out unless asked for that clock, as Stripe's do.
import { err } from "./errors.ts";
import { emit } from "./events.ts";
import { deleteCustomer } from "./customers.ts";
import { endSubscription } from "./subscriptions.ts";
import { newId, unixNow, type Obj } from "./store.ts";
import { LIST_PARAMS, listJson, listQuery, type Ctx, type Params } from "./wire.ts";

const DAY = 86_400;
/** Stripe deletes a test clock this long after its creation. */
const LIFETIME = 7 * DAY;
/** Without subscriptions on it, a test clock moves at most two years at a time. */
const MAX_ADVANCE = 2 * 365 * DAY;

export function createTestClock(s: Ctx, p: Params): Obj {
  p.allow("frozen_time", "name");
  const frozen = p.int("frozen_time", { required: true })!;
  const name = p.str("name") ?? null;
  if (name && name.length > 300) throw err.invalid("Name must be at most 300 characters.", { param: "name" });
  const now = unixNow(s.k);
  const clock: Obj = {
    id: newId(s.k, "test_helpers.test_clock"),
    object: "test_helpers.test_clock",
    created: now,
    deletes_after: now + LIFETIME,
    frozen_time: frozen,
    livemode: false,
    name,
    status: "ready",
    status_details: {},
  };
  s.store.insert("test_helpers.test_clock", clock);
  emit(s, "test_helpers.test_clock.created", clock);
  return clock;
}

export function listTestClocks(s: Ctx, p: Params) {
  p.allow(...LIST_PARAMS);
  return listJson("/v1/test_helpers/test_clocks", s.store.list("test_helpers.test_clock", listQuery(p)));
}

/** The clock as the customer it would attach to needs it: it must exist and not be mid-advance. */
export function clockFor(s: Ctx, id: string, param = "test_clock"): Obj {
  const clock = s.store.get("test_helpers.test_clock", id, param);
  if (clock.status === "advancing") throw err.invalid(`The test clock ${id} is advancing. Objects cannot be added to it until it is ready.`, { param });
  return clock;
}

/** Customers, and their subscriptions, on the clock: deleted with it, as at Stripe. */
export function deleteTestClock(s: Ctx, id: string) {
  const clock = s.store.get("test_helpers.test_clock", id);
  for (const c of s.store.list("customer", { limit: 10_000 }, { test_clock: id }).data) {
    for (const sub of s.store.list("subscription", { limit: 10_000 }, { customer: c.id }).data) {
      if (sub.status !== "canceled" && sub.status !== "incomplete_expired") endSubscription(s, sub, "cancellation_requested");
    }
    deleteCustomer(s, c.id);
  }
  s.store.remove("test_helpers.test_clock", id);
  emit(s, "test_helpers.test_clock.deleted", clock);
  return { id, object: "test_helpers.test_clock", deleted: true };
}

/**
 * Starts an advance: the clock answers `advancing`; `runTargetMs` is where the run clock must go
 * (Δ of the test clock added to the run's now). `finishAdvance` runs once it is there.
 */
export function startAdvance(s: Ctx, id: string, p: Params): { clock: Obj; runTargetMs: number } {
  p.allow("frozen_time");
  const before = s.store.get("test_helpers.test_clock", id);
  const target = p.int("frozen_time", { required: true })!;
  const frozen = Number(before.frozen_time);
  if (before.status === "advancing") throw err.invalid(`The test clock ${id} is already advancing. Wait until it is ready to advance it again.`, { param: "frozen_time" });
  if (target <= frozen) throw err.invalid(`The frozen_time must be after the test clock's current frozen_time (${frozen}).`, { param: "frozen_time" });
  const limit = frozen + maxStep(s, id);
  if (target > limit) {
    throw err.invalid(`The test clock cannot be advanced beyond ${limit}: at most two intervals of the shortest subscription on it (or two years without any) at a time.`, { param: "frozen_time" });
  }
  const clock: Obj = { ...before, status: "advancing", status_details: { advancing: { target_frozen_time: target } } };
  s.store.save("test_helpers.test_clock", clock);
  emit(s, "test_helpers.test_clock.advancing", clock);
  return { clock, runTargetMs: s.k.clock.now() + (target - frozen) * 1000 };
}

/** The run clock got there (the clock is `ready`), or the advance broke (`internal_failure`, as at Stripe). */
export function finishAdvance(s: Ctx, id: string, failed = false): void {
  const before = s.store.find("test_helpers.test_clock", id);
  if (!before || before.status !== "advancing") return;
  const target = Number((before.status_details as { advancing: { target_frozen_time: number } }).advancing.target_frozen_time);
  const clock: Obj = failed ? { ...before, status: "internal_failure", status_details: {} } : { ...before, frozen_time: target, status: "ready", status_details: {} };
  s.store.save("test_helpers.test_clock", clock);
  emit(s, `test_helpers.test_clock.${failed ? "internal_failure" : "ready"}`, clock);
}

/** Two intervals of the shortest live subscription on the clock, or two years. */
function maxStep(s: Ctx, clockId: string): number {
  let step = MAX_ADVANCE;
  for (const sub of s.store.list("subscription", { limit: 10_000 }, { test_clock: clockId }).data) {
    if (sub.status === "canceled" || sub.status === "incomplete_expired") continue;
    for (const it of (sub.items as { data: Obj[] }).data) {
      const r = (it.price as Obj).recurring as { interval: string; interval_count: number } | null;
      if (!r) continue;
      const days = { day: 1, week: 7, month: 31, year: 366 }[r.interval] ?? 366;
      step = Math.min(step, 2 * days * r.interval_count * DAY);
    }
  }
  return step;
}
