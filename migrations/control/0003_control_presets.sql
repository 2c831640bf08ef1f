CREATE TABLE `ctl_presets` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`kinds` text NOT NULL,
	`chaos` text DEFAULT '[]' NOT NULL,
	`bundle_key` text NOT NULL,
	`bytes` integer NOT NULL,
	`source` text,
	`created_at` integer NOT NULL
);
