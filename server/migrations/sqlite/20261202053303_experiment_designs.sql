-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_evaluations" table
CREATE TABLE `new_evaluations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `metric` text NOT NULL, `baseline_from` text NOT NULL, `baseline_to` text NOT NULL, `intervention_from` text NOT NULL, `intervention_to` text NOT NULL, `baseline_coverage` real NOT NULL, `adherence` real NOT NULL, `effect` real NULL, `effect_itt` real NULL, `ci_low` real NULL, `ci_high` real NULL, `hedges_g` real NULL, `mde` real NULL, `reliable` bool NOT NULL, `reasons` json NULL, `caveats` json NULL, `claim` text NOT NULL DEFAULT ('CANT_TELL'), `direction_supported` bool NOT NULL DEFAULT (false), `interim` bool NOT NULL DEFAULT (false), `effect_percent` real NULL, `ci_low_percent` real NULL, `ci_high_percent` real NULL, `evidence_grade` text NOT NULL, `confidence` real NOT NULL, `sample_size` integer NOT NULL, `coverage` real NOT NULL, `why` text NOT NULL DEFAULT (''), `how_confident` text NOT NULL DEFAULT (''), `what_would_change` text NOT NULL DEFAULT (''), `details` json NULL, `intervention_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `evaluations_interventions_evaluations` FOREIGN KEY (`intervention_id`) REFERENCES `interventions` (`id`) ON DELETE CASCADE, CONSTRAINT `evaluations_users_evaluations` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Copy rows from old table "evaluations" to new temporary table "new_evaluations"
INSERT INTO `new_evaluations` (`id`, `created_at`, `metric`, `baseline_from`, `baseline_to`, `intervention_from`, `intervention_to`, `baseline_coverage`, `adherence`, `effect`, `effect_itt`, `ci_low`, `ci_high`, `hedges_g`, `mde`, `reliable`, `reasons`, `caveats`, `evidence_grade`, `confidence`, `sample_size`, `coverage`, `why`, `how_confident`, `what_would_change`, `details`, `intervention_id`, `user_id`) SELECT `id`, `created_at`, `metric`, `baseline_from`, `baseline_to`, `intervention_from`, `intervention_to`, `baseline_coverage`, `adherence`, `effect`, `effect_itt`, `ci_low`, `ci_high`, `hedges_g`, `mde`, `reliable`, `reasons`, `caveats`, `evidence_grade`, `confidence`, `sample_size`, `coverage`, `why`, `how_confident`, `what_would_change`, `details`, `intervention_id`, `user_id` FROM `evaluations`;
-- Drop "evaluations" table after copying rows
DROP TABLE `evaluations`;
-- Rename temporary table "new_evaluations" to "evaluations"
ALTER TABLE `new_evaluations` RENAME TO `evaluations`;
-- Create index "evaluation_user_id" to table: "evaluations"
CREATE INDEX `evaluation_user_id` ON `evaluations` (`user_id`);
-- Create index "evaluation_user_id_created_at" to table: "evaluations"
CREATE INDEX `evaluation_user_id_created_at` ON `evaluations` (`user_id`, `created_at`);
-- Create index "evaluation_intervention_id" to table: "evaluations"
CREATE INDEX `evaluation_intervention_id` ON `evaluations` (`intervention_id`);
-- Create "new_interventions" table
CREATE TABLE `new_interventions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `protocol_kind` text NOT NULL, `target_metric` text NOT NULL, `expected_direction` text NOT NULL, `planned_days` integer NOT NULL, `lag_days` integer NOT NULL, `status` text NOT NULL, `status_reason` text NOT NULL DEFAULT (''), `start_day` text NULL, `end_day` text NULL, `risk_level` text NOT NULL, `evidence_grade` text NOT NULL, `safety_boundary` text NOT NULL, `requires_review` bool NOT NULL DEFAULT (false), `safety_checks` json NULL, `mde` real NULL, `design` text NOT NULL DEFAULT ('BASELINE_AB'), `cycles` integer NULL, `block_days` integer NULL, `crossover_seed` integer NULL, `crossover_order` json NULL, `retrospective` bool NOT NULL DEFAULT (false), `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `interventions_users_interventions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Copy rows from old table "interventions" to new temporary table "new_interventions"
INSERT INTO `new_interventions` (`id`, `created_at`, `updated_at`, `title`, `protocol_kind`, `target_metric`, `expected_direction`, `planned_days`, `lag_days`, `status`, `status_reason`, `start_day`, `end_day`, `risk_level`, `evidence_grade`, `safety_boundary`, `requires_review`, `safety_checks`, `mde`, `user_id`) SELECT `id`, `created_at`, `updated_at`, `title`, `protocol_kind`, `target_metric`, `expected_direction`, `planned_days`, `lag_days`, `status`, `status_reason`, `start_day`, `end_day`, `risk_level`, `evidence_grade`, `safety_boundary`, `requires_review`, `safety_checks`, `mde`, `user_id` FROM `interventions`;
-- Drop "interventions" table after copying rows
DROP TABLE `interventions`;
-- Rename temporary table "new_interventions" to "interventions"
ALTER TABLE `new_interventions` RENAME TO `interventions`;
-- Create index "intervention_user_id" to table: "interventions"
CREATE INDEX `intervention_user_id` ON `interventions` (`user_id`);
-- Create index "intervention_user_id_target_metric_status" to table: "interventions"
CREATE INDEX `intervention_user_id_target_metric_status` ON `interventions` (`user_id`, `target_metric`, `status`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
