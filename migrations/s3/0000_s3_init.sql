CREATE TABLE `s3_buckets` (
	`name` text PRIMARY KEY NOT NULL,
	`region` text NOT NULL,
	`created_at` integer NOT NULL,
	`tags` text,
	`cors` text,
	`policy` text
);
--> statement-breakpoint
CREATE TABLE `s3_objects` (
	`id` text PRIMARY KEY NOT NULL,
	`bucket` text NOT NULL,
	`key` text NOT NULL,
	`size` integer NOT NULL,
	`etag` text NOT NULL,
	`last_modified` integer NOT NULL,
	`headers` text NOT NULL,
	`metadata` text NOT NULL,
	`segments` text NOT NULL,
	`crc32` text,
	`parts_count` integer,
	`tags` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `s3_objects_bucket_key` ON `s3_objects` (`bucket`,`key`);--> statement-breakpoint
CREATE TABLE `s3_parts` (
	`upload_id` text NOT NULL,
	`part_number` integer NOT NULL,
	`size` integer NOT NULL,
	`etag` text NOT NULL,
	`last_modified` integer NOT NULL,
	`segments` text NOT NULL,
	`crc32` text,
	PRIMARY KEY(`upload_id`, `part_number`)
);
--> statement-breakpoint
CREATE TABLE `s3_uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`bucket` text NOT NULL,
	`key` text NOT NULL,
	`initiated` integer NOT NULL,
	`headers` text NOT NULL,
	`metadata` text NOT NULL,
	`tags` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `s3_uploads_bucket_key` ON `s3_uploads` (`bucket`,`key`,`id`);