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
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
