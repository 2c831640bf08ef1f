CREATE TABLE `twilio_senders` (
	`sender` text PRIMARY KEY NOT NULL,
	`free_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `twilio_messages` ADD `next_at` integer;--> statement-breakpoint
ALTER TABLE `twilio_messages` ADD `dequeue_at` integer;--> statement-breakpoint
ALTER TABLE `twilio_messages` ADD `validity_period` integer;--> statement-breakpoint
CREATE INDEX `twilio_messages_next` ON `twilio_messages` (`next_at`);