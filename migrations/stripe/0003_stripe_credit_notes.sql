CREATE TABLE `stripe_credit_notes` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_credit_notes_seq` ON `stripe_credit_notes` (`seq`);