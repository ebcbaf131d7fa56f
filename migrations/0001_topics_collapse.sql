CREATE TABLE `topic_messages` (
	`app_id` text NOT NULL,
	`topic` text NOT NULL,
	`offset` integer NOT NULL,
	`message_id` text NOT NULL,
	PRIMARY KEY(`app_id`, `topic`, `offset`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `topic_subscriptions` (
	`app_id` text NOT NULL,
	`topic` text NOT NULL,
	`device_id` text NOT NULL,
	`start_offset` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `topic`, `device_id`)
);
--> statement-breakpoint
CREATE INDEX `topic_subscriptions_device` ON `topic_subscriptions` (`app_id`,`device_id`);--> statement-breakpoint
CREATE TABLE `topics` (
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`last_offset` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `name`),
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `inbox` ADD `collapse_key` text;--> statement-breakpoint
CREATE INDEX `inbox_pending_collapse` ON `inbox` (`app_id`,`device_id`,`collapse_key`) WHERE "inbox"."state" = 0 AND "inbox"."collapse_key" IS NOT NULL;