// The Stripe clone's billing extras through the official `stripe` SDK: tax rates and the taxes
// they put on invoices, subscription items, customer credit balances, tax ids, the account's
// balance and its transactions, shipping rates.
import { describe, expect, it } from "vitest";
import Stripe from "stripe";
import { admin, advance, caught, endingRuns, stripeOf } from "./helpers.ts";

const spawn = endingRuns();

/** A run, its client, and a customer with a default card (renewals charge it). */
async function billing() {
  const run = await spawn({ kinds: ["stripe"] });
  const stripe = stripeOf(run);
  const cus = await stripe.customers.create({ email: "tax@acme.test", name: "Taxed" });
  const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: cus.id });
  await stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
  const price = await stripe.prices.create({ currency: "usd", unit_amount: 1000, recurring: { interval: "month" }, product_data: { name: "Seat" } });
  return { run, stripe, cus, pm, price };
}

const eventsOf = async (stripe: Stripe, type: string) => (await stripe.events.list({ type, limit: 100 })).data;

describe("stripe clone: tax rates", () => {
  it("creates, updates, lists and archives tax rates, with their events and Stripe's errors", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 19, country: "de", jurisdiction: "DE", tax_type: "vat", metadata: { k: "v" } });
    expect(vat).toMatchObject({
      object: "tax_rate", active: true, display_name: "VAT", inclusive: false, percentage: 19, effective_percentage: 19, country: "DE", jurisdiction: "DE",
      tax_type: "vat", rate_type: "percentage", flat_amount: null, livemode: false, metadata: { k: "v" },
    });
    expect(vat.id).toMatch(/^txr_/);
    expect((await eventsOf(stripe, "tax_rate.created")).map((e) => (e.data.object as Stripe.TaxRate).id)).toEqual([vat.id]);
    const gst = await stripe.taxRates.create({ display_name: "GST", inclusive: true, percentage: 7.5 });
    expect(gst).toMatchObject({ inclusive: true, percentage: 7.5, country: null, tax_type: null });

    expect(await caught(stripe.taxRates.create({ display_name: "x", percentage: 5 } as Stripe.TaxRateCreateParams))).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "inclusive" });
    expect(await caught(stripe.taxRates.create({ display_name: "x", inclusive: false, percentage: 101 }))).toMatchObject({ statusCode: 400, param: "percentage" });
    expect(await caught(stripe.taxRates.create({ display_name: "x", inclusive: false, percentage: "ten" as unknown as number }))).toMatchObject({ statusCode: 400, param: "percentage" });
    expect(await caught(stripe.taxRates.update(vat.id, { percentage: 20 } as Stripe.TaxRateUpdateParams))).toMatchObject({ statusCode: 400, code: "parameter_unknown", param: "percentage" });
    expect(await caught(stripe.taxRates.retrieve("txr_nope"))).toMatchObject({ statusCode: 404, code: "resource_missing", message: "No such tax rate: 'txr_nope'" });

    const archived = await stripe.taxRates.update(vat.id, { active: false, display_name: "MwSt" });
    expect(archived).toMatchObject({ active: false, display_name: "MwSt", percentage: 19 });
    const [updated] = await eventsOf(stripe, "tax_rate.updated");
    expect(updated.data.previous_attributes).toEqual({ active: true, display_name: "VAT" });
    expect((await stripe.taxRates.retrieve(vat.id)).active).toBe(false);
    expect((await stripe.taxRates.list({ active: false })).data.map((r) => r.id)).toEqual([vat.id]);
    expect((await stripe.taxRates.list({ inclusive: true })).data.map((r) => r.id)).toEqual([gst.id]);
    expect((await stripe.taxRates.list()).data.map((r) => r.id)).toEqual([gst.id, vat.id]);

    // An archived rate can no longer be applied.
    const cus = await stripe.customers.create({});
    const inactive = await caught(stripe.invoiceItems.create({ customer: cus.id, amount: 500, currency: "usd", tax_rates: [vat.id] }));
    expect(inactive).toMatchObject({ statusCode: 400, param: "tax_rates[0]" });
    expect(await caught(stripe.invoiceItems.create({ customer: cus.id, amount: 500, currency: "usd", tax_rates: ["txr_nope"] }))).toMatchObject({ code: "resource_missing", param: "tax_rates[0]" });
  });

  it("taxes subscription invoices: exclusive rates add to the total, inclusive ones are carved out, item rates override the defaults", async () => {
    const { run, stripe, cus, price } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], default_tax_rates: [vat.id], expand: ["latest_invoice"] });
    expect(sub.default_tax_rates?.map((r) => r.id)).toEqual([vat.id]);
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ status: "paid", subtotal: 1000, subtotal_excluding_tax: 1000, total: 1200, total_excluding_tax: 1000, amount_due: 1200, amount_paid: 1200 });
    expect(inv.default_tax_rates.map((r) => r.id)).toEqual([vat.id]);
    expect(inv.total_taxes).toEqual([{ amount: 200, tax_behavior: "exclusive", tax_rate_details: { tax_rate: vat.id }, taxability_reason: "not_available", taxable_amount: 1000, type: "tax_rate_details" }]);
    expect(inv.lines.data[0].taxes).toEqual(inv.total_taxes);
    const charges = await stripe.charges.list({ customer: cus.id });
    expect(charges.data.map((c) => c.amount)).toEqual([1200]);

    // An item's own (inclusive) rate replaces the subscription's defaults on its line.
    const incl = await stripe.taxRates.create({ display_name: "TVA incl.", inclusive: true, percentage: 25 });
    const pro = await stripe.prices.create({ currency: "usd", unit_amount: 1250, recurring: { interval: "month" }, product_data: { name: "Pro" } });
    const both = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }, { price: pro.id, tax_rates: [incl.id] }], default_tax_rates: [vat.id], expand: ["latest_invoice"] });
    expect(both.items.data[1].tax_rates?.map((r) => r.id)).toEqual([incl.id]);
    const mixed = both.latest_invoice as Stripe.Invoice;
    expect(mixed).toMatchObject({ subtotal: 2250, subtotal_excluding_tax: 2000, total: 2450, total_excluding_tax: 2000, amount_paid: 2450 });
    expect(mixed.lines.data.map((l) => l.taxes?.map((t) => [t.tax_behavior, t.amount, t.taxable_amount]))).toEqual([[["exclusive", 200, 1000]], [["inclusive", 250, 1000]]]);
    expect(mixed.total_taxes?.map((t) => [t.tax_rate_details?.tax_rate, t.amount])).toEqual([[vat.id, 200], [incl.id, 250]]);

    // The next period's invoice is taxed by the rates in force then.
    const lower = await stripe.taxRates.create({ display_name: "VAT reduced", inclusive: false, percentage: 5 });
    const changed = await stripe.subscriptions.update(sub.id, { default_tax_rates: [lower.id] });
    expect(changed.default_tax_rates?.map((r) => r.id)).toEqual([lower.id]);
    const [ev] = await eventsOf(stripe, "customer.subscription.updated");
    expect((ev.data.previous_attributes as { default_tax_rates: Stripe.TaxRate[] }).default_tax_rates.map((r) => r.id)).toEqual([vat.id]);
    await advance(run, "32d");
    const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(renewal).toMatchObject({ billing_reason: "subscription_cycle", status: "paid", subtotal: 1000, total: 1050, amount_paid: 1050 });
    expect(renewal.total_taxes?.map((t) => [t.tax_rate_details?.tax_rate, t.amount])).toEqual([[lower.id, 50]]);
  });

  it("taxes Checkout Session line items, and a subscription-mode session's subscription", async () => {
    const { stripe, price } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });
    const incl = await stripe.taxRates.create({ display_name: "GST", inclusive: true, percentage: 25 });
    const mug = await stripe.prices.create({ currency: "usd", unit_amount: 1000, product_data: { name: "Mug" } });
    const tee = await stripe.prices.create({ currency: "usd", unit_amount: 2500, product_data: { name: "Tee" } });
    const cs = await stripe.checkout.sessions.create({ mode: "payment", success_url: "https://shop.test/ok", line_items: [{ price: mug.id, quantity: 2, tax_rates: [vat.id] }, { price: tee.id, tax_rates: [incl.id] }] });
    expect(cs).toMatchObject({ amount_subtotal: 4500, amount_total: 4900, total_details: { amount_tax: 900 } });
    const items = await stripe.checkout.sessions.listLineItems(cs.id);
    expect(items.data.map((i) => [i.amount_subtotal, i.amount_tax, i.amount_total])).toEqual([[2000, 400, 2400], [2500, 500, 2500]]);
    expect(await caught(stripe.checkout.sessions.create({ mode: "payment", success_url: "https://shop.test/ok", line_items: [{ price: mug.id, tax_rates: ["txr_nope"] }] })))
      .toMatchObject({ code: "resource_missing", param: "line_items[0][tax_rates][0]" });

    const sub = await stripe.checkout.sessions.create({ mode: "subscription", success_url: "https://shop.test/ok", line_items: [{ price: price.id, tax_rates: [vat.id] }] });
    expect(sub.amount_total).toBe(1200);
    const page = await (await fetch(sub.url!)).text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1];
    expect((await fetch(new URL(action, sub.url!), { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "card=pm_card_visa&email=sub%40acme.test" })).status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(sub.id, { expand: ["subscription", "invoice"] });
    expect((done.subscription as Stripe.Subscription).items.data[0].tax_rates?.map((r) => r.id)).toEqual([vat.id]);
    expect(done.invoice).toMatchObject({ status: "paid", subtotal: 1000, total: 1200, amount_paid: 1200 });
  });

  it("taxes the discounted amount", async () => {
    const { stripe, cus, price } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });
    const coupon = await stripe.coupons.create({ percent_off: 10, duration: "once" });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], default_tax_rates: [vat.id], discounts: [{ coupon: coupon.id }], expand: ["latest_invoice"] });
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ subtotal: 1000, total: 1080, total_excluding_tax: 900, amount_paid: 1080 });
    expect(inv.total_taxes?.[0]).toMatchObject({ amount: 180, taxable_amount: 900 });
  });

  it("taxes one-off invoices by the items' rates or the invoice's defaults, recomputed while a draft", async () => {
    const { stripe, cus } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 10 });
    const city = await stripe.taxRates.create({ display_name: "City", inclusive: false, percentage: 2.5 });
    const inv = await stripe.invoices.create({ customer: cus.id, default_tax_rates: [vat.id] });
    expect(inv.default_tax_rates.map((r) => r.id)).toEqual([vat.id]);
    await stripe.invoiceItems.create({ customer: cus.id, invoice: inv.id, amount: 2000, currency: "usd" });
    const own = await stripe.invoiceItems.create({ customer: cus.id, invoice: inv.id, amount: 1000, currency: "usd", tax_rates: [city.id] });
    expect(own.tax_rates?.map((r) => r.id)).toEqual([city.id]);
    let draft = await stripe.invoices.retrieve(inv.id);
    expect(draft).toMatchObject({ subtotal: 3000, total: 3225, total_excluding_tax: 3000, amount_due: 3225 });
    expect(draft.total_taxes?.map((t) => [t.tax_rate_details?.tax_rate, t.amount, t.taxable_amount])).toEqual([[vat.id, 200, 2000], [city.id, 25, 1000]]);

    // Both rates on the item, then the invoice's defaults dropped.
    await stripe.invoiceItems.update(own.id, { tax_rates: [city.id, vat.id] });
    draft = await stripe.invoices.update(inv.id, { default_tax_rates: "" as unknown as string[] });
    expect(draft.default_tax_rates).toEqual([]);
    expect(draft).toMatchObject({ subtotal: 3000, total: 3125, total_excluding_tax: 3000 });
    expect(draft.lines.data.map((l) => l.taxes?.length)).toEqual([0, 2]);
    const paid = await stripe.invoices.pay(inv.id);
    expect(paid).toMatchObject({ status: "paid", amount_paid: 3125 });
    expect(await caught(stripe.invoices.update(inv.id, { default_tax_rates: [vat.id] }))).toMatchObject({ statusCode: 400, code: "invoice_not_editable", param: "default_tax_rates" });
  });
});

describe("stripe clone: a draft's lines edited in place", () => {
  it("adds, updates and removes lines of a draft invoice through its invoice items, with taxes", async () => {
    const { stripe, cus } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });
    const mug = await stripe.prices.create({ currency: "usd", unit_amount: 700, product_data: { name: "Mug" } });
    const waiting = await stripe.invoiceItems.create({ customer: cus.id, amount: 300, currency: "usd", description: "Waiting" });
    const inv = await stripe.invoices.create({ customer: cus.id, collection_method: "send_invoice", days_until_due: 10 });

    let draft = await stripe.invoices.addLines(inv.id, {
      lines: [{ amount: 1000, description: "Setup", tax_rates: [vat.id] }, { pricing: { price: mug.id }, quantity: 2 }, { invoice_item: waiting.id, description: "Joined" }],
      invoice_metadata: { order: "42" },
    });
    expect(draft.metadata).toEqual({ order: "42" });
    expect(draft.lines.data.map((l) => [l.amount, l.description, l.taxes?.length])).toEqual([[1000, "Setup", 1], [1400, null, 0], [300, "Joined", 0]]);
    expect(draft).toMatchObject({ subtotal: 2700, total: 2900, amount_due: 2900 });
    expect((await stripe.invoiceItems.retrieve(waiting.id)).invoice).toBe(inv.id);

    const [setup, mugs, joined] = draft.lines.data;
    draft = await stripe.invoices.updateLines(inv.id, { lines: [{ id: setup.id, amount: 1500, tax_rates: "" as unknown as string[] }, { id: mugs.id, quantity: 3, tax_rates: [vat.id] }] });
    expect(draft.lines.data.map((l) => [l.amount, l.taxes?.map((t) => t.amount)])).toEqual([[1500, []], [2100, [420]], [300, []]]);
    expect(draft).toMatchObject({ subtotal: 3900, total: 4320 });

    draft = await stripe.invoices.removeLines(inv.id, { lines: [{ id: joined.id, behavior: "unassign" }, { id: setup.id, behavior: "delete" }] });
    expect(draft.lines.data.map((l) => l.id)).toEqual([mugs.id]);
    expect(draft).toMatchObject({ subtotal: 2100, total: 2520 });
    expect((await stripe.invoiceItems.retrieve(waiting.id)).invoice).toBeNull();
    const setupItem = setup.parent?.invoice_item_details?.invoice_item as string;
    expect(await caught(stripe.invoiceItems.retrieve(setupItem))).toMatchObject({ statusCode: 404 });

    expect(await caught(stripe.invoices.addLines(inv.id, {} as Stripe.InvoiceAddLinesParams))).toMatchObject({ code: "parameter_missing", param: "lines" });
    expect(await caught(stripe.invoices.addLines(inv.id, { lines: [{ amount: 5, tax_rates: ["txr_nope"] }] }))).toMatchObject({ code: "resource_missing", param: "lines[0][tax_rates][0]" });
    expect(await caught(stripe.invoices.removeLines(inv.id, { lines: [{ id: mugs.id, behavior: "shred" as "delete" }] }))).toMatchObject({ statusCode: 400, param: "lines[0][behavior]" });
    expect(await caught(stripe.invoices.updateLines(inv.id, { lines: [{ id: "il_nope", amount: 1 }] }))).toMatchObject({ statusCode: 404, code: "resource_missing", param: "lines[0][id]" });
    const other = await stripe.invoiceItems.create({ customer: (await stripe.customers.create({})).id, amount: 100, currency: "usd" });
    expect(await caught(stripe.invoices.addLines(inv.id, { lines: [{ invoice_item: other.id }] }))).toMatchObject({ statusCode: 400, param: "lines[0][invoice_item]" });
    await stripe.invoices.finalizeInvoice(inv.id);
    expect(await caught(stripe.invoices.addLines(inv.id, { lines: [{ amount: 5 }] }))).toMatchObject({ statusCode: 400, code: "invoice_not_editable" });
  });
});

describe("stripe clone: subscription items", () => {
  it("adds, changes and removes a subscription's items, each a customer.subscription.updated", async () => {
    const { stripe, cus, price } = await billing();
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    const addon = await stripe.prices.create({ currency: "usd", unit_amount: 400, recurring: { interval: "month" }, product_data: { name: "Add-on" } });
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });

    const si = await stripe.subscriptionItems.create({ subscription: sub.id, price: addon.id, quantity: 2, metadata: { seat: "extra" }, tax_rates: [vat.id], proration_behavior: "none" });
    expect(si).toMatchObject({ object: "subscription_item", subscription: sub.id, quantity: 2, metadata: { seat: "extra" }, price: { id: addon.id }, plan: { id: addon.id, object: "plan" } });
    expect(si.id).toMatch(/^si_/);
    expect(si.tax_rates?.map((r) => r.id)).toEqual([vat.id]);
    let updates = await eventsOf(stripe, "customer.subscription.updated");
    expect((updates[0].data.object as Stripe.Subscription).items.data.map((i) => i.id)).toEqual([sub.items.data[0].id, si.id]);
    expect((updates[0].data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> }).items.data.map((i) => i.id)).toEqual([sub.items.data[0].id]);

    const list = await stripe.subscriptionItems.list({ subscription: sub.id });
    expect(list).toMatchObject({ object: "list", has_more: false });
    expect(list.data.map((i) => i.id)).toEqual([sub.items.data[0].id, si.id]);
    expect(await stripe.subscriptionItems.retrieve(si.id)).toMatchObject({ id: si.id, quantity: 2 });

    const more = await stripe.subscriptionItems.update(si.id, { quantity: 5, proration_behavior: "none" });
    expect(more).toMatchObject({ id: si.id, quantity: 5, metadata: { seat: "extra" } });
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[1].quantity).toBe(5);
    updates = await eventsOf(stripe, "customer.subscription.updated");
    // One when the first invoice was paid, one for the new item, one for its quantity.
    expect(updates).toHaveLength(3);
    expect(updates[0].data.previous_attributes).toHaveProperty("items");

    // Stripe's refusals: the same price twice, no price, an unknown item, the last item.
    expect(await caught(stripe.subscriptionItems.create({ subscription: sub.id, price: addon.id }))).toMatchObject({ statusCode: 400, param: "price" });
    expect(await caught(stripe.subscriptionItems.create({ subscription: sub.id } as Stripe.SubscriptionItemCreateParams))).toMatchObject({ code: "parameter_missing", param: "price" });
    expect(await caught(stripe.subscriptionItems.create({ price: addon.id } as Stripe.SubscriptionItemCreateParams))).toMatchObject({ code: "parameter_missing", param: "subscription" });
    expect(await caught(stripe.subscriptionItems.create({ subscription: sub.id, price: "price_nope" }))).toMatchObject({ code: "resource_missing", param: "price" });
    expect(await caught(stripe.subscriptionItems.update("si_nope", { quantity: 1 }))).toMatchObject({ statusCode: 404, code: "resource_missing" });
    expect(await caught(stripe.subscriptionItems.list({} as Stripe.SubscriptionItemListParams))).toMatchObject({ code: "parameter_missing", param: "subscription" });

    // Auto-pagination walks the items in the subscription's order, one page at a time.
    const third = await stripe.subscriptionItems.create({ subscription: sub.id, price: (await stripe.prices.create({ currency: "usd", unit_amount: 100, recurring: { interval: "month" }, product_data: { name: "Third" } })).id, proration_behavior: "none" });
    const walked: string[] = [];
    for await (const i of stripe.subscriptionItems.list({ subscription: sub.id, limit: 1 })) walked.push(i.id);
    expect(walked).toEqual([sub.items.data[0].id, si.id, third.id]);
    const back = await stripe.subscriptionItems.list({ subscription: sub.id, ending_before: third.id, limit: 1 });
    expect(back).toMatchObject({ has_more: true });
    expect(back.data.map((i) => i.id)).toEqual([si.id]);
    await stripe.subscriptionItems.del(third.id, { proration_behavior: "none" });

    const gone = await stripe.subscriptionItems.del(si.id, { proration_behavior: "none" });
    expect(gone).toEqual(expect.objectContaining({ id: si.id, object: "subscription_item", deleted: true }));
    expect((await stripe.subscriptionItems.list({ subscription: sub.id })).data.map((i) => i.id)).toEqual([sub.items.data[0].id]);
    expect(await caught(stripe.subscriptionItems.retrieve(si.id))).toMatchObject({ statusCode: 404 });
    const last = await caught(stripe.subscriptionItems.del(sub.items.data[0].id));
    expect(last).toMatchObject({ statusCode: 400 });
    expect(last.message).toMatch(/^A subscription must have at least one active plan/);
  });

  it("prorates an added item now with always_invoice, and only when what is billed changes", async () => {
    const { run, stripe, cus, price } = await billing();
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    await advance(run, "15d");
    const addon = await stripe.prices.create({ currency: "usd", unit_amount: 600, recurring: { interval: "month" }, product_data: { name: "Add-on" } });
    const si = await stripe.subscriptionItems.create({ subscription: sub.id, price: addon.id, proration_behavior: "always_invoice" });
    const after = await stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    const inv = after.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ billing_reason: "subscription_update", status: "paid" });
    expect(inv.lines.data).toHaveLength(1);
    expect(inv.lines.data[0].parent?.subscription_item_details).toMatchObject({ proration: true, subscription_item: si.id });
    expect(inv.amount_paid).toBeGreaterThan(250);
    expect(inv.amount_paid).toBeLessThan(350);

    // A metadata change bills nothing: the renewal holds the two items' full prices only.
    await stripe.subscriptionItems.update(si.id, { metadata: { note: "renamed" } });
    await advance(run, "17d");
    const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(renewal).toMatchObject({ billing_reason: "subscription_cycle", subtotal: 1600 });
    expect(renewal.lines.data.every((l) => !l.parent?.subscription_item_details?.proration)).toBe(true);
  });
});

describe("stripe clone: subscription items and taxes together", () => {
  it("taxes the prorations of an item's quantity change on the next invoice at the item's rates", async () => {
    const { run, stripe, cus, price } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id, tax_rates: [vat.id] }] });
    await advance(run, "15d");
    await stripe.subscriptionItems.update(sub.items.data[0].id, { quantity: 2 });
    await advance(run, "17d");
    const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(renewal.billing_reason).toBe("subscription_cycle");
    const prorations = renewal.lines.data.filter((l) => l.parent?.subscription_item_details?.proration);
    expect(prorations.map((l) => Math.sign(l.amount))).toEqual([-1, 1]);
    for (const l of renewal.lines.data) expect(l.taxes?.map((t) => [t.tax_rate_details?.tax_rate, t.amount])).toEqual([[vat.id, Math.round(l.amount * 0.2)]]);
    const tax = renewal.total_taxes!.reduce((n, t) => n + t.amount, 0);
    expect(tax).toBe(renewal.lines.data.reduce((n, l) => n + Math.round(l.amount * 0.2), 0));
    expect(renewal).toMatchObject({ total: renewal.subtotal + tax, total_excluding_tax: renewal.subtotal, amount_paid: renewal.subtotal + tax, status: "paid" });
  });
});

describe("stripe clone: renewals in bulk beside balances, taxes and tax ids", () => {
  it("renews a customer with a balance, a taxed subscription and a customer with tax ids one by one, the alike rest in bulk", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    await admin(run, "POST", "/clock/freeze");
    const price = await stripe.prices.create({ currency: "usd", unit_amount: 1500, recurring: { interval: "day", interval_count: 30 }, product_data: { name: "Bulk" } });
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });
    const subs: Stripe.Subscription[] = [];
    for (let i = 0; i < 6; i++) {
      const cus = await stripe.customers.create({ email: `b${i}@acme.test` });
      const pm = await stripe.paymentMethods.attach("pm_card_visa", { customer: cus.id });
      await stripe.customers.update(cus.id, { invoice_settings: { default_payment_method: pm.id } });
      subs.push(await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], ...(i === 2 ? { default_tax_rates: [vat.id] } : {}) }));
    }
    await stripe.customers.createBalanceTransaction(subs[1].customer as string, { amount: -300, currency: "usd" });
    await stripe.customers.createTaxId(subs[3].customer as string, { type: "eu_vat", value: "FR12345678901" });

    const r = await admin(run, "POST", "/clock/advance", { by: "30d" });
    const fired = (r.json.fired as { what: string }[]).flatMap((f) => f.what.split("; "));
    expect(fired.filter((w) => w.includes("renewed (in bulk)"))).toHaveLength(2);
    const renewals = [];
    for (const sub of subs) renewals.push(await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string));
    expect(renewals.map((i) => [i.billing_reason, i.status, i.amount_paid])).toEqual([
      ["subscription_cycle", "paid", 1500], ["subscription_cycle", "paid", 1200], ["subscription_cycle", "paid", 1800],
      ["subscription_cycle", "paid", 1500], ["subscription_cycle", "paid", 1500], ["subscription_cycle", "paid", 1500],
    ]);
    expect(renewals[1]).toMatchObject({ starting_balance: -300, ending_balance: 0 });
    expect(renewals[2].total_taxes?.map((t) => t.amount)).toEqual([300]);
    expect(renewals[3].customer_tax_ids).toEqual([{ type: "eu_vat", value: "FR12345678901" }]);
    for (const i of [0, 4, 5]) expect(renewals[i]).toMatchObject({ starting_balance: 0, ending_balance: 0, total_taxes: [], customer_tax_ids: [] });
  });
});

describe("stripe clone: customer balance", () => {
  it("records balance transactions, moves customer.balance and applies it to the next invoices", async () => {
    const { stripe, cus, price } = await billing();
    const credit = await stripe.customers.createBalanceTransaction(cus.id, { amount: -1500, currency: "usd", description: "Goodwill", metadata: { ticket: "42" } });
    expect(credit).toMatchObject({ object: "customer_balance_transaction", amount: -1500, currency: "usd", customer: cus.id, ending_balance: -1500, type: "adjustment", invoice: null, description: "Goodwill", metadata: { ticket: "42" } });
    expect(credit.id).toMatch(/^cbtxn_/);
    expect(await stripe.customers.retrieve(cus.id)).toMatchObject({ balance: -1500, currency: "usd" });
    const [upd] = await eventsOf(stripe, "customer.updated");
    expect(upd.data.previous_attributes).toMatchObject({ balance: 0 });

    expect(await caught(stripe.customers.createBalanceTransaction(cus.id, { amount: 100, currency: "eur" }))).toMatchObject({ statusCode: 400, param: "currency" });
    expect(await caught(stripe.customers.createBalanceTransaction(cus.id, { currency: "usd" } as Stripe.CustomerCreateBalanceTransactionParams))).toMatchObject({ code: "parameter_missing", param: "amount" });
    expect(await caught(stripe.customers.createBalanceTransaction("cus_nope", { amount: 1, currency: "usd" }))).toMatchObject({ statusCode: 404, code: "resource_missing" });
    const edited = await stripe.customers.updateBalanceTransaction(cus.id, credit.id, { description: "Goodwill credit", metadata: { ticket: "" } });
    expect(edited).toMatchObject({ id: credit.id, amount: -1500, description: "Goodwill credit", metadata: {} });
    expect(await caught(stripe.customers.updateBalanceTransaction(cus.id, credit.id, { amount: 5 } as Stripe.CustomerUpdateBalanceTransactionParams))).toMatchObject({ code: "parameter_unknown" });
    const other = await stripe.customers.create({});
    expect(await caught(stripe.customers.retrieveBalanceTransaction(other.id, credit.id))).toMatchObject({ statusCode: 404, code: "resource_missing" });

    // The first invoice (1000) is paid from the credit; the next takes the 500 left.
    const first = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], expand: ["latest_invoice"] });
    const inv1 = first.latest_invoice as Stripe.Invoice;
    expect(inv1).toMatchObject({ status: "paid", total: 1000, starting_balance: -1500, ending_balance: -500, amount_due: 0, amount_paid: 0 });
    const other2 = await stripe.prices.create({ currency: "usd", unit_amount: 2000, recurring: { interval: "month" }, product_data: { name: "Other" } });
    const second = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: other2.id }], expand: ["latest_invoice"] });
    expect(second.latest_invoice).toMatchObject({ status: "paid", total: 2000, starting_balance: -500, ending_balance: 0, amount_due: 1500, amount_paid: 1500 });
    expect((await stripe.charges.list({ customer: cus.id })).data.map((c) => c.amount)).toEqual([1500]);
    expect(await stripe.customers.retrieve(cus.id)).toMatchObject({ balance: 0 });

    const list = await stripe.customers.listBalanceTransactions(cus.id);
    expect(list.data.map((t) => [t.type, t.amount, t.ending_balance, t.invoice])).toEqual([
      ["applied_to_invoice", 500, 0, (second.latest_invoice as Stripe.Invoice).id],
      ["applied_to_invoice", 1000, -500, inv1.id],
      ["adjustment", -1500, -1500, null],
    ]);
    expect((await stripe.customers.listBalanceTransactions(cus.id, { invoice: inv1.id })).data.map((t) => t.id)).toHaveLength(1);
  });

  it("records a balance set on the customer, charges a debt with the next invoice and gives a voided invoice's credit back", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const cus = await stripe.customers.create({ balance: -800 });
    expect((await stripe.customers.listBalanceTransactions(cus.id)).data.map((t) => [t.type, t.amount, t.ending_balance])).toEqual([["initial", -800, -800]]);
    await stripe.customers.update(cus.id, { balance: -300 });
    expect((await stripe.customers.listBalanceTransactions(cus.id, { limit: 1 })).data.map((t) => [t.type, t.amount, t.ending_balance])).toEqual([["adjustment", 500, -300]]);

    await stripe.invoiceItems.create({ customer: cus.id, amount: 1000, currency: "usd" });
    const inv = await stripe.invoices.create({ customer: cus.id, pending_invoice_items_behavior: "include", collection_method: "send_invoice", days_until_due: 30 });
    // A draft shows the balance it will take; finalizing takes it.
    expect(inv).toMatchObject({ starting_balance: -300, ending_balance: null, total: 1000, amount_due: 700 });
    const open = await stripe.invoices.finalizeInvoice(inv.id);
    expect(open).toMatchObject({ status: "open", starting_balance: -300, ending_balance: 0, amount_due: 700, amount_remaining: 700 });
    expect(await stripe.customers.retrieve(cus.id)).toMatchObject({ balance: 0 });
    const voided = await stripe.invoices.voidInvoice(inv.id);
    expect(voided.status).toBe("void");
    expect(await stripe.customers.retrieve(cus.id)).toMatchObject({ balance: -300 });
    expect((await stripe.customers.listBalanceTransactions(cus.id, { limit: 1 })).data[0]).toMatchObject({ type: "unapplied_from_invoice", amount: -300, invoice: inv.id, ending_balance: -300 });

    // A debt is added to what the next invoice charges.
    const debtor = await stripe.customers.create({});
    await stripe.customers.createBalanceTransaction(debtor.id, { amount: 250, currency: "usd" });
    await stripe.invoiceItems.create({ customer: debtor.id, amount: 1000, currency: "usd" });
    const owed = await stripe.invoices.finalizeInvoice((await stripe.invoices.create({ customer: debtor.id, pending_invoice_items_behavior: "include", collection_method: "send_invoice", days_until_due: 30 })).id);
    expect(owed).toMatchObject({ total: 1000, starting_balance: 250, ending_balance: 0, amount_due: 1250 });
  });
});

describe("stripe clone: customer balance on the run clock", () => {
  it("leaves a balance alone on a $0 trial invoice and charges it with the first renewal", async () => {
    const { run, stripe, cus, price } = await billing();
    await stripe.customers.createBalanceTransaction(cus.id, { amount: 250, currency: "usd", description: "Setup fee" });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], trial_period_days: 7, expand: ["latest_invoice"] });
    expect(sub.status).toBe("trialing");
    expect(sub.latest_invoice).toMatchObject({ status: "paid", total: 0, starting_balance: 250, ending_balance: 250, amount_due: 0 });
    await advance(run, "8d");
    const renewal = await stripe.invoices.retrieve((await stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
    expect(renewal).toMatchObject({ status: "paid", total: 1000, starting_balance: 250, ending_balance: 0, amount_due: 1250, amount_paid: 1250 });
    expect(await stripe.customers.retrieve(cus.id)).toMatchObject({ balance: 0 });
    expect((await stripe.charges.list({ customer: cus.id })).data.map((c) => c.amount)).toEqual([1250]);
  });
});

describe("stripe clone: tax ids", () => {
  it("adds, validates, lists and deletes a customer's tax ids, and invoices carry them", async () => {
    const { stripe, cus, price } = await billing();
    const vat = await stripe.customers.createTaxId(cus.id, { type: "eu_vat", value: "DE123456789" });
    expect(vat).toMatchObject({ object: "tax_id", type: "eu_vat", value: "DE123456789", country: "DE", customer: cus.id, owner: { type: "customer", customer: cus.id }, verification: { status: "pending" } });
    expect(vat.id).toMatch(/^txi_/);
    expect((await eventsOf(stripe, "customer.tax_id.created")).map((e) => (e.data.object as Stripe.TaxId).id)).toEqual([vat.id]);
    const ein = await stripe.customers.createTaxId(cus.id, { type: "us_ein", value: "12-3456789" });
    expect(ein).toMatchObject({ country: "US", verification: { status: "unavailable" } });
    const el = await stripe.customers.createTaxId(cus.id, { type: "eu_vat", value: "EL123456789" });
    expect(el.country).toBe("GR");

    for (const [type, value] of [["eu_vat", "DE12"], ["eu_vat", "US123456789"], ["us_ein", "123"], ["gb_vat", "GB12"]] as const) {
      const e = await caught(stripe.customers.createTaxId(cus.id, { type, value }));
      expect(e).toMatchObject({ statusCode: 400, type: "StripeInvalidRequestError", code: "tax_id_invalid", param: "value", message: `Invalid value for ${type}.` });
    }
    expect(await caught(stripe.customers.createTaxId(cus.id, { type: "xx_nope" as Stripe.CustomerCreateTaxIdParams.Type, value: "1" }))).toMatchObject({ statusCode: 400, param: "type" });
    expect(await caught(stripe.customers.createTaxId(cus.id, { type: "eu_vat" } as Stripe.CustomerCreateTaxIdParams))).toMatchObject({ code: "parameter_missing", param: "value" });

    const list = await stripe.customers.listTaxIds(cus.id);
    expect(list.data.map((t) => t.id)).toEqual([el.id, ein.id, vat.id]);
    expect(await stripe.customers.retrieveTaxId(cus.id, ein.id)).toMatchObject({ id: ein.id, value: "12-3456789" });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], expand: ["latest_invoice"] });
    expect((sub.latest_invoice as Stripe.Invoice).customer_tax_ids).toEqual([
      { type: "eu_vat", value: "DE123456789" }, { type: "us_ein", value: "12-3456789" }, { type: "eu_vat", value: "EL123456789" },
    ]);

    const del = await stripe.customers.deleteTaxId(cus.id, el.id);
    expect(del).toEqual(expect.objectContaining({ id: el.id, object: "tax_id", deleted: true }));
    expect((await eventsOf(stripe, "customer.tax_id.deleted")).map((e) => (e.data.object as Stripe.TaxId).id)).toEqual([el.id]);
    expect(await caught(stripe.customers.retrieveTaxId(cus.id, el.id))).toMatchObject({ statusCode: 404, code: "resource_missing" });
    const other = await stripe.customers.create({});
    expect(await caught(stripe.customers.retrieveTaxId(other.id, vat.id))).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("takes tax_id_data on a new customer and expands a customer's tax_ids", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const cus = await stripe.customers.create({ name: "Acme GmbH", tax_id_data: [{ type: "eu_vat", value: "DE123456789" }, { type: "ch_vat", value: "CHE-123.456.789 MWST" }] });
    const listed = await stripe.customers.listTaxIds(cus.id);
    expect(listed.data.map((t) => [t.type, t.value, t.country])).toEqual([["ch_vat", "CHE-123.456.789 MWST", "CH"], ["eu_vat", "DE123456789", "DE"]]);
    const expanded = await stripe.customers.retrieve(cus.id, { expand: ["tax_ids"] }) as Stripe.Customer;
    expect(expanded.tax_ids).toMatchObject({ object: "list", url: `/v1/customers/${cus.id}/tax_ids` });
    expect(expanded.tax_ids?.data.map((t) => t.id)).toEqual(listed.data.map((t) => t.id));
    const bad = await caught(stripe.customers.create({ email: "bad@acme.test", tax_id_data: [{ type: "eu_vat", value: "DE1" }] }));
    expect(bad).toMatchObject({ statusCode: 400, code: "tax_id_invalid", param: "tax_id_data[0][value]" });
    // The refused customer was not made.
    expect((await stripe.customers.list({ email: "bad@acme.test" })).data).toEqual([]);
  });

  it("serves /v1/tax_ids for the account's own ids and any customer's", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const own = await stripe.taxIds.create({ type: "gb_vat", value: "GB123456789" });
    expect(own).toMatchObject({ object: "tax_id", customer: null, owner: { type: "self" }, country: "GB", verification: null });
    expect((await eventsOf(stripe, "tax_id.created")).map((e) => (e.data.object as Stripe.TaxId).id)).toEqual([own.id]);
    const cus = await stripe.customers.create({});
    const theirs = await stripe.taxIds.create({ type: "au_abn", value: "12345678912", owner: { type: "customer", customer: cus.id } });
    expect(theirs).toMatchObject({ customer: cus.id, owner: { type: "customer", customer: cus.id }, verification: { status: "pending" } });
    expect((await stripe.taxIds.list()).data.map((t) => t.id)).toEqual([own.id]);
    expect((await stripe.taxIds.list({ owner: { type: "customer", customer: cus.id } })).data.map((t) => t.id)).toEqual([theirs.id]);
    expect((await stripe.customers.listTaxIds(cus.id)).data.map((t) => t.id)).toEqual([theirs.id]);
    expect(await stripe.taxIds.retrieve(own.id)).toMatchObject({ id: own.id });
    expect(await stripe.taxIds.del(own.id)).toEqual(expect.objectContaining({ id: own.id, deleted: true }));
    expect(await caught(stripe.taxIds.retrieve(own.id))).toMatchObject({ statusCode: 404 });
    expect(await caught(stripe.taxIds.create({ type: "gb_vat", value: "GB1" }))).toMatchObject({ code: "tax_id_invalid" });
  });
});

describe("stripe clone: the account's balance", () => {
  it("records a balance transaction per charge and refund, net of fees, available on the run clock", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    expect(await stripe.balance.retrieve()).toMatchObject({ object: "balance", livemode: false, available: [{ amount: 0, currency: "usd", source_types: { card: 0 } }], pending: [{ amount: 0, currency: "usd" }] });

    const pi = await stripe.paymentIntents.create({ amount: 10_000, currency: "usd", payment_method: "pm_card_visa", confirm: true, description: "Order 1", expand: ["latest_charge.balance_transaction"] });
    const tx = (pi.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction;
    expect(tx).toMatchObject({ object: "balance_transaction", amount: 10_000, fee: 320, net: 9680, currency: "usd", type: "charge", reporting_category: "charge", status: "pending", source: (pi.latest_charge as Stripe.Charge).id, description: "Order 1" });
    expect(tx.fee_details).toEqual([{ amount: 320, application: null, currency: "usd", description: "Stripe processing fees", type: "stripe_fee" }]);
    expect(tx.available_on).toBeGreaterThan(tx.created);
    expect(tx.available_on % 86_400).toBe(0);

    const re = await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 });
    const rtx = await stripe.balanceTransactions.retrieve(re.balance_transaction as string);
    expect(rtx).toMatchObject({ amount: -1000, fee: 0, net: -1000, type: "refund", status: "available", source: re.id });
    let bal = await stripe.balance.retrieve();
    expect(bal.available).toEqual([{ amount: -1000, currency: "usd", source_types: { card: -1000 } }]);
    expect(bal.pending).toEqual([{ amount: 9680, currency: "usd", source_types: { card: 9680 } }]);

    // An uncaptured charge moves nothing until it is captured.
    const auth = await stripe.paymentIntents.create({ amount: 2000, currency: "usd", payment_method: "pm_card_visa", confirm: true, capture_method: "manual" });
    expect((await stripe.charges.retrieve(auth.latest_charge as string)).balance_transaction).toBeNull();
    await stripe.paymentIntents.capture(auth.id, { amount_to_capture: 1500 });
    const captured = await stripe.charges.retrieve(auth.latest_charge as string, { expand: ["balance_transaction"] });
    expect(captured.balance_transaction).toMatchObject({ amount: 1500, fee: 74, net: 1426 });

    expect((await stripe.balanceTransactions.list({ type: "charge" })).data.map((t) => t.amount)).toEqual([1500, 10_000]);
    expect((await stripe.balanceTransactions.list({ source: re.id })).data.map((t) => t.id)).toEqual([rtx.id]);
    expect((await stripe.balanceTransactions.list()).data).toHaveLength(3);
    expect(await caught(stripe.balanceTransactions.retrieve("txn_nope"))).toMatchObject({ statusCode: 404, code: "resource_missing" });

    await advance(run, "3d");
    expect((await stripe.balanceTransactions.retrieve(tx.id)).status).toBe("available");
    bal = await stripe.balance.retrieve();
    expect(bal.available).toEqual([{ amount: 9680 - 1000 + 1426, currency: "usd", source_types: { card: 9680 - 1000 + 1426 } }]);
    expect(bal.pending[0].amount).toBe(0);
  });
});

describe("stripe clone: shipping rates", () => {
  it("creates, updates and lists shipping rates, refusing what Stripe refuses", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const ground = await stripe.shippingRates.create({
      display_name: "Ground", type: "fixed_amount", fixed_amount: { amount: 500, currency: "usd" },
      delivery_estimate: { minimum: { unit: "business_day", value: 5 }, maximum: { unit: "business_day", value: 7 } }, metadata: { carrier: "ups" },
    });
    expect(ground).toMatchObject({
      object: "shipping_rate", active: true, display_name: "Ground", type: "fixed_amount", fixed_amount: { amount: 500, currency: "usd" }, tax_behavior: "unspecified", tax_code: null,
      delivery_estimate: { minimum: { unit: "business_day", value: 5 }, maximum: { unit: "business_day", value: 7 } }, metadata: { carrier: "ups" },
    });
    expect(ground.id).toMatch(/^shr_/);
    const express = await stripe.shippingRates.create({ display_name: "Express", fixed_amount: { amount: 1500, currency: "eur" }, tax_behavior: "exclusive" });
    expect(express.delivery_estimate).toBeNull();

    expect(await caught(stripe.shippingRates.create({ display_name: "x" }))).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "fixed_amount" });
    expect(await caught(stripe.shippingRates.create({ fixed_amount: { amount: 1, currency: "usd" } } as Stripe.ShippingRateCreateParams))).toMatchObject({ code: "parameter_missing", param: "display_name" });
    expect(await caught(stripe.shippingRates.create({ display_name: "x", fixed_amount: { amount: 1, currency: "usd" }, delivery_estimate: { minimum: { unit: "fortnight" as "day", value: 1 } } }))).toMatchObject({ param: "delivery_estimate[minimum][unit]" });
    expect(await caught(stripe.shippingRates.update(express.id, { tax_behavior: "inclusive" }))).toMatchObject({ statusCode: 400, param: "tax_behavior" });
    expect(await caught(stripe.shippingRates.retrieve("shr_nope"))).toMatchObject({ statusCode: 404, code: "resource_missing" });

    const off = await stripe.shippingRates.update(ground.id, { active: false, metadata: { carrier: "" }, tax_behavior: "inclusive", fixed_amount: { currency_options: { eur: { amount: 450 } } } });
    expect(off).toMatchObject({ active: false, metadata: {}, tax_behavior: "inclusive", fixed_amount: { amount: 500, currency: "usd", currency_options: { eur: { amount: 450, tax_behavior: "unspecified" } } } });
    expect(await stripe.shippingRates.retrieve(ground.id)).toMatchObject({ active: false });
    expect((await stripe.shippingRates.list({ active: true })).data.map((r) => r.id)).toEqual([express.id]);
    expect((await stripe.shippingRates.list({ currency: "usd" })).data.map((r) => r.id)).toEqual([ground.id]);
    expect((await stripe.shippingRates.list()).data.map((r) => r.id)).toEqual([express.id, ground.id]);
  });

  it("charges a Checkout Session's first shipping option with its line items", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const ground = await stripe.shippingRates.create({ display_name: "Ground", fixed_amount: { amount: 500, currency: "usd" } });
    const price = await stripe.prices.create({ currency: "usd", unit_amount: 2000, product_data: { name: "Lamp" } });
    const cs = await stripe.checkout.sessions.create({
      mode: "payment", line_items: [{ price: price.id }], success_url: "https://shop.test/ok",
      shipping_options: [{ shipping_rate: ground.id }, { shipping_rate_data: { display_name: "Next day", fixed_amount: { amount: 1500, currency: "usd" } } }],
    });
    expect(cs).toMatchObject({ amount_subtotal: 2000, amount_total: 2500, total_details: { amount_shipping: 500 }, shipping_cost: { amount_total: 500, shipping_rate: ground.id } });
    expect(cs.shipping_options.map((o) => o.shipping_amount)).toEqual([500, 1500]);
    expect((await stripe.shippingRates.retrieve(cs.shipping_options[1].shipping_rate as string)).display_name).toBe("Next day");

    const page = await (await fetch(cs.url!)).text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1];
    const paid = await fetch(new URL(action, cs.url!), { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "card=pm_card_visa&email=buyer%40acme.test" });
    expect(paid.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(cs.id, { expand: ["payment_intent"] });
    expect(done.payment_intent).toMatchObject({ status: "succeeded", amount: 2500 });

    const eur = await stripe.shippingRates.create({ display_name: "EU", fixed_amount: { amount: 900, currency: "eur" } });
    expect(await caught(stripe.checkout.sessions.create({ mode: "payment", line_items: [{ price: price.id }], success_url: "https://shop.test/ok", shipping_options: [{ shipping_rate: eur.id }] })))
      .toMatchObject({ statusCode: 400, param: "shipping_options[0][shipping_rate]" });
    await stripe.shippingRates.update(ground.id, { active: false });
    expect(await caught(stripe.checkout.sessions.create({ mode: "payment", line_items: [{ price: price.id }], success_url: "https://shop.test/ok", shipping_options: [{ shipping_rate: ground.id }] })))
      .toMatchObject({ statusCode: 400, param: "shipping_options[0][shipping_rate]" });
  });
});

describe("stripe clone: invoice previews", () => {
  it("previews the next renewal with its taxes and the customer's credit, and leaves nothing behind", async () => {
    const { stripe, cus, price } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 20 });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], default_tax_rates: [vat.id] });
    await stripe.customers.createBalanceTransaction(cus.id, { amount: -300, currency: "usd" });
    const lastEvent = (await stripe.events.list({ limit: 1 })).data[0].id;
    const invoices = (await stripe.invoices.list({ customer: cus.id })).data.length;

    const preview = await stripe.invoices.createPreview({ subscription: sub.id, invoice_items: [{ amount: 250, currency: "usd", description: "Extra" }] });
    expect(preview.id).toMatch(/^upcoming_in_/);
    expect(preview).toMatchObject({
      object: "invoice", status: "draft", number: null, billing_reason: "subscription_cycle", customer: cus.id, subtotal: 1250, total: 1500, starting_balance: -300, amount_due: 1200,
      period_start: sub.items.data[0].current_period_end,
    });
    expect(preview.lines.data.map((l) => [l.amount, l.invoice])).toEqual([[1000, preview.id], [250, preview.id]]);
    expect(preview.total_taxes?.map((t) => t.amount)).toEqual([250]);

    // Nothing of the preview was kept.
    expect((await stripe.events.list({ limit: 1 })).data[0].id).toBe(lastEvent);
    expect((await stripe.invoices.list({ customer: cus.id })).data).toHaveLength(invoices);
    expect((await stripe.invoiceItems.list({ customer: cus.id })).data).toEqual([]);
    expect(await stripe.customers.retrieve(cus.id)).toMatchObject({ balance: -300 });
    expect(await caught(stripe.invoices.retrieve(preview.id))).toMatchObject({ statusCode: 404 });
    // The customer's next invoice, found without naming the subscription.
    expect(await stripe.invoices.createPreview({ customer: cus.id })).toMatchObject({ subtotal: 1000, total: 1200, subscription: sub.id });
  });

  it("previews a plan change's prorations exactly as the change then bills them", async () => {
    const { run, stripe, cus, price } = await billing();
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    const pro = await stripe.prices.create({ currency: "usd", unit_amount: 3000, recurring: { interval: "month" }, product_data: { name: "Pro" } });
    await advance(run, "10d");
    const change = { items: [{ id: sub.items.data[0].id, price: pro.id }] };
    const now = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { ...change, proration_behavior: "always_invoice" } });
    expect(now.billing_reason).toBe("subscription_update");
    expect(now.lines.data.every((l) => l.parent?.subscription_item_details?.proration)).toBe(true);
    const next = await stripe.invoices.createPreview({ subscription: sub.id, subscription_details: change });
    expect(next.billing_reason).toBe("subscription_cycle");
    expect(next.lines.data.map((l) => !!l.parent?.subscription_item_details?.proration)).toEqual([true, true, false]);
    expect(next.lines.data[2].amount).toBe(3000);
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0].price.id).toBe(price.id);

    const updated = await stripe.subscriptions.update(sub.id, { ...change, proration_behavior: "always_invoice", expand: ["latest_invoice"] });
    const billed = updated.latest_invoice as Stripe.Invoice;
    expect(billed.lines.data.map((l) => l.amount)).toEqual(now.lines.data.map((l) => l.amount));
    expect(billed.total).toBe(now.total);
  });

  it("previews a new subscription's first invoice, and answers Stripe's errors", async () => {
    const { stripe, cus, price } = await billing();
    const vat = await stripe.taxRates.create({ display_name: "VAT", inclusive: false, percentage: 10 });
    const first = await stripe.invoices.createPreview({ customer: cus.id, subscription_details: { items: [{ price: price.id, quantity: 2 }], default_tax_rates: [vat.id] } });
    expect(first).toMatchObject({ status: "draft", billing_reason: "subscription_create", subtotal: 2000, total: 2200, ending_balance: null });
    expect((await stripe.subscriptions.list({ customer: cus.id })).data).toEqual([]);
    expect((await stripe.charges.list({ customer: cus.id })).data).toEqual([]);

    const lonely = await stripe.customers.create({});
    expect(await caught(stripe.invoices.createPreview({ customer: lonely.id }))).toMatchObject({ statusCode: 404, code: "invoice_upcoming_none", message: `No upcoming invoices for customer: ${lonely.id}` });
    expect(await caught(stripe.invoices.createPreview({}))).toMatchObject({ statusCode: 400, code: "parameter_missing", param: "customer" });
    expect(await caught(stripe.invoices.createPreview({ subscription: "sub_nope" }))).toMatchObject({ statusCode: 404, code: "resource_missing" });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    expect(await caught(stripe.invoices.createPreview({ subscription: sub.id, subscription_details: { items: [{ price: "price_nope" }] } }))).toMatchObject({ code: "resource_missing" });
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(await caught(stripe.invoices.createPreview({ subscription: sub.id }))).toMatchObject({ statusCode: 404, code: "invoice_upcoming_none" });
    // An unbuilt variant answers 501 once: Stripe-Should-Retry keeps the SDK from repeating it.
    const unbuilt = await caught(stripe.invoices.createPreview({ customer: cus.id, schedule: "sub_sched_x" }));
    expect(unbuilt).toMatchObject({ statusCode: 501, code: "not_implemented", headers: { "stripe-should-retry": "false" } });
  });
});

describe("stripe clone: credit notes", () => {
  it("lowers an open invoice's amount due (paying it when nothing is left), and voiding gives it back", async () => {
    const { stripe, cus } = await billing();
    await stripe.invoiceItems.create({ customer: cus.id, amount: 1000, currency: "usd", description: "Consulting" });
    const draft = await stripe.invoices.create({ customer: cus.id, collection_method: "send_invoice", days_until_due: 30, pending_invoice_items_behavior: "include" });
    const inv = await stripe.invoices.finalizeInvoice(draft.id);
    expect(inv).toMatchObject({ status: "open", amount_due: 1000, amount_remaining: 1000 });
    const line = inv.lines.data[0];

    const preview = await stripe.creditNotes.preview({ invoice: inv.id, lines: [{ type: "invoice_line_item", invoice_line_item: line.id, amount: 300 }] });
    expect(preview).toMatchObject({ object: "credit_note", amount: 300, pre_payment_amount: 300, post_payment_amount: 0, type: "pre_payment" });
    expect((await stripe.creditNotes.list({ invoice: inv.id })).data).toEqual([]);

    const cn = await stripe.creditNotes.create({ invoice: inv.id, lines: [{ type: "invoice_line_item", invoice_line_item: line.id, amount: 300 }], reason: "order_change", memo: "Partial" });
    expect(cn).toMatchObject({
      object: "credit_note", status: "issued", amount: 300, total: 300, currency: "usd", customer: cus.id, invoice: inv.id, number: `${inv.number}-CN-01`,
      pre_payment_amount: 300, post_payment_amount: 0, type: "pre_payment", reason: "order_change", memo: "Partial", refunds: [], voided_at: null,
    });
    expect(cn.lines.data).toEqual([expect.objectContaining({ object: "credit_note_line_item", type: "invoice_line_item", invoice_line_item: line.id, amount: 300 })]);
    expect((await stripe.creditNotes.listLineItems(cn.id)).data.map((l) => l.amount)).toEqual([300]);
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({ status: "open", amount_due: 700, amount_remaining: 700, pre_payment_credit_notes_amount: 300 });
    expect((await stripe.creditNotes.list({ invoice: inv.id })).data.map((c) => c.id)).toEqual([cn.id]);

    // More than the invoice's total, and allocations an open invoice has no use for, are refused.
    expect(await caught(stripe.creditNotes.create({ invoice: inv.id, amount: 800 }))).toMatchObject({ statusCode: 400, param: "amount" });
    expect(await caught(stripe.creditNotes.create({ invoice: inv.id, amount: 100, credit_amount: 100 }))).toMatchObject({ statusCode: 400 });

    const voided = await stripe.creditNotes.voidCreditNote(cn.id);
    expect(voided).toMatchObject({ status: "void", voided_at: expect.any(Number) });
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({ amount_due: 1000, amount_remaining: 1000, pre_payment_credit_notes_amount: 0 });
    expect(await caught(stripe.creditNotes.voidCreditNote(cn.id))).toMatchObject({ statusCode: 400 });

    const all = await stripe.creditNotes.create({ invoice: inv.id, amount: 1000 });
    expect(all.number).toBe(`${inv.number}-CN-02`);
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({ status: "paid", amount_due: 0, amount_remaining: 0 });
    expect((await eventsOf(stripe, "credit_note.created")).map((e) => (e.data.object as Stripe.CreditNote).id)).toEqual([all.id, cn.id]);
    expect((await eventsOf(stripe, "credit_note.voided")).map((e) => (e.data.object as Stripe.CreditNote).id)).toEqual([cn.id]);
  });

  it("gives back a paid invoice's amount as a refund, a balance credit or outside Stripe, as the caller allocates it", async () => {
    const { stripe, cus, price } = await billing();
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }], expand: ["latest_invoice"] });
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ status: "paid", amount_paid: 1000 });

    // The post-payment amount must be allocated whole.
    expect(await caught(stripe.creditNotes.create({ invoice: inv.id, amount: 500 }))).toMatchObject({ statusCode: 400, type: "StripeInvalidRequestError" });
    expect(await caught(stripe.creditNotes.create({ invoice: inv.id, amount: 500, refund_amount: 100 }))).toMatchObject({ statusCode: 400 });

    const cn = await stripe.creditNotes.create({ invoice: inv.id, amount: 500, refund_amount: 200, credit_amount: 300, reason: "product_unsatisfactory" });
    expect(cn).toMatchObject({ type: "post_payment", pre_payment_amount: 0, post_payment_amount: 500, out_of_band_amount: null, customer_balance_transaction: expect.stringMatching(/^cbtxn_/) });
    expect(cn.refunds).toEqual([expect.objectContaining({ amount_refunded: 200, type: "refund", refund: expect.stringMatching(/^re_/) })]);
    const refund = await stripe.refunds.retrieve(cn.refunds[0].refund as string);
    const charge = await stripe.charges.retrieve(refund.charge as string);
    expect(charge).toMatchObject({ amount: 1000, amount_refunded: 200, refunded: false });
    expect((await stripe.customers.retrieve(cus.id)) as Stripe.Customer).toMatchObject({ balance: -300 });
    const tx = await stripe.customers.retrieveBalanceTransaction(cus.id, cn.customer_balance_transaction as string);
    expect(tx).toMatchObject({ type: "credit_note", amount: -300, credit_note: cn.id, invoice: inv.id });
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({ status: "paid", post_payment_credit_notes_amount: 500, amount_paid: 1000 });
    // A refund cannot be taken back: such a credit note stays.
    expect(await caught(stripe.creditNotes.voidCreditNote(cn.id))).toMatchObject({ statusCode: 400 });

    const outside = await stripe.creditNotes.create({ invoice: inv.id, amount: 200, credit_amount: 150, out_of_band_amount: 50, metadata: { ticket: "42" } });
    expect(outside).toMatchObject({ out_of_band_amount: 50, metadata: { ticket: "42" } });
    expect(await stripe.creditNotes.update(outside.id, { memo: "Goodwill" })).toMatchObject({ memo: "Goodwill" });
    expect((await stripe.customers.retrieve(cus.id)) as Stripe.Customer).toMatchObject({ balance: -450 });
    await stripe.creditNotes.voidCreditNote(outside.id);
    expect((await stripe.customers.retrieve(cus.id)) as Stripe.Customer).toMatchObject({ balance: -300 });
    expect(await stripe.invoices.retrieve(inv.id)).toMatchObject({ post_payment_credit_notes_amount: 500 });
    expect(await caught(stripe.creditNotes.create({ invoice: inv.id, amount: 600, credit_amount: 600 }))).toMatchObject({ statusCode: 400, param: "amount" });
  });
});

describe("stripe clone: disputes from the test cards", () => {
  const disputed = async (stripe: Stripe, card: string, amount = 5000) => {
    const pi = await stripe.paymentIntents.create({ amount, currency: "usd", payment_method: card, confirm: true });
    expect(pi.status).toBe("succeeded");
    const [d] = (await stripe.disputes.list({ payment_intent: pi.id })).data;
    return { pi, d };
  };

  it("disputes a pm_card_createDispute charge, withdraws the funds and a $15 fee, and wins on winning_evidence a minute later", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const { pi, d } = await disputed(stripe, "pm_card_createDispute");
    expect(d).toMatchObject({
      object: "dispute", amount: 5000, currency: "usd", charge: pi.latest_charge, payment_intent: pi.id, reason: "fraudulent", status: "needs_response", is_charge_refundable: false,
      evidence_details: { has_evidence: false, submission_count: 0, past_due: false, due_by: expect.any(Number) },
    });
    expect(await stripe.charges.retrieve(pi.latest_charge as string)).toMatchObject({ disputed: true });
    const withdrawal = await stripe.balanceTransactions.retrieve(d.balance_transactions[0].id);
    expect(d.balance_transactions[0]).toEqual(withdrawal);
    expect(withdrawal).toMatchObject({ type: "adjustment", reporting_category: "dispute", amount: -5000, fee: 1500, net: -6500, source: d.id });
    expect((await eventsOf(stripe, "charge.dispute.created")).map((e) => (e.data.object as Stripe.Dispute).id)).toEqual([d.id]);
    expect(await eventsOf(stripe, "charge.dispute.funds_withdrawn")).toHaveLength(1);

    const drafted = await stripe.disputes.update(d.id, { evidence: { customer_name: "Jane", product_description: "A seat" }, metadata: { case: "7" } });
    expect(drafted).toMatchObject({ status: "needs_response", evidence: { customer_name: "Jane", product_description: "A seat" }, evidence_details: { has_evidence: true, submission_count: 0 }, metadata: { case: "7" } });
    const submitted = await stripe.disputes.update(d.id, { evidence: { uncategorized_text: "winning_evidence" }, submit: true });
    expect(submitted).toMatchObject({ status: "under_review", evidence_details: { submission_count: 1 } });
    expect(await caught(stripe.disputes.update(d.id, { evidence: { customer_name: "Late" } }))).toMatchObject({ statusCode: 400 });
    await advance(run, "2m");
    const won = await stripe.disputes.retrieve(d.id);
    expect(won.status).toBe("won");
    expect(won.balance_transactions).toHaveLength(2);
    expect(won.balance_transactions[1]).toMatchObject({ reporting_category: "dispute_reversal", amount: 5000, fee: -1500, net: 6500 });
    expect((await eventsOf(stripe, "charge.dispute.closed")).map((e) => (e.data.object as Stripe.Dispute).status)).toEqual(["won"]);
    expect(await eventsOf(stripe, "charge.dispute.funds_reinstated")).toHaveLength(1);
    expect(await caught(stripe.disputes.close(d.id))).toMatchObject({ statusCode: 400 });
  });

  it("loses on losing_evidence or when closed, and an inquiry moves no funds", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const lost = await disputed(stripe, "pm_card_createDisputeProductNotReceived");
    expect(lost.d).toMatchObject({ reason: "product_not_received", status: "needs_response" });
    await stripe.disputes.update(lost.d.id, { evidence: { uncategorized_text: "losing_evidence" }, submit: true });
    await advance(run, "2m");
    expect(await stripe.disputes.retrieve(lost.d.id)).toMatchObject({ status: "lost" });

    const accepted = await disputed(stripe, "pm_card_createDispute", 1200);
    expect(await stripe.disputes.close(accepted.d.id)).toMatchObject({ status: "lost" });
    expect(await eventsOf(stripe, "charge.dispute.funds_reinstated")).toHaveLength(0);

    const inquiry = await disputed(stripe, "pm_card_createDisputeInquiry", 800);
    expect(inquiry.d).toMatchObject({ status: "warning_needs_response", balance_transactions: [], is_charge_refundable: true });
    expect(await eventsOf(stripe, "charge.dispute.funds_withdrawn")).toHaveLength(2);
    expect(await stripe.disputes.close(inquiry.d.id)).toMatchObject({ status: "warning_closed" });
    expect((await stripe.disputes.list({ limit: 10 })).data.map((x) => x.status)).toEqual(["warning_closed", "lost", "lost"]);
  });
});

describe("stripe clone: payment links", () => {
  it("opens a new Checkout Session at each visit of its URL, whose purchase carries the link, and refuses visits once deactivated", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const price = await stripe.prices.create({ currency: "usd", unit_amount: 2500, product_data: { name: "Poster" } });
    expect(await caught(stripe.paymentLinks.create({ line_items: [] }))).toMatchObject({ statusCode: 400, param: "line_items" });
    const link = await stripe.paymentLinks.create({
      line_items: [{ price: price.id, quantity: 2 }], metadata: { campaign: "spring" }, after_completion: { type: "redirect", redirect: { url: "https://shop.test/thanks" } },
    });
    expect(link).toMatchObject({ object: "payment_link", active: true, currency: "usd", metadata: { campaign: "spring" }, after_completion: { type: "redirect", redirect: { url: "https://shop.test/thanks" } } });
    expect(link.url).toMatch(new RegExp(`^${run.clones.stripe.url}/b/[0-9a-f]{32}/${link.id}$`));
    expect((await stripe.paymentLinks.listLineItems(link.id)).data.map((i) => [i.price?.id, i.quantity, i.amount_total])).toEqual([[price.id, 2, 5000]]);
    expect((await stripe.paymentLinks.list({ active: true })).data.map((l) => l.id)).toEqual([link.id]);

    // Each visit is a new session for the link's items.
    const visit = async () => {
      const res = await fetch(link.url, { redirect: "manual" });
      expect(res.status).toBe(303);
      const to = res.headers.get("location")!;
      const sessionId = /\/(cs_test_[A-Za-z0-9]+)$/.exec(to)![1];
      return { to, session: await stripe.checkout.sessions.retrieve(sessionId) };
    };
    const first = await visit();
    const second = await visit();
    expect(first.session.id).not.toBe(second.session.id);
    expect(first.session).toMatchObject({ mode: "payment", status: "open", amount_total: 5000, payment_link: link.id, success_url: "https://shop.test/thanks" });
    const paid = await fetch(`${first.to}/complete`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "card=pm_card_visa&email=buyer%40shop.test" });
    expect(paid.status).toBe(303);
    const done = await stripe.checkout.sessions.retrieve(first.session.id);
    expect(done).toMatchObject({ status: "complete", payment_status: "paid", payment_link: link.id });
    const completed = (await eventsOf(stripe, "checkout.session.completed")).map((e) => e.data.object as Stripe.Checkout.Session);
    expect(completed.map((c) => [c.id, c.payment_link])).toEqual([[first.session.id, link.id]]);
    expect((await stripe.checkout.sessions.list({ payment_link: link.id })).data.map((c) => c.id).sort()).toEqual([first.session.id, second.session.id].sort());

    const off = await stripe.paymentLinks.update(link.id, { active: false, inactive_message: "Sold out" });
    expect(off).toMatchObject({ active: false, inactive_message: "Sold out" });
    const gone = await fetch(link.url, { redirect: "manual" });
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain("Sold out");
    expect((await eventsOf(stripe, "payment_link.updated")).map((e) => (e.data.previous_attributes as { active?: boolean }).active)).toEqual([true]);
  });
});

describe("stripe clone: customer portal configurations", () => {
  it("keeps configurations whose features the portal page follows: cancel now, at period end, or not at all", async () => {
    const { stripe, cus, price } = await billing();
    const defaults = await stripe.billingPortal.configurations.list({ is_default: true });
    expect(defaults.data).toHaveLength(1);
    expect(defaults.data[0]).toMatchObject({ object: "billing_portal.configuration", is_default: true, active: true, features: { subscription_cancel: { enabled: true, mode: "at_period_end" } } });

    expect(await caught(stripe.billingPortal.configurations.create({} as Stripe.BillingPortal.ConfigurationCreateParams))).toMatchObject({ statusCode: 400, param: "features" });
    const now = await stripe.billingPortal.configurations.create({
      features: { subscription_cancel: { enabled: true, mode: "immediately" }, invoice_history: { enabled: true } },
      business_profile: { headline: "Acme billing" }, default_return_url: "https://shop.test/account", metadata: { team: "billing" },
    });
    expect(now).toMatchObject({ is_default: false, default_return_url: "https://shop.test/account", business_profile: { headline: "Acme billing" }, features: { subscription_cancel: { enabled: true, mode: "immediately" }, payment_method_update: { enabled: false } } });
    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    const ps = await stripe.billingPortal.sessions.create({ customer: cus.id, configuration: now.id });
    expect(ps).toMatchObject({ configuration: now.id, return_url: "https://shop.test/account" });
    const page = await (await fetch(ps.url)).text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1];
    await fetch(new URL(action, ps.url), { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `subscription=${sub.id}&action=cancel` });
    expect(await stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: "canceled" });

    // A portal that lets nobody cancel shows no button; a deactivated configuration opens no session.
    const readOnly = await stripe.billingPortal.configurations.update(now.id, { features: { subscription_cancel: { enabled: false } }, name: "Read only" });
    expect(readOnly).toMatchObject({ name: "Read only", features: { subscription_cancel: { enabled: false } } });
    const other = await stripe.subscriptions.create({ customer: cus.id, items: [{ price: price.id }] });
    const view = await stripe.billingPortal.sessions.create({ customer: cus.id, configuration: now.id });
    expect(await (await fetch(view.url)).text()).not.toContain(`value="${other.id}"`);
    await stripe.billingPortal.configurations.update(now.id, { active: false });
    expect(await caught(stripe.billingPortal.sessions.create({ customer: cus.id, configuration: now.id }))).toMatchObject({ statusCode: 400, param: "configuration" });
    expect(await caught(stripe.billingPortal.sessions.create({ customer: cus.id, configuration: "bpc_missing" }))).toMatchObject({ statusCode: 404, code: "resource_missing" });
    expect(await caught(stripe.billingPortal.configurations.update(defaults.data[0].id, { active: false }))).toMatchObject({ statusCode: 400 });
    expect((await eventsOf(stripe, "billing_portal.configuration.updated")).length).toBe(2);
  });
});

describe("stripe clone: payouts", () => {
  it("pays out what is available, on the run clock, and a canceled payout gives the funds back", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    await stripe.paymentIntents.create({ amount: 10_000, currency: "usd", payment_method: "pm_card_visa", confirm: true });
    // Card funds become available two days later: none can be paid out yet.
    expect(await caught(stripe.payouts.create({ amount: 1000, currency: "usd" }))).toMatchObject({ statusCode: 400, code: "balance_insufficient", param: "amount" });
    await advance(run, "3d");
    const available = (await stripe.balance.retrieve()).available.find((b) => b.currency === "usd")!.amount;
    expect(available).toBe(10_000 - (Math.round(10_000 * 0.029) + 30));
    expect(await caught(stripe.payouts.create({ amount: available + 1, currency: "usd" }))).toMatchObject({ code: "balance_insufficient" });

    const po = await stripe.payouts.create({ amount: 5000, currency: "usd", description: "Weekly", metadata: { batch: "1" } });
    expect(po).toMatchObject({ object: "payout", amount: 5000, currency: "usd", status: "pending", method: "standard", type: "bank_account", description: "Weekly", automatic: false });
    expect(po.arrival_date).toBeGreaterThan(po.created);
    expect((await stripe.balance.retrieve()).available.find((b) => b.currency === "usd")!.amount).toBe(available - 5000);
    expect(await stripe.balanceTransactions.retrieve(po.balance_transaction as string)).toMatchObject({ type: "payout", amount: -5000, net: -5000, source: po.id });
    expect((await stripe.balanceTransactions.list({ payout: po.id })).data.map((t) => t.type)).toEqual(["payout"]);

    const second = await stripe.payouts.create({ amount: 1000, currency: "usd" });
    expect(await stripe.payouts.cancel(second.id)).toMatchObject({ status: "canceled" });
    expect(await caught(stripe.payouts.cancel(second.id))).toMatchObject({ statusCode: 400 });
    expect((await stripe.balance.retrieve()).available.find((b) => b.currency === "usd")!.amount).toBe(available - 5000);

    await advance(run, "1d");
    expect(await stripe.payouts.retrieve(po.id)).toMatchObject({ status: "paid" });
    expect(await caught(stripe.payouts.cancel(po.id))).toMatchObject({ statusCode: 400 });
    expect((await eventsOf(stripe, "payout.paid")).map((e) => (e.data.object as Stripe.Payout).id)).toEqual([po.id]);
    expect((await eventsOf(stripe, "payout.canceled")).map((e) => (e.data.object as Stripe.Payout).id)).toEqual([second.id]);
    expect((await stripe.payouts.list({ status: "paid" })).data.map((p) => p.id)).toEqual([po.id]);
    expect(await stripe.payouts.update(po.id, { metadata: { reconciled: "yes" } })).toMatchObject({ metadata: { batch: "1", reconciled: "yes" } });
  });
});

describe("stripe clone: plans (the legacy API)", () => {
  it("creates plans with chosen ids that subscriptions take as prices, and updates, lists and deletes them", async () => {
    const { stripe, cus } = await billing();
    const gold = await stripe.plans.create({ id: "gold", amount: 2000, currency: "usd", interval: "month", product: { name: "Gold" }, nickname: "Gold monthly", metadata: { tier: "3" } });
    expect(gold).toMatchObject({ id: "gold", object: "plan", amount: 2000, currency: "usd", interval: "month", interval_count: 1, usage_type: "licensed", nickname: "Gold monthly", active: true, metadata: { tier: "3" } });
    expect(await caught(stripe.plans.create({ id: "gold", amount: 1, currency: "usd", interval: "month", product: gold.product as string }))).toMatchObject({ statusCode: 400, code: "resource_already_exists" });
    expect(await caught(stripe.plans.create({ amount: 1, currency: "usd", interval: "fortnight" as "month", product: gold.product as string }))).toMatchObject({ statusCode: 400, param: "interval" });
    expect(await stripe.prices.retrieve("gold")).toMatchObject({ object: "price", unit_amount: 2000, recurring: { interval: "month" } });
    expect((await eventsOf(stripe, "plan.created")).map((e) => (e.data.object as Stripe.Plan).id)).toEqual(["gold"]);

    const sub = await stripe.subscriptions.create({ customer: cus.id, items: [{ plan: "gold" }] });
    expect(sub.items.data[0]).toMatchObject({ price: { id: "gold" } });
    expect(sub.status).toBe("active");

    expect(await stripe.plans.update("gold", { nickname: "Gold", active: false })).toMatchObject({ nickname: "Gold", active: false });
    expect((await stripe.plans.list({ active: false })).data.map((p) => p.id)).toEqual(["gold"]);
    expect(await stripe.plans.del("gold")).toMatchObject({ id: "gold", object: "plan", deleted: true });
    expect(await caught(stripe.plans.retrieve("gold"))).toMatchObject({ statusCode: 404, code: "resource_missing" });
    expect((await eventsOf(stripe, "plan.deleted")).length).toBe(1);
  });
});

describe("stripe clone: lists held inside other objects", () => {
  it("pages a Checkout Session's line items by cursor, so the SDK's auto-pagination ends, and refuses an unknown cursor", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const stripe = stripeOf(run);
    const prices = await Promise.all([100, 200, 300].map((a) => stripe.prices.create({ currency: "usd", unit_amount: a, product_data: { name: `P${a}` } })));
    const cs = await stripe.checkout.sessions.create({ mode: "payment", line_items: prices.map((p) => ({ price: p.id, quantity: 1 })), success_url: "https://shop.test/ok" });
    const first = await stripe.checkout.sessions.listLineItems(cs.id, { limit: 2 });
    expect(first.data.map((i) => i.amount_total)).toEqual([100, 200]);
    expect(first.has_more).toBe(true);
    const all: number[] = [];
    for await (const item of stripe.checkout.sessions.listLineItems(cs.id, { limit: 1 })) all.push(item.amount_total);
    expect(all).toEqual([100, 200, 300]);
    expect(await caught(stripe.checkout.sessions.listLineItems(cs.id, { starting_after: "li_nope" }))).toMatchObject({ statusCode: 404, param: "starting_after" });
  });
});
