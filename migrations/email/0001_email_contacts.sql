CREATE TABLE `email_contact_segments` (
	`contact_id` text NOT NULL,
	`segment_id` text NOT NULL,
	`seq` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`contact_id`, `segment_id`)
);
--> statement-breakpoint
CREATE INDEX `email_contact_segments_segment` ON `email_contact_segments` (`segment_id`,`seq`);--> statement-breakpoint
CREATE TABLE `email_contacts` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`email` text NOT NULL,
	`first_name` text,
	`last_name` text,
	`unsubscribed` integer DEFAULT false NOT NULL,
	`properties` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_contacts_email_unique` ON `email_contacts` (`email`);--> statement-breakpoint
CREATE INDEX `email_contacts_seq` ON `email_contacts` (`seq`);--> statement-breakpoint
CREATE TABLE `email_segments` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
