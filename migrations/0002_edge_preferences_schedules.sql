CREATE TABLE `deferred_targets` (
	`message_id` text NOT NULL,
	`app_id` text NOT NULL,
	`device_id` text NOT NULL,
	`state` integer NOT NULL,
	`reason` text NOT NULL,
	`release_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `device_id`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `deferred_targets_due` ON `deferred_targets` (`release_at`) WHERE "deferred_targets"."state" < 2;--> statement-breakpoint
CREATE TABLE `frequency_log` (
	`app_id` text NOT NULL,
	`device_id` text NOT NULL,
	`category` text NOT NULL,
	`message_id` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `device_id`, `category`, `message_id`)
);
--> statement-breakpoint
CREATE INDEX `frequency_log_window` ON `frequency_log` (`app_id`,`device_id`,`category`,`at`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`app_id` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`message_id` text NOT NULL,
	`result` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_created` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `preferences` (
	`app_id` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`time_zone` text,
	`quiet_start` integer,
	`quiet_end` integer,
	`quiet_allow_high` integer DEFAULT false NOT NULL,
	`muted_categories` text DEFAULT '[]' NOT NULL,
	`frequency_caps` text DEFAULT '[]' NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `subject_type`, `subject_id`),
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `released_targets` (
	`message_id` text NOT NULL,
	`device_id` text NOT NULL,
	`released_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `device_id`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `messages` ADD `category` text;