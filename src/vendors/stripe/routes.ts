// HTTP surface of the Stripe clone: decode (Rack-style forms), call the domain, encode. Every
// answer carries Request-Id; POSTs honour Idempotency-Key; `expand[]` applies to every answer.
import { Hono, type Context } from "hono";
import { deferred, type Kernel, type VendorBindings, type VendorHono } from "../../kernel/types.ts";
import { sha256HexSync } from "../../lib/crypto.ts";
import { err, StripeError, stripeErrors } from "./errors.ts";
import { API_VERSION, Params, ctxOf, decodeForm, expand, expandPaths, type Ctx } from "./wire.ts";
import * as customers from "./customers.ts";
import * as pms from "./payment-methods.ts";
import * as intents from "./payment-intents.ts";
import * as charges from "./charges.ts";
import * as setups from "./setup-intents.ts";
import * as subs from "./subscriptions.ts";
import * as sched from "./schedules.ts";
import { payInvoice } from "./renewals.ts";
import * as invoices from "./invoices.ts";
import * as coupons from "./coupons.ts";
import * as checkout from "./checkout.ts";
import * as portal from "./portal.ts";
import { hostedPages } from "./hosted.ts";
import * as catalog from "./catalog.ts";
import * as events from "./events.ts";
import * as clocks from "./test-clocks.ts";
import * as invoicing from "./invoicing.ts";
import * as taxes from "./taxes.ts";
import * as taxIds from "./tax-ids.ts";
import * as credit from "./customer-balance.ts";
import * as balance from "./balance.ts";
import * as shipping from "./shipping-rates.ts";
import * as previews from "./previews.ts";
import * as lines from "./invoice-lines.ts";
import * as creditNotes from "./credit-notes.ts";
import * as disputes from "./disputes.ts";
import * as links from "./payment-links.ts";
import * as payouts from "./payouts.ts";
import * as plans from "./plans.ts";

type C = Context<{ Bindings: VendorBindings }>;
type Handler = (s: Ctx, p: Params, c: C) => unknown;

const decoder = new TextDecoder();
const VERSION = /^\d{4}-\d{2}-\d{2}(\.[a-z_]+)?$/;

/** One operation: parameters decoded, idempotent replays, the domain call, `expand`, the answer. */
function op(k: Kernel, fn: Handler): (c: C) => Response {
  return (c) => {
    const version = c.req.header("stripe-version");
    if (version !== undefined && !VERSION.test(version)) throw err.invalid(`Invalid Stripe API version: ${version}`, { code: "api_version_invalid" });
    const method = c.req.method;
    const text = decoder.decode(c.env.body);
    const url = c.env.url;
    const raw = url.search ? { ...decodeForm(url.search.slice(1)), ...(method === "POST" ? decodeForm(text) : {}) } : method === "POST" ? decodeForm(text) : {};
    const requestId = k.ids.make("req_", 14);
    const key = method === "POST" ? (c.req.header("idempotency-key") ?? null) : null;
    const headers: Record<string, string> = { "content-type": "application/json", "request-id": requestId, "stripe-version": version ?? API_VERSION };
    let fingerprint = "";
    if (key !== null) {
      if (key.length > 255) throw err.invalid("Idempotency-Key must be at most 255 characters long.", { param: "Idempotency-Key" });
      headers["idempotency-key"] = key;
      fingerprint = sha256HexSync(`${method} ${url.pathname}\n${text}`);
      const prior = k.idempotency.find("stripe", key);
      if (prior) {
        if (prior.fingerprint !== fingerprint) throw err.idempotency(key);
        return new Response(prior.body, { status: prior.status, headers: { ...headers, ...prior.headers, "idempotent-replayed": "true" } });
      }
    }
    const s = ctxOf(k, requestId, key);
    let status = 200;
    let body: unknown;
    try {
      body = s.store.caching(() => expand(s, fn(s, new Params(raw), c), expandPaths(raw)));
    } catch (e) {
      // A decline is an answer, not a rollback: its failed charge and events stay.
      if (!(e instanceof StripeError) || !e.committed) throw e;
      status = e.statusCode;
      body = { error: e.body };
    }
    const json = JSON.stringify(body, null, 2);
    if (key !== null) k.idempotency.save("stripe", key, { fingerprint, status, body: json, headers: { "original-request": requestId } });
    return new Response(json, { status, headers });
  };
}

export function stripeRouter(k: Kernel): VendorHono {
  const app = new Hono<{ Bindings: VendorBindings }>();
  const h = (fn: Handler) => op(k, fn);
  const id = (c: C, name = "id") => c.req.param(name) as string;

  // Customers. `search` shares the `:id` route: Hono answers synchronously only for one match.
  app.post("/v1/customers", h((s, p) => customers.createCustomer(s, p)));
  app.get("/v1/customers", h((s, p) => customers.listCustomers(s, p)));
  app.get("/v1/customers/:id", h((s, p, c) => (id(c) === "search" ? customers.searchCustomers(s, p) : (p.allow(), customers.retrieveCustomer(s, id(c))))));
  app.post("/v1/customers/:id", h((s, p, c) => customers.updateCustomer(s, id(c), p)));
  app.delete("/v1/customers/:id", h((s, p, c) => customers.deleteCustomer(s, id(c))));
  app.get("/v1/customers/:id/payment_methods", h((s, p, c) => pms.listPaymentMethods(s, p, id(c))));
  app.get("/v1/customers/:id/payment_methods/:pm", h((s, p, c) => pms.customerPaymentMethod(s, id(c), id(c, "pm"))));
  app.post("/v1/customers/:id/balance_transactions", h((s, p, c) => credit.createBalanceTransaction(s, id(c), p)));
  app.get("/v1/customers/:id/balance_transactions", h((s, p, c) => credit.listBalanceTransactions(s, id(c), p)));
  app.get("/v1/customers/:id/balance_transactions/:tx", h((s, p, c) => (p.allow(), credit.retrieveBalanceTransaction(s, id(c), id(c, "tx")))));
  app.post("/v1/customers/:id/balance_transactions/:tx", h((s, p, c) => credit.updateBalanceTransaction(s, id(c), id(c, "tx"), p)));
  app.post("/v1/customers/:id/tax_ids", h((s, p, c) => taxIds.createCustomerTaxId(s, id(c), p)));
  app.get("/v1/customers/:id/tax_ids", h((s, p, c) => taxIds.listCustomerTaxIds(s, id(c), p)));
  app.get("/v1/customers/:id/tax_ids/:tx", h((s, p, c) => (p.allow(), taxIds.retrieveCustomerTaxId(s, id(c), id(c, "tx")))));
  app.delete("/v1/customers/:id/tax_ids/:tx", h((s, p, c) => (p.allow(), taxIds.deleteCustomerTaxId(s, id(c), id(c, "tx")))));

  // Payment methods.
  app.post("/v1/payment_methods", h((s, p) => pms.createPaymentMethod(s, p)));
  app.get("/v1/payment_methods", h((s, p) => pms.listPaymentMethods(s, p)));
  app.get("/v1/payment_methods/:id", h((s, p, c) => (p.allow(), s.store.get("payment_method", id(c), "payment_method"))));
  app.post("/v1/payment_methods/:id", h((s, p, c) => pms.updatePaymentMethod(s, id(c), p)));
  app.post("/v1/payment_methods/:id/attach", h((s, p, c) => pms.attachPaymentMethod(s, id(c), p.allow("customer", "customer_account").reqStr("customer"))));
  app.post("/v1/payment_methods/:id/detach", h((s, p, c) => (p.allow(), pms.detachPaymentMethod(s, id(c)))));

  // Payment intents.
  app.post("/v1/payment_intents", h((s, p) => intents.createIntent(s, p)));
  app.get("/v1/payment_intents", h((s, p) => intents.listIntents(s, p)));
  app.get("/v1/payment_intents/:id", h((s, p, c) => (id(c) === "search" ? intents.searchIntents(s, p) : (p.allow("client_secret"), s.store.get("payment_intent", id(c), "intent")))));
  app.post("/v1/payment_intents/:id", h((s, p, c) => intents.updateIntent(s, id(c), p)));
  app.post("/v1/payment_intents/:id/confirm", h((s, p, c) => intents.confirmIntent(s, id(c), p)));
  app.post("/v1/payment_intents/:id/capture", h((s, p, c) => intents.captureIntent(s, id(c), p)));
  app.post("/v1/payment_intents/:id/cancel", h((s, p, c) => intents.cancelIntent(s, id(c), p)));

  // Setup intents.
  app.post("/v1/setup_intents", h((s, p) => setups.createSetupIntent(s, p)));
  app.get("/v1/setup_intents", h((s, p) => setups.listSetupIntents(s, p)));
  app.get("/v1/setup_intents/:id", h((s, p, c) => (p.allow("client_secret"), s.store.get("setup_intent", id(c), "intent"))));
  app.post("/v1/setup_intents/:id", h((s, p, c) => setups.updateSetupIntent(s, id(c), p)));
  app.post("/v1/setup_intents/:id/confirm", h((s, p, c) => setups.confirmSetupIntent(s, id(c), p)));
  app.post("/v1/setup_intents/:id/cancel", h((s, p, c) => setups.cancelSetupIntent(s, id(c), p)));

  // Charges and refunds.
  app.post("/v1/charges", h((s, p) => charges.createLegacyCharge(s, p)));
  app.get("/v1/charges", h((s, p) => charges.listCharges(s, p)));
  app.get("/v1/charges/:id", h((s, p, c) => (id(c) === "search" ? charges.searchCharges(s, p) : (p.allow(), s.store.get("charge", id(c), "charge")))));
  app.post("/v1/charges/:id", h((s, p, c) => charges.updateCharge(s, id(c), p)));
  app.post("/v1/charges/:id/capture", h((s, p, c) => {
    p.allow("amount", "receipt_email", "statement_descriptor", "statement_descriptor_suffix", "metadata");
    const ch = s.store.get("charge", id(c), "charge");
    if (ch.captured || ch.status !== "succeeded") throw err.invalid(`Charge ${ch.id} has already been captured.`, { code: "charge_already_captured" });
    const amount = p.int("amount");
    if (!ch.payment_intent) return charges.captureCharge(s, ch.id, amount ?? Number(ch.amount));
    intents.captureIntent(s, String(ch.payment_intent), new Params(amount === undefined ? {} : { amount_to_capture: String(amount) }));
    return s.store.get("charge", ch.id);
  }));
  app.get("/v1/charges/:id/refunds", h((s, p, c) => (s.store.get("charge", id(c), "charge"), charges.listRefunds(s, p, id(c)))));
  app.post("/v1/refunds", h((s, p) => charges.createRefund(s, p)));
  app.get("/v1/refunds", h((s, p) => charges.listRefunds(s, p)));
  app.get("/v1/refunds/:id", h((s, p, c) => (p.allow(), s.store.get("refund", id(c), "refund"))));
  app.post("/v1/refunds/:id", h((s, p, c) => charges.updateRefund(s, id(c), p)));
  app.post("/v1/refunds/:id/cancel", h((s, p, c) => (p.allow(), charges.cancelRefund(s, id(c)))));

  // Products and prices.
  app.post("/v1/products", h((s, p) => catalog.createProduct(s, p)));
  app.get("/v1/products", h((s, p) => catalog.listProducts(s, p)));
  app.get("/v1/products/:id", h((s, p, c) => (id(c) === "search" ? catalog.searchProducts(s, p) : (p.allow(), s.store.get("product", id(c))))));
  app.post("/v1/products/:id", h((s, p, c) => catalog.updateProduct(s, id(c), p)));
  app.delete("/v1/products/:id", h((s, p, c) => catalog.deleteProduct(s, id(c))));
  app.post("/v1/prices", h((s, p) => catalog.createPrice(s, p)));
  app.get("/v1/prices", h((s, p) => catalog.listPrices(s, p)));
  app.get("/v1/prices/:id", h((s, p, c) => (id(c) === "search" ? catalog.searchPrices(s, p) : (p.allow(), s.store.get("price", id(c), "price")))));
  app.post("/v1/prices/:id", h((s, p, c) => catalog.updatePrice(s, id(c), p)));

  // Subscriptions and their invoices.
  app.post("/v1/subscription_schedules", h((s, p) => sched.createSchedule(s, p)));
  app.get("/v1/subscription_schedules", h((s, p) => sched.listSchedules(s, p)));
  app.get("/v1/subscription_schedules/:id", h((s, p, c) => (p.allow(), s.store.get("subscription_schedule", id(c)))));
  app.post("/v1/subscription_schedules/:id", h((s, p, c) => sched.updateSchedule(s, id(c), p)));
  app.post("/v1/subscription_schedules/:id/cancel", h((s, p, c) => sched.cancelSchedule(s, id(c), p)));
  app.post("/v1/subscription_schedules/:id/release", h((s, p, c) => sched.releaseSchedule(s, id(c), p)));
  app.post("/v1/subscriptions", h((s, p) => subs.createSubscription(s, p)));
  app.get("/v1/subscriptions", h((s, p) => subs.listSubscriptions(s, p)));
  app.get("/v1/subscriptions/:id", h((s, p, c) => (id(c) === "search" ? subs.searchSubscriptions(s, p) : (p.allow(), s.store.get("subscription", id(c))))));
  app.post("/v1/subscriptions/:id", h((s, p, c) => subs.updateSubscription(s, id(c), p)));
  app.delete("/v1/subscriptions/:id", h((s, p, c) => subs.cancelSubscription(s, id(c), p)));
  app.post("/v1/invoices", h((s, p) => invoicing.createInvoice(s, p)));
  app.get("/v1/invoices", h((s, p) => invoices.listInvoices(s, p)));
  app.post("/v1/invoices/:id", h((s, p, c) => (id(c) === "create_preview" ? previews.createPreview(s, p) : invoicing.updateInvoice(s, id(c), p))));
  app.delete("/v1/invoices/:id", h((s, p, c) => (p.allow(), invoicing.deleteInvoice(s, id(c)))));
  app.post("/v1/invoices/:id/finalize", h((s, p, c) => invoicing.finalize(s, id(c), p)));
  app.post("/v1/invoices/:id/send", h((s, p, c) => invoicing.sendInvoice(s, id(c), p)));
  app.get("/v1/invoices/:id", h((s, p, c) => (id(c) === "search" ? invoices.searchInvoices(s, p) : (p.allow(), s.store.get("invoice", id(c), "invoice")))));
  app.get("/v1/invoices/:id/lines", h((s, p, c) => invoices.invoiceLines(s, id(c), p)));
  app.post("/v1/invoices/:id/mark_uncollectible", h((s, p, c) => (p.allow(), invoices.markUncollectible(s, id(c)))));
  app.post("/v1/subscription_items", h((s, p) => subs.createSubscriptionItem(s, p)));
  app.get("/v1/subscription_items", h((s, p) => subs.listSubscriptionItems(s, p)));
  app.get("/v1/subscription_items/:id", h((s, p, c) => (p.allow(), subs.retrieveSubscriptionItem(s, id(c)))));
  app.post("/v1/subscription_items/:id", h((s, p, c) => subs.updateSubscriptionItem(s, id(c), p)));
  app.delete("/v1/subscription_items/:id", h((s, p, c) => subs.deleteSubscriptionItem(s, id(c), p)));
  app.post("/v1/invoices/:id/pay", h((s, p, c) => payInvoice(s, id(c), p)));
  app.post("/v1/invoices/:id/void", h((s, p, c) => (p.allow(), invoices.voidInvoice(s, id(c)))));
  app.post("/v1/invoices/:id/add_lines", h((s, p, c) => lines.addLines(s, id(c), p)));
  app.post("/v1/invoices/:id/update_lines", h((s, p, c) => lines.updateLines(s, id(c), p)));
  app.post("/v1/invoices/:id/remove_lines", h((s, p, c) => lines.removeLines(s, id(c), p)));

  // Invoice items.
  app.post("/v1/invoiceitems", h((s, p) => invoicing.createInvoiceItem(s, p)));
  app.get("/v1/invoiceitems", h((s, p) => invoicing.listInvoiceItems(s, p)));
  app.get("/v1/invoiceitems/:id", h((s, p, c) => (p.allow(), s.store.get("invoiceitem", id(c), "invoiceitem"))));
  app.post("/v1/invoiceitems/:id", h((s, p, c) => invoicing.updateInvoiceItem(s, id(c), p)));
  app.delete("/v1/invoiceitems/:id", h((s, p, c) => (p.allow(), invoicing.deleteInvoiceItem(s, id(c)))));

  // Checkout sessions (their hosted page is in hosted.ts).
  app.post("/v1/checkout/sessions", h((s, p) => checkout.createSession(s, p)));
  app.get("/v1/checkout/sessions", h((s, p) => checkout.listSessions(s, p)));
  app.get("/v1/checkout/sessions/:id", h((s, p, c) => (p.allow(), s.store.get("checkout.session", id(c), "session"))));
  app.get("/v1/checkout/sessions/:id/line_items", h((s, p, c) => checkout.sessionLineItems(s, id(c), p)));
  app.post("/v1/checkout/sessions/:id/expire", h((s, p, c) => (p.allow(), checkout.expireSession(s, id(c)))));
  // Customer portal sessions (their page is in hosted.ts).
  app.post("/v1/billing_portal/sessions", h((s, p) => portal.createPortalSession(s, p)));
  app.post("/v1/billing_portal/configurations", h((s, p) => portal.createConfiguration(s, p)));
  app.get("/v1/billing_portal/configurations", h((s, p) => portal.listConfigurations(s, p)));
  app.get("/v1/billing_portal/configurations/:id", h((s, p, c) => (p.allow(), portal.configurationOf(s, id(c), "id"))));
  app.post("/v1/billing_portal/configurations/:id", h((s, p, c) => portal.updateConfiguration(s, id(c), p)));
  // Coupons and promotion codes.
  app.post("/v1/coupons", h((s, p) => coupons.createCoupon(s, p)));
  app.get("/v1/coupons", h((s, p) => coupons.listCoupons(s, p)));
  app.get("/v1/coupons/:id", h((s, p, c) => (p.allow(), s.store.get("coupon", id(c), "coupon"))));
  app.post("/v1/coupons/:id", h((s, p, c) => coupons.updateCoupon(s, id(c), p)));
  app.delete("/v1/coupons/:id", h((s, p, c) => coupons.deleteCoupon(s, id(c))));
  app.post("/v1/promotion_codes", h((s, p) => coupons.createPromotionCode(s, p)));
  app.get("/v1/promotion_codes", h((s, p) => coupons.listPromotionCodes(s, p)));
  app.get("/v1/promotion_codes/:id", h((s, p, c) => (p.allow(), s.store.get("promotion_code", id(c), "promotion_code"))));
  app.post("/v1/promotion_codes/:id", h((s, p, c) => coupons.updatePromotionCode(s, id(c), p)));

  // Tax rates and tax ids (a customer's are with customers).
  app.post("/v1/tax_rates", h((s, p) => taxes.createTaxRate(s, p)));
  app.get("/v1/tax_rates", h((s, p) => taxes.listTaxRates(s, p)));
  app.get("/v1/tax_rates/:id", h((s, p, c) => (p.allow(), s.store.get("tax_rate", id(c)))));
  app.post("/v1/tax_rates/:id", h((s, p, c) => taxes.updateTaxRate(s, id(c), p)));
  app.post("/v1/tax_ids", h((s, p) => taxIds.createTaxId(s, p)));
  app.get("/v1/tax_ids", h((s, p) => taxIds.listTaxIds(s, p)));
  app.get("/v1/tax_ids/:id", h((s, p, c) => (p.allow(), taxIds.retrieveTaxId(s, id(c)))));
  app.delete("/v1/tax_ids/:id", h((s, p, c) => (p.allow(), taxIds.deleteTaxId(s, id(c)))));

  // Shipping rates.
  app.post("/v1/shipping_rates", h((s, p) => shipping.createShippingRate(s, p)));
  app.get("/v1/shipping_rates", h((s, p) => shipping.listShippingRates(s, p)));
  app.get("/v1/shipping_rates/:id", h((s, p, c) => (p.allow(), s.store.get("shipping_rate", id(c)))));
  app.post("/v1/shipping_rates/:id", h((s, p, c) => shipping.updateShippingRate(s, id(c), p)));
  app.post("/v1/credit_notes", h((s, p) => creditNotes.createCreditNote(s, p)));
  app.get("/v1/credit_notes", h((s, p) => creditNotes.listCreditNotes(s, p)));
  // One handler a path: `preview` is an id to the router (two matches would answer asynchronously).
  app.get("/v1/credit_notes/:id", h((s, p, c) => (id(c) === "preview" ? creditNotes.previewCreditNote(s, p) : (p.allow(), s.store.get("credit_note", id(c))))));
  app.post("/v1/credit_notes/:id", h((s, p, c) => creditNotes.updateCreditNote(s, id(c), p)));
  app.post("/v1/credit_notes/:id/void", h((s, p, c) => (p.allow(), creditNotes.voidCreditNote(s, id(c)))));
  app.post("/v1/payment_links", h((s, p) => links.createPaymentLink(s, p)));
  app.get("/v1/payment_links", h((s, p) => links.listPaymentLinks(s, p)));
  app.get("/v1/payment_links/:id", h((s, p, c) => (p.allow(), s.store.get("payment_link", id(c)))));
  app.post("/v1/payment_links/:id", h((s, p, c) => links.updatePaymentLink(s, id(c), p)));
  app.get("/v1/payment_links/:id/line_items", h((s, p, c) => links.linkLineItems(s, id(c), p)));
  app.post("/v1/plans", h((s, p) => plans.createPlan(s, p)));
  app.get("/v1/plans", h((s, p) => plans.listPlans(s, p)));
  app.get("/v1/plans/:id", h((s, p, c) => (p.allow(), plans.retrievePlan(s, id(c)))));
  app.post("/v1/plans/:id", h((s, p, c) => plans.updatePlan(s, id(c), p)));
  app.delete("/v1/plans/:id", h((s, p, c) => (p.allow(), plans.deletePlan(s, id(c)))));
  app.post("/v1/payouts", h((s, p) => payouts.createPayout(s, p)));
  app.get("/v1/payouts", h((s, p) => payouts.listPayouts(s, p)));
  app.get("/v1/payouts/:id", h((s, p, c) => (p.allow(), s.store.get("payout", id(c)))));
  app.post("/v1/payouts/:id", h((s, p, c) => payouts.updatePayout(s, id(c), p)));
  app.post("/v1/payouts/:id/cancel", h((s, p, c) => (p.allow(), payouts.cancelPayout(s, id(c)))));
  app.get("/v1/disputes", h((s, p) => disputes.listDisputes(s, p)));
  app.get("/v1/disputes/:id", h((s, p, c) => (p.allow(), s.store.get("dispute", id(c)))));
  app.post("/v1/disputes/:id", h((s, p, c) => disputes.updateDispute(s, id(c), p)));
  app.post("/v1/disputes/:id/close", h((s, p, c) => (p.allow(), disputes.closeDispute(s, id(c)))));
  app.get("/v1/credit_notes/:id/lines", h((s, p, c) => (id(c) === "preview" ? creditNotes.previewLines(s, p) : creditNotes.creditNoteLines(s, id(c), p))));

  // The account's balance and its transactions.
  app.get("/v1/balance", h((s, p) => balance.balance(s, p)));
  app.get("/v1/balance_transactions", h((s, p) => balance.listBalanceTransactions(s, p)));
  app.get("/v1/balance_transactions/:id", h((s, p, c) => (p.allow(), s.store.get("balance_transaction", id(c)))));

  hostedPages(app, k);

  // Test clocks. An advance answers `advancing` once the run clock got there (test-clocks.ts).
  app.post("/v1/test_helpers/test_clocks", h((s, p) => clocks.createTestClock(s, p)));
  app.get("/v1/test_helpers/test_clocks", h((s, p) => clocks.listTestClocks(s, p)));
  app.get("/v1/test_helpers/test_clocks/:id", h((s, p, c) => (p.allow(), s.store.get("test_helpers.test_clock", id(c)))));
  app.delete("/v1/test_helpers/test_clocks/:id", h((s, p, c) => (p.allow(), clocks.deleteTestClock(s, id(c)))));
  app.post("/v1/test_helpers/test_clocks/:id/advance", (c) => {
    let runTargetMs: number | null = null;
    const res = h((s, p) => {
      const r = clocks.startAdvance(s, id(c), p);
      runTargetMs = r.runTargetMs;
      return r.clock;
    })(c);
    const to = runTargetMs as number | null;
    // A replayed or refused request moves nothing.
    if (to === null || res.headers.has("idempotent-replayed")) return res;
    return deferred(async () => {
      let failed = false;
      try {
        await k.advance(to);
      } catch (e) {
        console.error("molar: a test clock's advance failed", e instanceof Error ? e.stack : e);
        failed = true;
      }
      k.tx(() => clocks.finishAdvance(ctxOf(k), id(c), failed));
      return res;
    });
  });

  // Webhook endpoints and events.
  app.post("/v1/webhook_endpoints", h((s, p) => events.createEndpoint(s, p)));
  app.get("/v1/webhook_endpoints", h((s, p) => events.listEndpoints(s, p)));
  app.get("/v1/webhook_endpoints/:id", h((s, p, c) => (p.allow(), s.store.get("webhook_endpoint", id(c), "webhook_endpoint"))));
  app.post("/v1/webhook_endpoints/:id", h((s, p, c) => events.updateEndpoint(s, id(c), p)));
  app.delete("/v1/webhook_endpoints/:id", h((s, p, c) => events.deleteEndpoint(s, id(c))));
  app.get("/v1/events", h((s, p) => events.listEvents(s, p)));
  app.get("/v1/events/:id", h((s, p, c) => (p.allow(), s.store.get("event", id(c)))));

  return app;
}

// Stripe's resource families (as stripe-node 23 calls them): an unbuilt operation under one of
// these is a 501; any other path is Stripe's "Unrecognized request URL".
const KNOWN_ROOTS = new RegExp(
  "^/(?:v1/(?:" +
    [
      "account", "account_links", "account_sessions", "accounts", "apple_pay", "application_fees", "apps", "balance", "balance_settings", "balance_transactions",
      "billing", "billing_portal", "charges", "checkout", "climate", "confirmation_tokens", "country_specs", "coupons", "credit_notes", "customer_sessions",
      "customers", "disputes", "entitlements", "ephemeral_keys", "events", "exchange_rates", "file_links", "files", "financial_connections", "forwarding",
      "identity", "invoice_payments", "invoice_rendering_templates", "invoiceitems", "invoices", "issuing", "mandates", "payment_attempt_records",
      "payment_intents", "payment_links", "payment_method_configurations", "payment_method_domains", "payment_methods", "payment_records", "payouts", "plans",
      "prices", "product_catalog", "products", "promotion_codes", "quotes", "radar", "refunds", "reporting", "reviews", "setup_attempts", "setup_intents",
      "shipping_rates", "sigma", "sources", "subscription_items", "subscription_schedules", "subscriptions", "tax", "tax_codes", "tax_ids", "tax_rates",
      "terminal", "test_helpers", "three_d_secure", "tokens", "topups", "transfers", "treasury", "webhook_endpoints",
    ].join("|") +
    ")|v2/(?:billing|commerce|core|money_management|test_helpers)|oauth/(?:deauthorize|token))(?:/|$)",
);

export function stripeUnmatched(method: string, path: string): Response {
  const known = (method === "GET" || method === "POST" || method === "DELETE") && KNOWN_ROOTS.test(path);
  return known ? stripeErrors.notImplemented(method, path) : stripeErrors.notFound(method, path);
}
