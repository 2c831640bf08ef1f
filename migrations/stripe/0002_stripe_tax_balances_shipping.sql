CREATE TABLE `stripe_balance_transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_balance_transactions_seq` ON `stripe_balance_transactions` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_customer_balance_transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_customer_balance_transactions_seq` ON `stripe_customer_balance_transactions` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_shipping_rates` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_shipping_rates_seq` ON `stripe_shipping_rates` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_tax_ids` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_tax_ids_seq` ON `stripe_tax_ids` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_tax_rates` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_tax_rates_seq` ON `stripe_tax_rates` (`seq`);