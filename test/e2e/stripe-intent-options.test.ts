// PaymentIntent options through the official `stripe` SDK: shipping details, 3-D Secure asked for
// by the merchant, and Connect's fields (not modelled: a 501, never a silent success).
import { describe, expect, it } from "vitest";
import { admin, caught, endingRuns, stripeOf } from "./helpers.ts";

const spawn = endingRuns();

describe("stripe clone: PaymentIntent options", () => {
  it("keeps shipping details through create, update and confirm", async () => {
    const stripe = stripeOf(await spawn({ kinds: ["stripe"] }));
    const shipping = { name: "Ada Lovelace", address: { line1: "1 Analytical Way", city: "London", postal_code: "N1 9GU", country: "GB" } };
    const pi = await stripe.paymentIntents.create({ amount: 1200, currency: "gbp", shipping });
    expect(pi.shipping).toEqual({ name: "Ada Lovelace", phone: null, carrier: null, tracking_number: null, address: { line1: "1 Analytical Way", line2: null, city: "London", state: null, postal_code: "N1 9GU", country: "GB" } });
    const moved = await stripe.paymentIntents.update(pi.id, { shipping: { ...shipping, carrier: "Royal Mail", tracking_number: "RM1" } });
    expect(moved.shipping).toMatchObject({ carrier: "Royal Mail", tracking_number: "RM1" });
    const paid = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa", shipping: { ...shipping, name: "A. Lovelace" } });
    expect(paid).toMatchObject({ status: "succeeded", shipping: { name: "A. Lovelace" } });
    // Shipping may still change on a settled intent (a tracking number arrives later).
    expect((await stripe.paymentIntents.update(pi.id, { shipping: { ...shipping, tracking_number: "RM2" } })).shipping?.tracking_number).toBe("RM2");
    const noName = await caught(stripe.paymentIntents.create({ amount: 1200, currency: "gbp", shipping: { address: { line1: "x" } } as never }));
    expect(noName).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "shipping[name]" });
  });

  it("asks for 3-D Secure when the merchant requests it, whatever the card", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const pi = await stripe.paymentIntents.create({ amount: 900, currency: "usd", payment_method: "pm_card_visa", payment_method_options: { card: { request_three_d_secure: "any" } }, confirm: true });
    expect(pi).toMatchObject({ status: "requires_action", next_action: { type: "use_stripe_sdk" }, payment_method_options: { card: { request_three_d_secure: "any" } } });
    const done = await admin(run, "POST", `/stripe/payment_intents/${pi.id}/authenticate`, { outcome: "complete" });
    expect(done.json.status).toBe("succeeded");
    const plain = await stripe.paymentIntents.create({ amount: 900, currency: "usd", payment_method: "pm_card_visa", confirm: true });
    expect(plain.status).toBe("succeeded");
    const offSession = await caught(stripe.paymentIntents.create({ amount: 900, currency: "usd", payment_method: "pm_card_visa", payment_method_options: { card: { request_three_d_secure: "challenge" } }, confirm: true, off_session: true }));
    expect(offSession).toMatchObject({ statusCode: 402, code: "authentication_required" });
  });

  it("answers 501 for Connect's fields and options it does not model, and writes nothing", async () => {
    const stripe = stripeOf(await spawn({ kinds: ["stripe"] }));
    const calls = [
      () => stripe.paymentIntents.create({ amount: 1000, currency: "usd", application_fee_amount: 100 }),
      () => stripe.paymentIntents.create({ amount: 1000, currency: "usd", transfer_data: { destination: "acct_1" } }),
      () => stripe.paymentIntents.create({ amount: 1000, currency: "usd", payment_method_options: { card: { capture_method: "manual" } } }),
    ];
    for (const call of calls) expect(await caught(call())).toMatchObject({ statusCode: 501, type: "StripeAPIError", code: "not_implemented" });
    expect((await stripe.paymentIntents.list()).data).toEqual([]);
  });
});
