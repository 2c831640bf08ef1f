CREATE TABLE `s3_completed_uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`bucket` text NOT NULL,
	`key` text NOT NULL,
	`etag` text NOT NULL,
	`version_id` text,
	`completed_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `s3_objects` ADD `part_sizes` text;--> statement-breakpoint
ALTER TABLE `s3_versions` ADD `part_sizes` text;