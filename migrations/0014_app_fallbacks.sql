CREATE TABLE `app_fallbacks` (
	`app_id` text PRIMARY KEY NOT NULL,
	`after_seconds` integer NOT NULL,
	`channels` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
