// Tables of the Stripe clone, prefixed `stripe_`. Every resource keeps its Stripe-shaped JSON in
// `data` beside the columns lists and lookups need; `internal` holds what the API never shows
// (a card's test behaviour, whether a payment method was consumed).
import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

const resourceColumns = () => ({
  id: text("id").primaryKey(),
  seq: integer("seq").notNull(),
  created: integer("created").notNull(),
  deleted: integer("deleted").notNull().default(0),
  data: text("data").notNull(),
  internal: text("internal"),
});

function resourceTable<N extends string>(name: N) {
  return sqliteTable(name, resourceColumns(), (t) => [index(`${name}_seq`).on(t.seq)]);
}

export const customers = resourceTable("stripe_customers");
export const paymentMethods = resourceTable("stripe_payment_methods");
export const paymentIntents = resourceTable("stripe_payment_intents");
export const charges = resourceTable("stripe_charges");
export const refunds = resourceTable("stripe_refunds");
export const products = resourceTable("stripe_products");
export const prices = resourceTable("stripe_prices");
export const webhookEndpoints = resourceTable("stripe_webhook_endpoints");
export const events = resourceTable("stripe_events");
export const setupIntents = resourceTable("stripe_setup_intents");
// `renews_at` (unix seconds) is when the run clock next renews it: renewals due at one instant are
// found by this index and done together in SQL (renewals.ts).
export const subscriptions = sqliteTable("stripe_subscriptions", { ...resourceColumns(), renewsAt: integer("renews_at") }, (t) => [
  index("stripe_subscriptions_seq").on(t.seq),
  index("stripe_subscriptions_renews_at").on(t.renewsAt),
]);
export const invoices = resourceTable("stripe_invoices");
export const coupons = resourceTable("stripe_coupons");
export const promotionCodes = resourceTable("stripe_promotion_codes");
export const discounts = resourceTable("stripe_discounts");
export const checkoutSessions = resourceTable("stripe_checkout_sessions");
export const portalSessions = resourceTable("stripe_portal_sessions");
export const testClocks = resourceTable("stripe_test_clocks");
export const invoiceItems = resourceTable("stripe_invoice_items");
export const taxRates = resourceTable("stripe_tax_rates");
export const taxIds = resourceTable("stripe_tax_ids");
export const customerBalanceTransactions = resourceTable("stripe_customer_balance_transactions");
export const balanceTransactions = resourceTable("stripe_balance_transactions");
export const shippingRates = resourceTable("stripe_shipping_rates");
export const creditNotes = resourceTable("stripe_credit_notes");
export const disputes = resourceTable("stripe_disputes");
export const paymentLinks = resourceTable("stripe_payment_links");
export const portalConfigurations = resourceTable("stripe_portal_configurations");
export const payouts = resourceTable("stripe_payouts");
export const subscriptionSchedules = resourceTable("stripe_subscription_schedules");

/** Account settings the admin API can change (the dashboard's, at Stripe): dunning. */
export const settings = sqliteTable("stripe_settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/** Columns of `stripe_bulk_slots`: the most slots a bulk renewal's templates may have. */
export const BULK_SLOTS = 64;

// Scratch rows of one bulk renewal statement batch: each renewal's slot values, one column a slot,
// read by the templates' INSERT ... SELECT statements and emptied in the same transaction.
export const bulkSlots = sqliteTable("stripe_bulk_slots", {
  row: integer("row").primaryKey(),
  ...Object.fromEntries(Array.from({ length: BULK_SLOTS }, (_, i) => [`s${i}`, text(`s${i}`)])),
});
