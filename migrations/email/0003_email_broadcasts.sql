CREATE TABLE `email_broadcasts` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`data` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`scheduled_at` integer,
	`sent_at` integer
);
--> statement-breakpoint
CREATE INDEX `email_broadcasts_seq` ON `email_broadcasts` (`seq`);