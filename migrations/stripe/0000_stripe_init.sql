CREATE TABLE `stripe_charges` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_charges_seq` ON `stripe_charges` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_checkout_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_checkout_sessions_seq` ON `stripe_checkout_sessions` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_coupons` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_coupons_seq` ON `stripe_coupons` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_customers` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_customers_seq` ON `stripe_customers` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_discounts` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_discounts_seq` ON `stripe_discounts` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_events` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_events_seq` ON `stripe_events` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_invoices_seq` ON `stripe_invoices` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_payment_intents` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_payment_intents_seq` ON `stripe_payment_intents` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_payment_methods` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_payment_methods_seq` ON `stripe_payment_methods` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_portal_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_portal_sessions_seq` ON `stripe_portal_sessions` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_prices` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_prices_seq` ON `stripe_prices` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_products` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_products_seq` ON `stripe_products` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_promotion_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_promotion_codes_seq` ON `stripe_promotion_codes` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_refunds` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_refunds_seq` ON `stripe_refunds` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `stripe_setup_intents` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_setup_intents_seq` ON `stripe_setup_intents` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_subscriptions_seq` ON `stripe_subscriptions` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_webhook_endpoints_seq` ON `stripe_webhook_endpoints` (`seq`);