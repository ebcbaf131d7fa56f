PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`priority` integer NOT NULL,
	`data` blob NOT NULL,
	`collapse_key` text,
	`category` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`target_count` integer NOT NULL,
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_messages`("id", "app_id", "priority", "data", "collapse_key", "category", "created_at", "expires_at", "target_count") SELECT "id", "app_id", "priority", "data", "collapse_key", "category", "created_at", "expires_at", "target_count" FROM `messages`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `messages_app_created` ON `messages` (`app_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `inbox` ADD `reason` text;--> statement-breakpoint
ALTER TABLE `topic_subscriptions` ADD `delivered_offset` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `topic_messages_message` ON `topic_messages` (`message_id`);