// Hostile input against the Stripe clone, property-based: malformed Rack-style forms, deep
// nesting, huge `expand`, absurd pagination. Never a 5xx (but Stripe's 501 for an operation not
// built), always Stripe's error envelope, and a rejected write leaves the world as it was.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import Stripe from "stripe";
import { endingRuns, type Run } from "./helpers.ts";

const spawn = endingRuns();

const RUNS = Number(process.env.MOLAR_FUZZ_RUNS ?? 150);
const TYPES = ["api_error", "card_error", "idempotency_error", "invalid_request_error"];

const notBroken = (status: number) => status < 500 || status === 501;

async function send(run: Run, method: string, path: string, body?: string) {
  const res = await fetch(`${run.clones.stripe.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${run.clones.stripe.secretKey}`, ...(body !== undefined ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
    body,
  });
  const text = await res.text();
  return { status: res.status, text };
}

function stripeShaped(status: number, text: string, what: string) {
  expect(notBroken(status), `${what}: ${status} ${text.slice(0, 200)}`).toBe(true);
  if (status < 400) return;
  const e = (JSON.parse(text) as { error: { type: string; message: string } }).error;
  expect(TYPES, `${what}: ${text.slice(0, 200)}`).toContain(e.type);
  expect(typeof e.message).toBe("string");
}

// Rack-style keys: names, brackets (empty, indexed, named), nested deep, with junk values.
const name = fc.constantFrom("amount", "currency", "customer", "email", "metadata", "items", "expand", "limit", "price", "quantity", "description", "invoice",
  "pending_invoice_items_behavior", "collection_method", "days_until_due", "auto_advance", "frozen_time", "recurring", "unit_amount", "product_data", "pricing", "test_clock",
  "payment_method", "confirm", "enabled_events", "url", "trial_period_days", "__proto__", "constructor", "");
const bracket = fc.oneof(fc.constant("[]"), fc.nat({ max: 2000 }).map((n) => `[${n}]`), name.map((n) => `[${n}]`), fc.constant("[[]"), fc.constant("]"));
const key = fc.tuple(name, fc.array(bracket, { maxLength: 30 })).map(([n, bs]) => n + bs.join(""));
const value = fc.oneof(
  fc.constantFrom("", "1", "-1", "0", "1e309", "99999999999999999999999", "true", "maybe", "usd", "cus_nope", "pm_card_visa", "price_nope", "in_nope", "x".repeat(6000), "%00", "%ZZ", "a&b=c"),
  fc.string({ maxLength: 40 }),
);
const form = fc.oneof(
  fc.array(fc.tuple(key, value), { maxLength: 25 }).map((pairs) => pairs.map(([k, v]) => `${encodeURI(k)}=${encodeURIComponent(v)}`).join("&")),
  fc.nat({ max: 4000 }).map((n) => `metadata${"[a]".repeat(n)}=1`),
  fc.nat({ max: 3000 }).map((n) => `items${"[]".repeat(n)}[price]=p`),
  fc.nat({ max: 1500 }).map((n) => Array.from({ length: n }, (_, i) => `expand[]=customer${".x".repeat(i % 7)}`).join("&")),
  fc.constantFrom("[".repeat(3000), "=&=&=", "a=1&a[b]=2", "a[b]=1&a=2", "%", "&&&", "amount=100&currency=usd&confirm=true&payment_method=pm_card_visa&payment_method_types[0][0]=card"),
);
const writePath = fc.constantFrom(
  "/v1/customers", "/v1/customers/{cus}", "/v1/payment_intents", "/v1/subscriptions", "/v1/invoices", "/v1/invoices/{inv}", "/v1/invoices/{inv}/finalize",
  "/v1/invoices/{inv}/pay", "/v1/invoices/{inv}/void", "/v1/invoiceitems", "/v1/prices", "/v1/products", "/v1/coupons", "/v1/test_helpers/test_clocks",
  "/v1/webhook_endpoints", "/v1/payment_methods/pm_card_visa/attach", "/v1/refunds", "/v1/tax_rates", "/v1/tax_ids", "/v1/shipping_rates",
  "/v1/subscription_items", "/v1/customers/{cus}/balance_transactions", "/v1/customers/{cus}/tax_ids", "/v1/credit_notes", "/v1/credit_notes/preview", "/v1/payment_links", "/v1/billing_portal/configurations", "/v1/payouts", "/v1/plans",
);
const listPath = fc.constantFrom("/v1/customers", "/v1/invoices", "/v1/invoiceitems", "/v1/events", "/v1/subscriptions", "/v1/payment_intents", "/v1/charges",
  "/v1/prices", "/v1/test_helpers/test_clocks", "/v1/customers/search", "/v1/invoices/search", "/v1/tax_rates", "/v1/tax_ids", "/v1/shipping_rates",
  "/v1/balance_transactions", "/v1/credit_notes", "/v1/disputes", "/v1/payment_links", "/v1/billing_portal/configurations", "/v1/payouts", "/v1/plans");
const pageValue = fc.oneof(fc.constantFrom("", "0", "-1", "101", "100", "1", "1e3", "NaN", "99999999999999999999", "cus_nope", "evt_", "%00", "'", "page_-1", "page_999999"), fc.string({ maxLength: 30 }));

/** What a rejected write must not have changed: the newest event and the customers. */
async function fingerprint(stripe: Stripe) {
  const [evt] = (await stripe.events.list({ limit: 1 })).data;
  const cus = (await stripe.customers.list({ limit: 100 })).data.map((c) => `${c.id}:${JSON.stringify(c.metadata)}:${c.email}`);
  return `${evt?.id}|${cus.join(",")}`;
}

describe("fuzzing the Stripe clone (fast-check)", () => {
  it("answers malformed and deeply nested forms on write routes with Stripe's errors, and a rejected write changes nothing", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const u = new URL(run.clones.stripe.url);
    const stripe = new Stripe(run.clones.stripe.secretKey, { host: u.hostname, port: Number(u.port), protocol: "http" });
    const cus = await stripe.customers.create({ email: "fuzz@acme.test", metadata: { keep: "1" } });
    const inv = await stripe.invoices.create({ customer: cus.id });
    let tried = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(writePath, form, async (p, body) => {
        tried++;
        const path = p.replace("{cus}", cus.id).replace("{inv}", inv.id);
        const before = await fingerprint(stripe);
        const r = await send(run, "POST", path, body);
        stripeShaped(r.status, r.text, `POST ${path} ${body.slice(0, 120)}`);
        // A decline (402) keeps its failed charge and events, as at Stripe; any other refusal keeps nothing.
        if (r.status >= 400 && r.status !== 402) {
          rejected++;
          expect(await fingerprint(stripe), `POST ${path} ${body.slice(0, 120)} changed the world`).toBe(before);
        }
      }),
      { numRuns: Math.ceil(RUNS * 0.4) },
    );
    expect(rejected).toBeGreaterThan(0);
    expect((await stripe.customers.retrieve(cus.id)) as Stripe.Customer).toMatchObject({ id: cus.id });
    console.log(`fuzz: ${tried} stripe writes, ${rejected} rejected`);
  });

  it("answers huge and nonsensical expand lists without a 5xx", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const u = new URL(run.clones.stripe.url);
    const stripe = new Stripe(run.clones.stripe.secretKey, { host: u.hostname, port: Number(u.port), protocol: "http" });
    const cus = await stripe.customers.create({ email: "expand@acme.test" });
    const pi = await stripe.paymentIntents.create({ amount: 500, currency: "usd", customer: cus.id, payment_method: "pm_card_visa", confirm: true });
    const segment = fc.constantFrom("customer", "latest_charge", "payment_method", "data", "refunds", "invoice", "balance_transaction", "x", "", "__proto__", "constructor", "id", "object");
    const expandPath = fc.array(segment, { minLength: 1, maxLength: 9 }).map((s) => s.join("."));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(`/v1/payment_intents/${pi.id}`, `/v1/customers/${cus.id}`, "/v1/payment_intents", "/v1/charges", "/v1/events"), fc.array(expandPath, { maxLength: 400 }), async (path, paths) => {
        const q = paths.map((x) => `expand[]=${encodeURIComponent(x)}`).join("&");
        const r = await send(run, "GET", `${path}?${q}`);
        stripeShaped(r.status, r.text, `GET ${path} expand ${paths.slice(0, 5).join(",")}`);
      }),
      { numRuns: Math.ceil(RUNS * 0.3) },
    );
  });

  it("answers absurd pagination with Stripe's errors", async () => {
    const run = await spawn({ kinds: ["stripe"] });
    const u = new URL(run.clones.stripe.url);
    const stripe = new Stripe(run.clones.stripe.secretKey, { host: u.hostname, port: Number(u.port), protocol: "http" });
    for (let i = 0; i < 3; i++) await stripe.customers.create({ email: `page${i}@acme.test` });
    const param = fc.constantFrom("limit", "starting_after", "ending_before", "created", "created[gt]", "created[lte]", "created[nope]", "page", "query", "limit[]", "starting_after[x]", "type", "pending");
    await fc.assert(
      fc.asyncProperty(listPath, fc.array(fc.tuple(param, pageValue), { maxLength: 6 }), async (path, pairs) => {
        const q = pairs.map(([k, v]) => `${encodeURI(k)}=${encodeURIComponent(v)}`).join("&");
        const r = await send(run, "GET", `${path}?${q}`);
        stripeShaped(r.status, r.text, `GET ${path}?${q}`);
        if (r.status === 200) expect(JSON.parse(r.text)).toMatchObject({ object: expect.stringMatching(/^(list|search_result)$/), data: expect.any(Array) });
      }),
      { numRuns: Math.ceil(RUNS * 0.3) },
    );
    // Well-formed pages still walk every customer once.
    const ids: string[] = [];
    for await (const c of stripe.customers.list({ limit: 1 })) ids.push(c.id);
    expect(new Set(ids).size).toBe(3);
  });
});
