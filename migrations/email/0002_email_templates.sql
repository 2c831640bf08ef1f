CREATE TABLE `email_templates` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`name` text NOT NULL,
	`alias` text,
	`draft` text NOT NULL,
	`published` text,
	`published_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_templates_alias_unique` ON `email_templates` (`alias`);--> statement-breakpoint
CREATE INDEX `email_templates_seq` ON `email_templates` (`seq`);