CREATE TABLE `app_cors_origins` (
	`app_id` text NOT NULL,
	`origin` text NOT NULL,
	PRIMARY KEY(`app_id`, `origin`)
);
--> statement-breakpoint
CREATE INDEX `app_cors_origins_origin` ON `app_cors_origins` (`origin`);