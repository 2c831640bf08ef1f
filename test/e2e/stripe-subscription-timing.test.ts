// Subscription timing through the official `stripe` SDK: a trial ended now or moved, cancellation
// at a set time, paused collection (kept as draft, voided, resumed on the run clock), and the
// first invoice paid by its customer confirming its PaymentIntent (`default_incomplete`).
import { describe, expect, it } from "vitest";
import Stripe from "stripe";
import { admin, advance, caught, endingRuns, stripeOf } from "./helpers.ts";

const spawn = endingRuns();
const DAY = 86_400;
/** A month after a unix time, as Stripe counts a monthly period. */
const monthAfter = (u: number) => {
  const d = new Date(u * 1000);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.getTime() / 1000;
};

async function world() {
  const run = await spawn({ kinds: ["stripe"] });
  await admin(run, "POST", "/clock/freeze");
  const stripe = stripeOf(run);
  const cus = await stripe.customers.create({ email: "timing@acme.test" });
  const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: cus.id });
  await stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
  const price = await stripe.prices.create({ currency: "usd", unit_amount: 1500, recurring: { interval: "month" }, product_data: { name: "Pro" } });
  const now = async () => Math.floor(Date.parse((await admin(run, "GET", "/clock")).json.now) / 1000);
  const types = async (subId: string) =>
    (await stripe.events.list({ limit: 100 })).data.filter((e) => (e.data.object as { id: string }).id === subId).map((e) => e.type).reverse();
  return { run, stripe, cus, price, now, types };
}

describe("stripe clone: subscription timing", () => {
  it("ends a trial now: the first paid period starts at once and anchors the cycle", async () => {
    const { run, stripe, cus, price, now, types } = await world();
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], trial_period_days: 7 });
    await advance(run, "1d");
    const t = await now();
    const ended = await stripe.subscriptions.update(sub.id, { trial_end: "now", expand: ["latest_invoice"] });
    expect(ended).toMatchObject({ status: "active", trial_start: sub.trial_start, trial_end: t, billing_cycle_anchor: t });
    expect(ended.items.data[0]).toMatchObject({ current_period_start: t, current_period_end: monthAfter(t) });
    expect(ended.latest_invoice).toMatchObject({ object: "invoice", status: "paid", amount_paid: 1500, billing_reason: "subscription_update", period_start: t });
    // The trial_will_end the 7-day trial had scheduled never comes; the next renewal is a month on.
    await advance(run, "10d");
    expect(await types(sub.id)).not.toContain("customer.subscription.trial_will_end");
    await advance(run, "21d");
    const renewed = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(renewed.latest_invoice).toMatchObject({ status: "paid", billing_reason: "subscription_cycle", period_start: monthAfter(t) });
  });

  it("moves a trial's end: trial_will_end and the first charge follow it", async () => {
    const { run, stripe, cus, price, now, types } = await world();
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], trial_period_days: 7 });
    const t = await now();
    const moved = await stripe.subscriptions.update(sub.id, { trial_end: t + 14 * DAY });
    expect(moved).toMatchObject({ status: "trialing", trial_end: t + 14 * DAY });
    expect(moved.items.data[0].current_period_end).toBe(t + 14 * DAY);
    await advance(run, "8d");
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("trialing");
    expect(await types(sub.id)).not.toContain("customer.subscription.trial_will_end");
    await advance(run, "4d");
    expect(await types(sub.id)).toContain("customer.subscription.trial_will_end");
    await advance(run, "3d");
    const paid = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(paid).toMatchObject({ status: "active", latest_invoice: { status: "paid", amount_paid: 1500, billing_reason: "subscription_cycle", period_start: t + 14 * DAY } });
    const past = await caught(stripe.subscriptions.update(sub.id, { trial_end: t }));
    expect(past).toMatchObject({ statusCode: 501, type: "StripeAPIError" });
  });

  it("cancels at cancel_at on the run clock, set on create or by update", async () => {
    const { run, stripe, cus, price, now } = await world();
    const t = await now();
    const a = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], cancel_at: t + 10 * DAY });
    expect(a).toMatchObject({ status: "active", cancel_at: t + 10 * DAY, cancel_at_period_end: false, canceled_at: t });
    const b = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    expect(await stripe.subscriptions.update(b.id, { cancel_at: t + 20 * DAY })).toMatchObject({ cancel_at: t + 20 * DAY });
    const c = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], cancel_at: t + 5 * DAY });
    expect(await stripe.subscriptions.update(c.id, { cancel_at: "" as unknown as number })).toMatchObject({ cancel_at: null, canceled_at: null });

    await advance(run, "11d");
    expect(await stripe.subscriptions.retrieve(a.id)).toMatchObject({ status: "canceled", ended_at: t + 10 * DAY, cancellation_details: { reason: "cancellation_requested" } });
    expect((await stripe.subscriptions.retrieve(b.id)).status).toBe("active");
    await advance(run, "10d");
    expect(await stripe.subscriptions.retrieve(b.id)).toMatchObject({ status: "canceled", ended_at: t + 20 * DAY });
    expect((await stripe.subscriptions.retrieve(c.id)).status).toBe("active");
    const deleted = (await stripe.events.list({ type: "customer.subscription.deleted" })).data.map((e) => (e.data.object as Stripe.Subscription).id);
    expect(deleted.sort()).toEqual([a.id, b.id].sort());

    // Both ways of cancelling at once, and a time in a later period (billed prorated at Stripe).
    const both = await caught(stripe.subscriptions.update(c.id, { cancel_at: t + 30 * DAY, cancel_at_period_end: true }));
    expect(both).toMatchObject({ statusCode: 400, type: "StripeInvalidRequestError", param: "cancel_at" });
    expect(await caught(stripe.subscriptions.update(c.id, { cancel_at: t + 90 * DAY }))).toMatchObject({ statusCode: 501 });
    expect(await caught(stripe.subscriptions.update(c.id, { cancel_at: t }))).toMatchObject({ statusCode: 400, param: "cancel_at" });
  });

  it("pauses collection: renewal invoices kept as drafts or voided, until resumes_at", async () => {
    const { run, stripe, cus, price, now, types } = await world();
    const t = await now();
    const draft = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    const voided = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    const paused = await stripe.subscriptions.update(draft.id, { pause_collection: { behavior: "keep_as_draft", resumes_at: t + 45 * DAY } });
    expect(paused.pause_collection).toEqual({ behavior: "keep_as_draft", resumes_at: t + 45 * DAY });
    await stripe.subscriptions.update(voided.id, { pause_collection: { behavior: "void" } });

    await advance(run, "32d");
    const d1 = await stripe.subscriptions.retrieve(draft.id, { expand: ["latest_invoice"] });
    expect(d1).toMatchObject({ status: "active", latest_invoice: { status: "draft", auto_advance: false, billing_reason: "subscription_cycle", amount_due: 1500 } });
    const v1 = await stripe.subscriptions.retrieve(voided.id, { expand: ["latest_invoice"] });
    expect(v1).toMatchObject({ status: "active", latest_invoice: { status: "void", amount_remaining: 0 } });

    await advance(run, "14d");
    expect((await stripe.subscriptions.retrieve(draft.id)).pause_collection).toBeNull();
    expect(await types(draft.id)).toContain("customer.subscription.updated");
    await advance(run, "20d");
    const d2 = await stripe.subscriptions.retrieve(draft.id, { expand: ["latest_invoice"] });
    expect(d2.latest_invoice).toMatchObject({ status: "paid", amount_paid: 1500 });
    expect((await stripe.subscriptions.retrieve(voided.id, { expand: ["latest_invoice"] })).latest_invoice).toMatchObject({ status: "void" });

    // Unpausing by hand, and Stripe's errors.
    expect((await stripe.subscriptions.update(voided.id, { pause_collection: "" as unknown as Stripe.SubscriptionUpdateParams.PauseCollection })).pause_collection).toBeNull();
    const bad = await caught(stripe.subscriptions.update(voided.id, { pause_collection: { behavior: "nap" as "void" } }));
    expect(bad).toMatchObject({ statusCode: 400, param: "pause_collection[behavior]" });
    expect(await caught(stripe.subscriptions.update(voided.id, { pause_collection: { behavior: "void", resumes_at: t } }))).toMatchObject({ statusCode: 400, param: "pause_collection[resumes_at]" });
  });

  it("default_incomplete: the customer confirms the first invoice's PaymentIntent, whose card the subscription keeps", async () => {
    const { run, stripe, price } = await world();
    const cus = await stripe.customers.create({ email: "elements@acme.test" });
    const sub = await stripe.subscriptions.create({
      customer: cus.id, items: [{ price: price.id }], payment_behavior: "default_incomplete",
      payment_settings: { save_default_payment_method: "on_subscription" }, expand: ["latest_invoice.confirmation_secret"],
    });
    expect(sub).toMatchObject({ status: "incomplete", default_payment_method: null, payment_settings: { save_default_payment_method: "on_subscription" } });
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ status: "open", amount_due: 1500, confirmation_secret: { type: "payment_intent", client_secret: expect.stringMatching(/^pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/) } });
    const piId = inv.confirmation_secret!.client_secret.split("_secret_")[0];
    expect(await stripe.paymentIntents.retrieve(piId)).toMatchObject({ amount: 1500, currency: "usd", customer: cus.id, status: "requires_payment_method", setup_future_usage: "off_session" });

    // A declined card leaves everything waiting; a good one pays the invoice.
    const declined = await caught(stripe.paymentIntents.confirm(piId, { payment_method: "pm_card_chargeDeclined" }));
    expect(declined).toMatchObject({ statusCode: 402, type: "StripeCardError", code: "card_declined" });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe("incomplete");
    const pi = await stripe.paymentIntents.confirm(piId, { payment_method: "pm_card_visa" });
    expect(pi.status).toBe("succeeded");
    const active = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(active).toMatchObject({ status: "active", default_payment_method: pi.payment_method, latest_invoice: { id: inv.id, status: "paid", amount_paid: 1500, amount_remaining: 0 } });
    expect((await stripe.paymentMethods.retrieve(pi.payment_method as string)).customer).toBe(cus.id);
    const types = (await stripe.events.list({ limit: 30 })).data.map((e) => e.type).reverse();
    expect(types.slice(types.indexOf("payment_intent.succeeded"))).toEqual(["payment_intent.succeeded", "payment_method.attached", "invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]);

    // The saved card pays the renewal, and the 23-hour expiry of an incomplete subscription is off.
    await advance(run, "32d");
    const renewed = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(renewed).toMatchObject({ status: "active", latest_invoice: { status: "paid", amount_paid: 1500, billing_reason: "subscription_cycle" } });

    // Left unconfirmed, such a subscription expires and its invoice is voided.
    const left = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], payment_behavior: "default_incomplete" });
    await advance(run, "1d");
    expect(await stripe.subscriptions.retrieve(left.id, { expand: ["latest_invoice"] })).toMatchObject({ status: "incomplete_expired", latest_invoice: { status: "void" } });
  });

  it("anchors the billing cycle: a prorated (or free) first period, then full ones from the anchor", async () => {
    const { run, stripe, cus, price, now } = await world();
    const t = await now();
    const anchor = t + 10 * DAY;
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], billing_cycle_anchor: anchor, expand: ["latest_invoice"] });
    const periodStart = (() => { const d = new Date(anchor * 1000); d.setUTCMonth(d.getUTCMonth() - 1); return d.getTime() / 1000; })();
    const expected = Math.round(1500 * (anchor - t) / (anchor - periodStart));
    expect(sub).toMatchObject({ status: "active", billing_cycle_anchor: anchor, items: { data: [{ current_period_start: t, current_period_end: anchor }] } });
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ status: "paid", amount_paid: expected, billing_reason: "subscription_create" });
    expect(inv.lines.data[0]).toMatchObject({ amount: expected, period: { start: t, end: anchor } });
    const free = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], billing_cycle_anchor: anchor, proration_behavior: "none", expand: ["latest_invoice"] });
    expect(free.latest_invoice).toMatchObject({ amount_due: 0, status: "paid" });

    await advance(run, "11d");
    const renewed = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    expect(renewed.latest_invoice).toMatchObject({ status: "paid", amount_paid: 1500, billing_reason: "subscription_cycle", period_start: anchor, period_end: monthAfter(anchor) });
    expect((await stripe.subscriptions.retrieve(free.id, { expand: ["latest_invoice"] })).latest_invoice).toMatchObject({ amount_paid: 1500, period_start: anchor });

    expect(await caught(stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], billing_cycle_anchor: t - 1 }))).toMatchObject({ statusCode: 400, param: "billing_cycle_anchor" });
    expect(await caught(stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], billing_cycle_anchor: t + 90 * DAY }))).toMatchObject({ statusCode: 501 });
  });

  it("takes items' price_data and cancellation details, and answers 501 for what it does not build", async () => {
    const { stripe, cus, price } = await world();
    const product = await stripe.products.create({ name: "Seats" });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price_data: { currency: "usd", product: product.id, unit_amount: 700, recurring: { interval: "month" } }, quantity: 2 }], expand: ["latest_invoice"] });
    expect(sub.items.data[0].price).toMatchObject({ object: "price", unit_amount: 700, product: product.id, recurring: { interval: "month" } });
    expect(sub.latest_invoice).toMatchObject({ amount_paid: 1400 });
    const missing = await caught(stripe.subscriptions.create({ customer: cus.id, items: [{ price_data: { currency: "usd", product: product.id, unit_amount: 700 } as Stripe.SubscriptionCreateParams.Item.PriceData }] }));
    expect(missing).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "items[0][price_data][recurring]" });

    const updated = await stripe.subscriptions.update(sub.id, { cancellation_details: { comment: "Too pricey", feedback: "too_expensive" } });
    expect(updated.cancellation_details).toEqual({ comment: "Too pricey", feedback: "too_expensive", reason: null });
    const gone = await stripe.subscriptions.cancel(sub.id, { cancellation_details: { comment: "Bye" } });
    expect(gone).toMatchObject({ status: "canceled", cancellation_details: { comment: "Bye", feedback: "too_expensive", reason: "cancellation_requested" } });

    const other = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    for (const call of [
      () => stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], add_invoice_items: [{ price: price.id }] }),
      () => stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], backdate_start_date: 1 }),
      () => stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], automatic_tax: { enabled: true } }),
      () => stripe.subscriptions.cancel(other.id, { prorate: true }),
    ]) {
      expect(await caught(call())).toMatchObject({ statusCode: 501, type: "StripeAPIError", code: "not_implemented" });
    }
    expect((await stripe.subscriptions.retrieve(other.id)).status).toBe("active");
  });
});
