CREATE TABLE `app_retention` (
	`app_id` text PRIMARY KEY NOT NULL,
	`settled_seconds` integer,
	`topic_seconds` integer,
	`topic_max_entries` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
