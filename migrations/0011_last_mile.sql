CREATE TABLE `channel_credentials` (
	`app_id` text NOT NULL,
	`kind` text NOT NULL,
	`sealed` text NOT NULL,
	`public` text DEFAULT '{}' NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `kind`),
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `channel_deliveries` (
	`message_id` text NOT NULL,
	`device_id` text NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `device_id`, `kind`)
);
--> statement-breakpoint
CREATE TABLE `channel_endpoints` (
	`app_id` text NOT NULL,
	`subject_type` text NOT NULL,
	`subject_id` text NOT NULL,
	`kind` text NOT NULL,
	`address` text NOT NULL,
	`endpoint` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `subject_type`, `subject_id`, `kind`, `address`),
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `fallback_jobs` (
	`message_id` text NOT NULL,
	`app_id` text NOT NULL,
	`device_id` text NOT NULL,
	`seq` integer NOT NULL,
	`channels` text NOT NULL,
	`due_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`state` integer DEFAULT 0 NOT NULL,
	`outcome` text,
	`priority` integer NOT NULL,
	PRIMARY KEY(`message_id`, `device_id`)
);
--> statement-breakpoint
CREATE INDEX `fallback_jobs_due` ON `fallback_jobs` (`priority`,`due_at`) WHERE "fallback_jobs"."state" = 0;--> statement-breakpoint
ALTER TABLE `messages` ADD `notification` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `fallback` text;