CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`name` text NOT NULL,
	`scopes` text DEFAULT 'send,read' NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `apps` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`token_secret` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `devices` (
	`app_id` text NOT NULL,
	`id` text NOT NULL,
	`user_id` text,
	`platform` text,
	`epoch` integer NOT NULL,
	`last_seq` integer DEFAULT 0 NOT NULL,
	`acked_seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `id`),
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `devices_user` ON `devices` (`app_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `inbox` (
	`app_id` text NOT NULL,
	`device_id` text NOT NULL,
	`seq` integer NOT NULL,
	`message_id` text NOT NULL,
	`state` integer DEFAULT 0 NOT NULL,
	`delivered_at` integer,
	PRIMARY KEY(`app_id`, `device_id`, `seq`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `inbox_message` ON `inbox` (`message_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`priority` integer NOT NULL,
	`data` text NOT NULL,
	`collapse_key` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`target_count` integer NOT NULL,
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `messages_app_created` ON `messages` (`app_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`region` text NOT NULL,
	`ws_url` text NOT NULL,
	`tcp_addr` text NOT NULL,
	`ips` text DEFAULT '[]' NOT NULL,
	`capacity` integer NOT NULL,
	`connections` integer DEFAULT 0 NOT NULL,
	`draining` integer DEFAULT false NOT NULL,
	`version` text NOT NULL,
	`weight` integer DEFAULT 100 NOT NULL,
	`started_at` integer NOT NULL,
	`updated_at` integer DEFAULT 0 NOT NULL
);
