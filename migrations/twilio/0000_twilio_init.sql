CREATE TABLE `twilio_messages` (
	`sid` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`to` text NOT NULL,
	`from` text NOT NULL,
	`body` text NOT NULL,
	`status` text NOT NULL,
	`direction` text NOT NULL,
	`num_segments` integer NOT NULL,
	`media` text,
	`messaging_service_sid` text,
	`status_callback` text,
	`outcome` text NOT NULL,
	`error_code` integer,
	`error_message` text,
	`send_at` integer,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL,
	`date_sent` integer
);
--> statement-breakpoint
CREATE INDEX `twilio_messages_seq` ON `twilio_messages` (`seq`);--> statement-breakpoint
CREATE TABLE `twilio_messaging_services` (
	`sid` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`friendly_name` text NOT NULL,
	`inbound_request_url` text,
	`inbound_method` text NOT NULL,
	`fallback_url` text,
	`fallback_method` text NOT NULL,
	`status_callback` text,
	`sticky_sender` integer NOT NULL,
	`use_inbound_webhook_on_number` integer NOT NULL,
	`validity_period` integer NOT NULL,
	`usecase` text NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `twilio_numbers` (
	`sid` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`phone_number` text NOT NULL,
	`friendly_name` text NOT NULL,
	`sms_url` text,
	`sms_method` text NOT NULL,
	`status_callback` text,
	`status_callback_method` text NOT NULL,
	`voice_url` text,
	`messaging_service_sid` text,
	`pool_date_added` integer,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `twilio_numbers_phone_number_unique` ON `twilio_numbers` (`phone_number`);--> statement-breakpoint
CREATE TABLE `twilio_verifications` (
	`sid` text PRIMARY KEY NOT NULL,
	`service_sid` text NOT NULL,
	`to` text NOT NULL,
	`channel` text NOT NULL,
	`status` text NOT NULL,
	`code` text NOT NULL,
	`send_attempts` text NOT NULL,
	`check_attempts` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `twilio_verifications_to` ON `twilio_verifications` (`service_sid`,`to`);--> statement-breakpoint
CREATE TABLE `twilio_verify_services` (
	`sid` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`friendly_name` text NOT NULL,
	`code_length` integer NOT NULL,
	`lookup_enabled` integer NOT NULL,
	`skip_sms_to_landlines` integer NOT NULL,
	`dtmf_input_required` integer NOT NULL,
	`do_not_share_warning_enabled` integer NOT NULL,
	`custom_code_enabled` integer NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
