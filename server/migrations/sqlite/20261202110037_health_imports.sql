-- Create "health_imports" table
CREATE TABLE `health_imports` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `format` text NOT NULL, `file_name` text NOT NULL, `size_bytes` integer NOT NULL, `spool_path` text NULL, `csv_mapping` text NULL, `status` text NOT NULL DEFAULT ('QUEUED'), `records_read` integer NOT NULL DEFAULT (0), `samples` integer NOT NULL DEFAULT (0), `stored` integer NOT NULL DEFAULT (0), `already_stored` integer NOT NULL DEFAULT (0), `rejected` integer NOT NULL DEFAULT (0), `skipped_records` integer NOT NULL DEFAULT (0), `error_code` text NULL, `error_message` text NULL, `started_at` datetime NULL, `completed_at` datetime NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `health_imports_users_health_imports` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "healthimport_user_id" to table: "health_imports"
CREATE INDEX `healthimport_user_id` ON `health_imports` (`user_id`);
-- Create index "healthimport_status" to table: "health_imports"
CREATE INDEX `healthimport_status` ON `health_imports` (`status`);
