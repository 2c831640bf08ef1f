CREATE TABLE `stripe_payouts` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_payouts_seq` ON `stripe_payouts` (`seq`);