CREATE TABLE `ctl_fleet` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`api_url` text NOT NULL,
	`admin_url` text NOT NULL,
	`admin_token` text NOT NULL,
	`labels` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`checked_at` integer,
	`healthy` integer,
	`latency_ms` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE TABLE `ctl_worlds` (
	`id` text PRIMARY KEY NOT NULL,
	`label` text,
	`created_at` integer NOT NULL,
	`refs` text NOT NULL
);
