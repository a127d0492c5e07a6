-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_provider_connections" table
CREATE TABLE `new_provider_connections` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `provider` text NOT NULL, `status` text NOT NULL DEFAULT ('CONNECTED'), `external_user_id` text NULL, `connected_at` datetime NULL, `disconnected_at` datetime NULL, `last_sync_at` datetime NULL, `access_token_sealed` text NULL, `refresh_token_sealed` text NULL, `token_expires_at` datetime NULL, `sync_cursor` text NULL, `sync_status` text NOT NULL DEFAULT ('IDLE'), `last_error` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `provider_connections_users_connections` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Copy rows from old table "provider_connections" to new temporary table "new_provider_connections"
INSERT INTO `new_provider_connections` (`id`, `created_at`, `updated_at`, `provider`, `status`, `external_user_id`, `connected_at`, `disconnected_at`, `last_sync_at`, `user_id`) SELECT `id`, `created_at`, `updated_at`, `provider`, `status`, `external_user_id`, `connected_at`, `disconnected_at`, `last_sync_at`, `user_id` FROM `provider_connections`;
-- Drop "provider_connections" table after copying rows
DROP TABLE `provider_connections`;
-- Rename temporary table "new_provider_connections" to "provider_connections"
ALTER TABLE `new_provider_connections` RENAME TO `provider_connections`;
-- Create index "providerconnection_user_id" to table: "provider_connections"
CREATE INDEX `providerconnection_user_id` ON `provider_connections` (`user_id`);
-- Create index "providerconnection_user_id_provider" to table: "provider_connections"
CREATE UNIQUE INDEX `providerconnection_user_id_provider` ON `provider_connections` (`user_id`, `provider`);
-- Create "observation_revisions" table
CREATE TABLE `observation_revisions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `observation_id` text NOT NULL, `revision` integer NOT NULL, `metric` text NOT NULL, `source` text NOT NULL, `local_day` text NOT NULL, `previous_value` real NULL, `previous_missing` bool NOT NULL DEFAULT (false), `value` real NULL, `missing` bool NOT NULL DEFAULT (false), `batch_id` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `observation_revisions_users_observation_revisions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "observationrevision_user_id" to table: "observation_revisions"
CREATE INDEX `observationrevision_user_id` ON `observation_revisions` (`user_id`);
-- Create index "observationrevision_observation_id_revision" to table: "observation_revisions"
CREATE UNIQUE INDEX `observationrevision_observation_id_revision` ON `observation_revisions` (`observation_id`, `revision`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
