// PaymentIntent and Checkout options through the official `stripe` SDK: shipping details, 3-D
// Secure asked for by the merchant, Checkout discounts; and what is not modelled (Connect's
// fields, Checkout's phone or address collection, embedded mode): a 501, never a silent success.
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

  it("discounts a Checkout Session with a coupon or a promotion code, redeemed when it completes", async () => {
    const stripe = stripeOf(await spawn({ kinds: ["stripe"] }));
    const pay = async (url: string) => {
      const html = await (await fetch(url)).text();
      const action = /<form method="post" action="([^"]+)"/.exec(html)![1];
      return fetch(new URL(action, url), { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "card=pm_card_visa&email=buyer%40acme.test" });
    };
    const price = await stripe.prices.create({ currency: "usd", unit_amount: 2000, product_data: { name: "Lamp" } });
    const coupon = await stripe.coupons.create({ percent_off: 25, duration: "once" });
    const cs = await stripe.checkout.sessions.create({ mode: "payment", line_items: [{ price: price.id, quantity: 2 }], discounts: [{ coupon: coupon.id }], success_url: "https://shop.test/ok" });
    expect(cs).toMatchObject({ amount_subtotal: 4000, amount_total: 3000, total_details: { amount_discount: 1000 }, discounts: [{ coupon: coupon.id, promotion_code: null }] });
    expect((await pay(cs.url!)).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(cs.id, { expand: ["payment_intent"] });
    expect(done.payment_intent).toMatchObject({ status: "succeeded", amount: 3000 });
    expect((await stripe.coupons.retrieve(coupon.id)).times_redeemed).toBe(1);

    const off = await stripe.coupons.create({ amount_off: 500, currency: "usd", duration: "forever" });
    const promo = await stripe.promotionCodes.create({ promotion: { type: "coupon", coupon: off.id }, code: "SPRING" });
    const monthly = await stripe.prices.create({ currency: "usd", unit_amount: 1500, recurring: { interval: "month" }, product_data: { name: "Club" } });
    const subCs = await stripe.checkout.sessions.create({ mode: "subscription", line_items: [{ price: monthly.id }], discounts: [{ promotion_code: promo.id }], success_url: "https://shop.test/ok" });
    expect(subCs).toMatchObject({ amount_total: 1000, total_details: { amount_discount: 500 } });
    expect((await pay(subCs.url!)).status).toBe(303);
    const sub = await stripe.subscriptions.retrieve((await stripe.checkout.sessions.retrieve(subCs.id)).subscription as string, { expand: ["latest_invoice"] });
    expect(sub.latest_invoice).toMatchObject({ amount_paid: 1000, status: "paid" });
    expect((await stripe.promotionCodes.retrieve(promo.id)).times_redeemed).toBe(1);

    const both = await caught(stripe.checkout.sessions.create({ mode: "payment", line_items: [{ price: price.id }], discounts: [{ coupon: coupon.id }], allow_promotion_codes: true, success_url: "https://shop.test/ok" }));
    expect(both).toMatchObject({ statusCode: 400, param: "discounts" });
    for (const extra of [{ phone_number_collection: { enabled: true } }, { shipping_address_collection: { allowed_countries: ["US" as const] } }, { ui_mode: "embedded" as const, return_url: "https://shop.test/r" }, { automatic_tax: { enabled: true } }]) {
      const refused = await caught(stripe.checkout.sessions.create({ mode: "payment", line_items: [{ price: price.id }], success_url: "https://shop.test/ok", ...extra } as never));
      expect(refused).toMatchObject({ statusCode: 501, code: "not_implemented" });
    }
  });
});
