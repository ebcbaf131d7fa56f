CREATE TABLE `device_homes` (
	`app_id` text NOT NULL,
	`device_id` text NOT NULL,
	`home` text NOT NULL,
	`user_id` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `device_id`)
);
--> statement-breakpoint
CREATE INDEX `device_homes_user` ON `device_homes` (`app_id`,`user_id`);