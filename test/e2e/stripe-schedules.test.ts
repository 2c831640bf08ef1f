// Subscription schedules through the official `stripe` SDK, on the run clock: a downgrade at the
// end of the period (from_subscription, then phases), a schedule starting later and canceling at
// its end, cancel and release, and Stripe's errors.
import { describe, expect, it } from "vitest";
import { admin, advance, caught, endingRuns, stripeOf } from "./helpers.ts";

const spawn = endingRuns();
const DAY = 86_400;
const monthAfter = (u: number, n = 1) => {
  const d = new Date(u * 1000);
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.getTime() / 1000;
};

async function world() {
  const run = await spawn({ kinds: ["stripe"] });
  await admin(run, "POST", "/clock/freeze");
  const stripe = stripeOf(run);
  const cus = await stripe.customers.create({ email: "sched@acme.test" });
  const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: cus.id });
  await stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
  const product = await stripe.products.create({ name: "Plan" });
  const pro = await stripe.prices.create({ currency: "usd", unit_amount: 1500, recurring: { interval: "month" }, product: product.id });
  const basic = await stripe.prices.create({ currency: "usd", unit_amount: 500, recurring: { interval: "month" }, product: product.id });
  const now = async () => Math.floor(Date.parse((await admin(run, "GET", "/clock")).json.now) / 1000);
  return { run, stripe, cus, pro, basic, now };
}

describe("stripe clone: subscription schedules", () => {
  it("downgrades at the end of the period, then releases the subscription", async () => {
    const { run, stripe, cus, pro, basic, now } = await world();
    const t = await now();
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: pro.id }] });
    const sched = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
    expect(sched).toMatchObject({
      object: "subscription_schedule", status: "active", subscription: sub.id, customer: cus.id, end_behavior: "release",
      current_phase: { start_date: t, end_date: monthAfter(t) }, phases: [{ start_date: t, end_date: monthAfter(t), items: [{ price: pro.id, quantity: 1 }] }],
    });
    expect(sched.id).toMatch(/^sub_sched_/);
    expect((await stripe.subscriptions.retrieve(sub.id)).schedule).toBe(sched.id);

    const planned = await stripe.subscriptionSchedules.update(sched.id, {
      phases: [
        { items: [{ price: pro.id, quantity: 1 }], start_date: t, end_date: monthAfter(t) },
        { items: [{ price: basic.id, quantity: 1 }], duration: { interval: "month" } },
      ],
    });
    expect(planned.phases.map((p) => [p.start_date, p.end_date])).toEqual([[t, monthAfter(t)], [monthAfter(t), monthAfter(t, 2)]]);
    expect((await stripe.subscriptionSchedules.retrieve(sched.id, { expand: ["subscription"] })).subscription).toMatchObject({ id: sub.id, object: "subscription" });

    await advance(run, "32d");
    const downgraded = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(downgraded.items.data.map((i) => [i.price.id, i.quantity])).toEqual([[basic.id, 1]]);
    expect(downgraded.latest_invoice).toMatchObject({ status: "paid", amount_paid: 500, billing_reason: "subscription_cycle", period_start: monthAfter(t) });
    expect((await stripe.subscriptionSchedules.retrieve(sched.id)).current_phase).toEqual({ start_date: monthAfter(t), end_date: monthAfter(t, 2) });

    await advance(run, "31d");
    const released = await stripe.subscriptionSchedules.retrieve(sched.id);
    expect(released).toMatchObject({ status: "released", released_subscription: sub.id, subscription: null, released_at: monthAfter(t, 2) });
    const free = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(free).toMatchObject({ status: "active", schedule: null, latest_invoice: { amount_paid: 500, period_start: monthAfter(t, 2) } });
    const types = (await stripe.events.list({ limit: 100 })).data.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["subscription_schedule.created", "subscription_schedule.updated", "subscription_schedule.released"]));
  });

  it("starts later, then cancels the subscription when its last phase ends", async () => {
    const { run, stripe, cus, pro, now } = await world();
    const t = await now();
    const sched = await stripe.subscriptionSchedules.create({ customer: cus.id, start_date: t + 5 * DAY, end_behavior: "cancel", phases: [{ items: [{ price: pro.id, quantity: 2 }], duration: { interval: "month", interval_count: 2 } }] });
    expect(sched).toMatchObject({ status: "not_started", subscription: null, current_phase: null, phases: [{ start_date: t + 5 * DAY, end_date: monthAfter(t + 5 * DAY, 2) }] });
    await advance(run, "6d");
    const started = await stripe.subscriptionSchedules.retrieve(sched.id);
    expect(started.status).toBe("active");
    const sub = await stripe.subscriptions.retrieve(started.subscription as string, { expand: ["latest_invoice"] });
    expect(sub).toMatchObject({ status: "active", schedule: sched.id, start_date: t + 5 * DAY, latest_invoice: { amount_paid: 3000, billing_reason: "subscription_create" } });
    expect((await stripe.subscriptionSchedules.list({ customer: cus.id })).data.map((x) => x.id)).toEqual([sched.id]);

    await advance(run, "70d");
    expect(await stripe.subscriptionSchedules.retrieve(sched.id)).toMatchObject({ status: "completed", completed_at: monthAfter(t + 5 * DAY, 2) });
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: "canceled", ended_at: monthAfter(t + 5 * DAY, 2) });
    const invoices = (await stripe.invoices.list({ subscription: sub.id })).data;
    expect(invoices.map((i) => i.billing_reason)).toEqual(["subscription_cycle", "subscription_create"]);
  });

  it("cancels and releases by hand, and answers Stripe's errors", async () => {
    const { stripe, cus, pro, basic, now } = await world();
    const t = await now();
    const a = await stripe.subscriptionSchedules.create({ customer: cus.id, phases: [{ items: [{ price: pro.id }], duration: { interval: "month", interval_count: 3 } }] });
    const canceled = await stripe.subscriptionSchedules.cancel(a.id);
    expect(canceled).toMatchObject({ status: "canceled", canceled_at: t });
    expect((await stripe.subscriptions.retrieve(a.subscription as string)).status).toBe("canceled");
    expect(await caught(stripe.subscriptionSchedules.release(a.id))).toMatchObject({ statusCode: 400 });

    const b = await stripe.subscriptionSchedules.create({ customer: cus.id, phases: [{ items: [{ price: pro.id }], duration: { interval: "month" } }, { items: [{ price: basic.id }] }] });
    const released = await stripe.subscriptionSchedules.release(b.id);
    expect(released).toMatchObject({ status: "released", released_subscription: b.subscription, subscription: null });
    expect(await stripe.subscriptions.retrieve(b.subscription as string)).toMatchObject({ status: "active", schedule: null });

    // Canceling the subscription itself ends its schedule.
    const c = await stripe.subscriptionSchedules.create({ customer: cus.id, phases: [{ items: [{ price: pro.id }], duration: { interval: "month", interval_count: 2 } }] });
    await stripe.subscriptions.cancel(c.subscription as string);
    expect((await stripe.subscriptionSchedules.retrieve(c.id)).status).toBe("canceled");

    expect(await caught(stripe.subscriptionSchedules.create({ customer: cus.id }))).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "phases" });
    expect(await caught(stripe.subscriptionSchedules.create({ from_subscription: "sub_missing", customer: cus.id }))).toMatchObject({ statusCode: 400, param: "customer" });
    expect(await caught(stripe.subscriptionSchedules.retrieve("sub_sched_missing"))).toMatchObject({ statusCode: 404, code: "resource_missing" });
    const midPeriod = await caught(stripe.subscriptionSchedules.create({ customer: cus.id, phases: [{ items: [{ price: pro.id }], end_date: t + 10 * DAY }, { items: [{ price: basic.id }] }] }));
    expect(midPeriod).toMatchObject({ statusCode: 501, type: "StripeAPIError" });
    const onSchedule = (await stripe.subscriptionSchedules.list({ customer: cus.id })).data.length;
    expect(onSchedule).toBe(3);
    expect(await caught(stripe.subscriptionSchedules.create({ from_subscription: (await stripe.subscriptionSchedules.retrieve(c.id)).subscription as string }))).toMatchObject({ statusCode: 400 });
  });
});

