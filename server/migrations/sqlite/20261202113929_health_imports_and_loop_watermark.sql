-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_users" table
CREATE TABLE `new_users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NULL, `display_name` text NOT NULL DEFAULT (''), `role` text NOT NULL DEFAULT ('USER'), `password_hash` text NULL, `timezone` text NOT NULL DEFAULT ('UTC'), `safety_flags` json NULL, `feed_seq` integer NOT NULL DEFAULT (0), `audit_seq` integer NOT NULL DEFAULT (0), `audit_head` text NOT NULL DEFAULT (''), `deleted_at` datetime NULL, `loop_watermark` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Copy rows from old table "users" to new temporary table "new_users"
INSERT INTO `new_users` (`id`, `created_at`, `updated_at`, `email`, `display_name`, `role`, `password_hash`, `timezone`, `safety_flags`, `feed_seq`, `audit_seq`, `audit_head`, `deleted_at`) SELECT `id`, `created_at`, `updated_at`, `email`, `display_name`, `role`, `password_hash`, `timezone`, `safety_flags`, `feed_seq`, `audit_seq`, `audit_head`, `deleted_at` FROM `users`;
-- Drop "users" table after copying rows
DROP TABLE `users`;
-- Rename temporary table "new_users" to "users"
ALTER TABLE `new_users` RENAME TO `users`;
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
-- Create "health_imports" table
CREATE TABLE `health_imports` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `format` text NOT NULL, `file_name` text NOT NULL, `size_bytes` integer NOT NULL, `spool_path` text NULL, `csv_mapping` text NULL, `status` text NOT NULL DEFAULT ('QUEUED'), `records_read` integer NOT NULL DEFAULT (0), `samples` integer NOT NULL DEFAULT (0), `stored` integer NOT NULL DEFAULT (0), `already_stored` integer NOT NULL DEFAULT (0), `rejected` integer NOT NULL DEFAULT (0), `skipped_records` integer NOT NULL DEFAULT (0), `error_code` text NULL, `error_message` text NULL, `started_at` datetime NULL, `completed_at` datetime NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `health_imports_users_health_imports` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "healthimport_user_id" to table: "health_imports"
CREATE INDEX `healthimport_user_id` ON `health_imports` (`user_id`);
-- Create index "healthimport_status" to table: "health_imports"
CREATE INDEX `healthimport_status` ON `health_imports` (`status`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
