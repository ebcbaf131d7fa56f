CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor_kind` text NOT NULL,
	`actor_key_id` text,
	`app_id` text,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`details` text DEFAULT '{}' NOT NULL,
	`from_address` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_app` ON `audit_log` (`app_id`,`id`);