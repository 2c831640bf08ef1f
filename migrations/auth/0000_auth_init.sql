CREATE TABLE `auth_identifiers` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`type` text NOT NULL,
	`value` text NOT NULL,
	`verified` integer DEFAULT true NOT NULL,
	`reserved` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auth_identifiers_value` ON `auth_identifiers` (`type`,`value`);--> statement-breakpoint
CREATE INDEX `auth_identifiers_user` ON `auth_identifiers` (`user_id`);--> statement-breakpoint
CREATE TABLE `auth_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`organization_id` text,
	`role` text,
	`inviter_id` text,
	`email_address` text NOT NULL,
	`status` text NOT NULL,
	`public_metadata` text DEFAULT '{}' NOT NULL,
	`private_metadata` text DEFAULT '{}' NOT NULL,
	`expires_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `auth_jwt_templates` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`claims` text NOT NULL,
	`lifetime` integer NOT NULL,
	`allowed_clock_skew` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auth_jwt_templates_name_unique` ON `auth_jwt_templates` (`name`);--> statement-breakpoint
CREATE TABLE `auth_memberships` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`organization_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`public_metadata` text DEFAULT '{}' NOT NULL,
	`private_metadata` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auth_memberships_pair` ON `auth_memberships` (`organization_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `auth_memberships_user` ON `auth_memberships` (`user_id`);--> statement-breakpoint
CREATE TABLE `auth_organizations` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`name` text NOT NULL,
	`slug` text NOT NULL,
	`created_by` text,
	`max_allowed_memberships` integer DEFAULT 0 NOT NULL,
	`public_metadata` text DEFAULT '{}' NOT NULL,
	`private_metadata` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auth_organizations_slug_unique` ON `auth_organizations` (`slug`);--> statement-breakpoint
CREATE TABLE `auth_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`user_id` text NOT NULL,
	`client_id` text NOT NULL,
	`status` text NOT NULL,
	`last_active_organization_id` text,
	`azp` text,
	`last_active_at` integer NOT NULL,
	`expire_at` integer NOT NULL,
	`abandon_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `auth_sessions_user` ON `auth_sessions` (`user_id`,`seq`);--> statement-breakpoint
CREATE TABLE `auth_sign_in_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`token` text NOT NULL,
	`status` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auth_sign_in_tokens_token_unique` ON `auth_sign_in_tokens` (`token`);--> statement-breakpoint
CREATE TABLE `auth_users` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`external_id` text,
	`username` text,
	`first_name` text,
	`last_name` text,
	`password_hash` text,
	`password_updated_at` integer,
	`primary_email_address_id` text,
	`primary_phone_number_id` text,
	`public_metadata` text DEFAULT '{}' NOT NULL,
	`private_metadata` text DEFAULT '{}' NOT NULL,
	`unsafe_metadata` text DEFAULT '{}' NOT NULL,
	`banned` integer DEFAULT false NOT NULL,
	`locked` integer DEFAULT false NOT NULL,
	`delete_self_enabled` integer DEFAULT true NOT NULL,
	`create_organization_enabled` integer DEFAULT true NOT NULL,
	`legal_accepted_at` integer,
	`last_sign_in_at` integer,
	`last_active_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `auth_users_seq` ON `auth_users` (`seq`);--> statement-breakpoint
CREATE INDEX `auth_users_created` ON `auth_users` (`created_at`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `auth_users_username` ON `auth_users` (`username`);--> statement-breakpoint
CREATE TABLE `auth_verifications` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`identifier_id` text NOT NULL,
	`purpose` text NOT NULL,
	`code` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`status` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
