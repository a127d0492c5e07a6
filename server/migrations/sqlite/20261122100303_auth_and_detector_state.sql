-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_baselines" table
CREATE TABLE `new_baselines` (`id` text NOT NULL, `created_at` datetime NOT NULL, `metric` text NOT NULL, `as_of_day` text NOT NULL, `state` text NOT NULL, `median` real NULL, `mad` real NULL, `band_low` real NULL, `band_high` real NULL, `ewma` real NULL, `valid_days` integer NOT NULL, `valid_days_last_28` integer NOT NULL, `window_from` text NULL, `window_to` text NULL, `detector_state` text NOT NULL DEFAULT ('OK'), `state_reason` text NOT NULL DEFAULT (''), `frozen_since` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `baselines_users_baselines` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Copy rows from old table "baselines" to new temporary table "new_baselines"
INSERT INTO `new_baselines` (`id`, `created_at`, `metric`, `as_of_day`, `state`, `median`, `mad`, `band_low`, `band_high`, `ewma`, `valid_days`, `valid_days_last_28`, `window_from`, `window_to`, `frozen_since`, `user_id`) SELECT `id`, `created_at`, `metric`, `as_of_day`, `state`, `median`, `mad`, `band_low`, `band_high`, `ewma`, `valid_days`, `valid_days_last_28`, `window_from`, `window_to`, `frozen_since`, `user_id` FROM `baselines`;
-- Drop "baselines" table after copying rows
DROP TABLE `baselines`;
-- Rename temporary table "new_baselines" to "baselines"
ALTER TABLE `new_baselines` RENAME TO `baselines`;
-- Create index "baseline_user_id" to table: "baselines"
CREATE INDEX `baseline_user_id` ON `baselines` (`user_id`);
-- Create index "baseline_user_id_metric_as_of_day" to table: "baselines"
CREATE UNIQUE INDEX `baseline_user_id_metric_as_of_day` ON `baselines` (`user_id`, `metric`, `as_of_day`);
-- Add column "password_hash" to table: "users"
ALTER TABLE `users` ADD COLUMN `password_hash` text NULL;
-- Create "refresh_tokens" table
CREATE TABLE `refresh_tokens` (`id` text NOT NULL, `created_at` datetime NOT NULL, `family_id` text NOT NULL, `token_hash` text NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `revoked_at` datetime NULL, `revoked_reason` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `refresh_tokens_users_refresh_tokens` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "refreshtoken_user_id" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_user_id` ON `refresh_tokens` (`user_id`);
-- Create index "refreshtoken_token_hash" to table: "refresh_tokens"
CREATE UNIQUE INDEX `refreshtoken_token_hash` ON `refresh_tokens` (`token_hash`);
-- Create index "refreshtoken_family_id" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_family_id` ON `refresh_tokens` (`family_id`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
