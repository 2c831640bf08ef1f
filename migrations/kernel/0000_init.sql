CREATE TABLE `kernel_blobs` (
	`sha256` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`bytes` blob NOT NULL
);
--> statement-breakpoint
CREATE TABLE `kernel_chaos_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`method` text,
	`path` text,
	`status` integer,
	`latency_ms` integer,
	`rate` real DEFAULT 1 NOT NULL,
	`times` integer,
	`fired` integer DEFAULT 0 NOT NULL,
	`preset` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `kernel_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`kind` text NOT NULL,
	`endpoint_id` text,
	`url` text NOT NULL,
	`event` text NOT NULL,
	`event_id` text NOT NULL,
	`body` text NOT NULL,
	`content_type` text NOT NULL,
	`secret` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`last_status` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kernel_deliveries_seq` ON `kernel_deliveries` (`seq`);--> statement-breakpoint
CREATE TABLE `kernel_delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` text NOT NULL,
	`at` integer NOT NULL,
	`status` integer,
	`error` text,
	`duration_ms` real NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kernel_delivery_attempts_d` ON `kernel_delivery_attempts` (`delivery_id`);--> statement-breakpoint
CREATE TABLE `kernel_idempotency` (
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`status` integer NOT NULL,
	`body` text NOT NULL,
	`headers` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`kind`, `key`)
);
--> statement-breakpoint
CREATE TABLE `kernel_inbox` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`kind` text NOT NULL,
	`channel` text NOT NULL,
	`to` text NOT NULL,
	`from` text NOT NULL,
	`subject` text,
	`text` text,
	`html` text,
	`code` text,
	`ref` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kernel_inbox_seq` ON `kernel_inbox` (`seq`);--> statement-breakpoint
CREATE TABLE `kernel_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`due_at` integer NOT NULL,
	`kind` text NOT NULL,
	`type` text NOT NULL,
	`ref` text,
	`payload` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `kernel_jobs_due` ON `kernel_jobs` (`due_at`,`id`);--> statement-breakpoint
CREATE INDEX `kernel_jobs_ref` ON `kernel_jobs` (`ref`);--> statement-breakpoint
CREATE TABLE `kernel_meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `kernel_request_log` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`status` integer NOT NULL,
	`duration_ms` real NOT NULL,
	`error_injected` integer DEFAULT 0 NOT NULL,
	`request_id` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `kernel_snapshots` (
	`id` text PRIMARY KEY NOT NULL,
	`label` text,
	`created_at` integer NOT NULL,
	`sha256` text NOT NULL,
	`bytes` integer NOT NULL,
	`counts` text NOT NULL,
	`r2_key` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `kernel_webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`url` text NOT NULL,
	`events` text,
	`status` text DEFAULT 'enabled' NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer NOT NULL
);
