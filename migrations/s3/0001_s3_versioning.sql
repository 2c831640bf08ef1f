CREATE TABLE `s3_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`bucket` text NOT NULL,
	`key` text NOT NULL,
	`version_id` text NOT NULL,
	`seq` integer NOT NULL,
	`marker` integer DEFAULT 0 NOT NULL,
	`size` integer NOT NULL,
	`etag` text NOT NULL,
	`last_modified` integer NOT NULL,
	`headers` text NOT NULL,
	`metadata` text NOT NULL,
	`segments` text NOT NULL,
	`crc32` text,
	`parts_count` integer,
	`tags` text DEFAULT '{}' NOT NULL,
	`lock` text,
	`noncurrent_since` integer
);
--> statement-breakpoint
CREATE INDEX `s3_versions_bucket_key_seq` ON `s3_versions` (`bucket`,`key`,`seq`);--> statement-breakpoint
ALTER TABLE `s3_buckets` ADD `versioning` text;--> statement-breakpoint
ALTER TABLE `s3_buckets` ADD `object_lock` text;--> statement-breakpoint
ALTER TABLE `s3_buckets` ADD `lifecycle` text;--> statement-breakpoint
ALTER TABLE `s3_objects` ADD `version_id` text;--> statement-breakpoint
ALTER TABLE `s3_objects` ADD `lock` text;--> statement-breakpoint
ALTER TABLE `s3_uploads` ADD `lock` text;