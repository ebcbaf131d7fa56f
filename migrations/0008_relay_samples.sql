CREATE TABLE `relay_samples` (
	`node_id` text NOT NULL,
	`region` text NOT NULL,
	`at` integer NOT NULL,
	`pushed` integer NOT NULL,
	`delivered` integer NOT NULL,
	`p50_ms` integer,
	`p99_ms` integer,
	PRIMARY KEY(`node_id`, `at`)
);
--> statement-breakpoint
CREATE INDEX `relay_samples_at` ON `relay_samples` (`at`);