CREATE TABLE `stripe_invoice_items` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_invoice_items_seq` ON `stripe_invoice_items` (`seq`);--> statement-breakpoint
CREATE TABLE `stripe_test_clocks` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_test_clocks_seq` ON `stripe_test_clocks` (`seq`);--> statement-breakpoint
ALTER TABLE `stripe_subscriptions` ADD `renews_at` integer;--> statement-breakpoint
CREATE INDEX `stripe_subscriptions_renews_at` ON `stripe_subscriptions` (`renews_at`);