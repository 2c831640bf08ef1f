CREATE TABLE `ctl_audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`run_id` text NOT NULL,
	`detail` text
);
--> statement-breakpoint
CREATE TABLE `ctl_key_pool` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`private_jwk` text NOT NULL,
	`public_pem` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ctl_runs` (
	`world_id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`status` text NOT NULL,
	`seed` text NOT NULL,
	`kinds` text NOT NULL,
	`metadata` text DEFAULT '{}' NOT NULL,
	`clones` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer,
	`actor` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ctl_runs_run` ON `ctl_runs` (`run_id`,`status`);--> statement-breakpoint
CREATE INDEX `ctl_runs_expiry` ON `ctl_runs` (`status`,`expires_at`);