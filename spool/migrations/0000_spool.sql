CREATE TABLE `spool_refusals` (
	`message_id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`accepted_at` integer NOT NULL,
	`refused_at` integer NOT NULL,
	`code` text NOT NULL,
	`message` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `spool_refusals_at` ON `spool_refusals` (`refused_at`);--> statement-breakpoint
CREATE TABLE `spooled_sends` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`app_id` text NOT NULL,
	`message_id` text NOT NULL,
	`accepted_at` integer NOT NULL,
	`request` text NOT NULL,
	`bytes` integer NOT NULL,
	`idempotency_key` text,
	`request_hash` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `spooled_sends_messageId_unique` ON `spooled_sends` (`message_id`);--> statement-breakpoint
CREATE INDEX `spooled_sends_key` ON `spooled_sends` (`app_id`,`idempotency_key`);