CREATE TABLE `templates` (
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`default_locale` text NOT NULL,
	`locales` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `name`),
	FOREIGN KEY (`app_id`) REFERENCES `apps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `devices` ADD `locale` text;