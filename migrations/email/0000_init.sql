CREATE TABLE `email_api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`name` text NOT NULL,
	`permission` text NOT NULL,
	`domain_id` text,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE TABLE `email_domains` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`region` text NOT NULL,
	`open_tracking` integer DEFAULT false NOT NULL,
	`click_tracking` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_domains_name_unique` ON `email_domains` (`name`);--> statement-breakpoint
CREATE TABLE `email_emails` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`created_at` integer NOT NULL,
	`from` text NOT NULL,
	`to` text NOT NULL,
	`cc` text,
	`bcc` text,
	`reply_to` text,
	`subject` text NOT NULL,
	`html` text,
	`text` text,
	`headers` text,
	`tags` text,
	`attachments` text,
	`scheduled_at` integer,
	`last_event` text NOT NULL,
	`message_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `email_emails_seq` ON `email_emails` (`seq`);