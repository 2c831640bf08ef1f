CREATE TABLE `stripe_subscription_schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created` integer NOT NULL,
	`deleted` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`internal` text
);
--> statement-breakpoint
CREATE INDEX `stripe_subscription_schedules_seq` ON `stripe_subscription_schedules` (`seq`);