-- Create "adherence_logs" table
CREATE TABLE `adherence_logs` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `day` text NOT NULL, `adherent` bool NOT NULL, `note` text NOT NULL DEFAULT (''), `intervention_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `adherence_logs_interventions_adherence_logs` FOREIGN KEY (`intervention_id`) REFERENCES `interventions` (`id`) ON DELETE CASCADE, CONSTRAINT `adherence_logs_users_adherence_logs` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "adherencelog_user_id" to table: "adherence_logs"
CREATE INDEX `adherencelog_user_id` ON `adherence_logs` (`user_id`);
-- Create index "adherencelog_intervention_id_day" to table: "adherence_logs"
CREATE UNIQUE INDEX `adherencelog_intervention_id_day` ON `adherence_logs` (`intervention_id`, `day`);
-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` text NOT NULL, `created_at` datetime NOT NULL, `seq` integer NOT NULL, `entity_type` text NOT NULL, `entity_id` text NOT NULL, `action` text NOT NULL, `decision` text NOT NULL DEFAULT (''), `reason` text NOT NULL DEFAULT (''), `details` json NULL, `actor` text NOT NULL, `request_id` text NOT NULL DEFAULT (''), `prev_hash` text NOT NULL DEFAULT (''), `hash` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `audit_events_users_audit_events` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "auditevent_user_id" to table: "audit_events"
CREATE INDEX `auditevent_user_id` ON `audit_events` (`user_id`);
-- Create index "auditevent_user_id_seq" to table: "audit_events"
CREATE UNIQUE INDEX `auditevent_user_id_seq` ON `audit_events` (`user_id`, `seq`);
-- Create index "auditevent_user_id_entity_id" to table: "audit_events"
CREATE INDEX `auditevent_user_id_entity_id` ON `audit_events` (`user_id`, `entity_id`);
-- Create "baselines" table
CREATE TABLE `baselines` (`id` text NOT NULL, `created_at` datetime NOT NULL, `metric` text NOT NULL, `as_of_day` text NOT NULL, `state` text NOT NULL, `median` real NULL, `mad` real NULL, `band_low` real NULL, `band_high` real NULL, `ewma` real NULL, `valid_days` integer NOT NULL, `valid_days_last_28` integer NOT NULL, `window_from` text NULL, `window_to` text NULL, `frozen_since` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `baselines_users_baselines` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "baseline_user_id" to table: "baselines"
CREATE INDEX `baseline_user_id` ON `baselines` (`user_id`);
-- Create index "baseline_user_id_metric_as_of_day" to table: "baselines"
CREATE UNIQUE INDEX `baseline_user_id_metric_as_of_day` ON `baselines` (`user_id`, `metric`, `as_of_day`);
-- Create "evaluations" table
CREATE TABLE `evaluations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `metric` text NOT NULL, `baseline_from` text NOT NULL, `baseline_to` text NOT NULL, `intervention_from` text NOT NULL, `intervention_to` text NOT NULL, `baseline_coverage` real NOT NULL, `adherence` real NOT NULL, `effect` real NULL, `effect_itt` real NULL, `ci_low` real NULL, `ci_high` real NULL, `hedges_g` real NULL, `mde` real NULL, `reliable` bool NOT NULL, `reasons` json NULL, `caveats` json NULL, `evidence_grade` text NOT NULL, `confidence` real NOT NULL, `sample_size` integer NOT NULL, `coverage` real NOT NULL, `why` text NOT NULL DEFAULT (''), `how_confident` text NOT NULL DEFAULT (''), `what_would_change` text NOT NULL DEFAULT (''), `details` json NULL, `intervention_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `evaluations_interventions_evaluations` FOREIGN KEY (`intervention_id`) REFERENCES `interventions` (`id`) ON DELETE CASCADE, CONSTRAINT `evaluations_users_evaluations` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "evaluation_user_id" to table: "evaluations"
CREATE INDEX `evaluation_user_id` ON `evaluations` (`user_id`);
-- Create index "evaluation_user_id_created_at" to table: "evaluations"
CREATE INDEX `evaluation_user_id_created_at` ON `evaluations` (`user_id`, `created_at`);
-- Create index "evaluation_intervention_id" to table: "evaluations"
CREATE INDEX `evaluation_intervention_id` ON `evaluations` (`intervention_id`);
-- Create "feed_events" table
CREATE TABLE `feed_events` (`id` text NOT NULL, `created_at` datetime NOT NULL, `seq` integer NOT NULL, `kind` text NOT NULL, `entity_id` text NOT NULL, `payload` json NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `feed_events_users_feed_events` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "feedevent_user_id" to table: "feed_events"
CREATE INDEX `feedevent_user_id` ON `feed_events` (`user_id`);
-- Create index "feedevent_user_id_seq" to table: "feed_events"
CREATE UNIQUE INDEX `feedevent_user_id_seq` ON `feed_events` (`user_id`, `seq`);
-- Create index "feedevent_created_at" to table: "feed_events"
CREATE INDEX `feedevent_created_at` ON `feed_events` (`created_at`);
-- Create "ingestion_batches" table
CREATE TABLE `ingestion_batches` (`id` text NOT NULL, `created_at` datetime NOT NULL, `idempotency_key` text NULL, `content_hash` text NOT NULL, `received` integer NOT NULL, `inserted` integer NOT NULL, `duplicates` integer NOT NULL, `missing` integer NOT NULL DEFAULT (0), `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `ingestion_batches_users_ingestion_batches` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "ingestionbatch_user_id" to table: "ingestion_batches"
CREATE INDEX `ingestionbatch_user_id` ON `ingestion_batches` (`user_id`);
-- Create index "ingestionbatch_user_id_idempotency_key" to table: "ingestion_batches"
CREATE UNIQUE INDEX `ingestionbatch_user_id_idempotency_key` ON `ingestion_batches` (`user_id`, `idempotency_key`);
-- Create "insights" table
CREATE TABLE `insights` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `metric` text NOT NULL, `kind` text NOT NULL, `status` text NOT NULL DEFAULT ('ACTIVE'), `title` text NOT NULL, `summary` text NOT NULL DEFAULT (''), `direction` text NOT NULL DEFAULT ('none'), `start_day` text NOT NULL, `end_day` text NOT NULL, `dedupe_key` text NOT NULL, `evidence_grade` text NOT NULL, `confidence` real NOT NULL, `sample_size` integer NOT NULL, `coverage` real NOT NULL, `why` text NOT NULL DEFAULT (''), `how_confident` text NOT NULL DEFAULT (''), `what_would_change` text NOT NULL DEFAULT (''), `details` json NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `insights_users_insights` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "insight_user_id" to table: "insights"
CREATE INDEX `insight_user_id` ON `insights` (`user_id`);
-- Create index "insight_user_id_dedupe_key" to table: "insights"
CREATE UNIQUE INDEX `insight_user_id_dedupe_key` ON `insights` (`user_id`, `dedupe_key`);
-- Create index "insight_user_id_metric_start_day" to table: "insights"
CREATE INDEX `insight_user_id_metric_start_day` ON `insights` (`user_id`, `metric`, `start_day`);
-- Create index "insight_user_id_created_at" to table: "insights"
CREATE INDEX `insight_user_id_created_at` ON `insights` (`user_id`, `created_at`);
-- Create "interventions" table
CREATE TABLE `interventions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `title` text NOT NULL, `protocol_kind` text NOT NULL, `target_metric` text NOT NULL, `expected_direction` text NOT NULL, `planned_days` integer NOT NULL, `lag_days` integer NOT NULL, `status` text NOT NULL, `status_reason` text NOT NULL DEFAULT (''), `start_day` text NULL, `end_day` text NULL, `risk_level` text NOT NULL, `evidence_grade` text NOT NULL, `safety_boundary` text NOT NULL, `requires_review` bool NOT NULL DEFAULT (false), `safety_checks` json NULL, `mde` real NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `interventions_users_interventions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "intervention_user_id" to table: "interventions"
CREATE INDEX `intervention_user_id` ON `interventions` (`user_id`);
-- Create index "intervention_user_id_target_metric_status" to table: "interventions"
CREATE INDEX `intervention_user_id_target_metric_status` ON `interventions` (`user_id`, `target_metric`, `status`);
-- Create "narratives" table
CREATE TABLE `narratives` (`id` text NOT NULL, `created_at` datetime NOT NULL, `subject_type` text NOT NULL, `subject_id` text NOT NULL, `text` text NOT NULL, `source` text NOT NULL, `evidence_grade` text NOT NULL, `safety_text` text NOT NULL DEFAULT (''), `replaced` bool NOT NULL DEFAULT (false), `replace_reason` text NOT NULL DEFAULT (''), `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `narratives_users_narratives` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "narrative_user_id" to table: "narratives"
CREATE INDEX `narrative_user_id` ON `narratives` (`user_id`);
-- Create index "narrative_user_id_subject_id" to table: "narratives"
CREATE INDEX `narrative_user_id_subject_id` ON `narratives` (`user_id`, `subject_id`);
-- Create index "narrative_user_id_created_at" to table: "narratives"
CREATE INDEX `narrative_user_id_created_at` ON `narratives` (`user_id`, `created_at`);
-- Create "observations" table
CREATE TABLE `observations` (`id` text NOT NULL, `created_at` datetime NOT NULL, `metric` text NOT NULL, `value` real NULL, `missing` bool NOT NULL DEFAULT (false), `unit` text NOT NULL, `local_day` text NOT NULL, `observed_at` datetime NOT NULL, `utc_offset_seconds` integer NOT NULL DEFAULT (0), `source` text NOT NULL, `flags` json NULL, `batch_id` text NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `observations_ingestion_batches_observations` FOREIGN KEY (`batch_id`) REFERENCES `ingestion_batches` (`id`) ON DELETE SET NULL, CONSTRAINT `observations_users_observations` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "observation_user_id" to table: "observations"
CREATE INDEX `observation_user_id` ON `observations` (`user_id`);
-- Create index "observation_user_id_metric_source_local_day_observed_at" to table: "observations"
CREATE UNIQUE INDEX `observation_user_id_metric_source_local_day_observed_at` ON `observations` (`user_id`, `metric`, `source`, `local_day`, `observed_at`);
-- Create index "observation_user_id_metric_local_day" to table: "observations"
CREATE INDEX `observation_user_id_metric_local_day` ON `observations` (`user_id`, `metric`, `local_day`);
-- Create index "observation_user_id_local_day" to table: "observations"
CREATE INDEX `observation_user_id_local_day` ON `observations` (`user_id`, `local_day`);
-- Create "provider_connections" table
CREATE TABLE `provider_connections` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `provider` text NOT NULL, `status` text NOT NULL DEFAULT ('CONNECTED'), `external_user_id` text NULL, `connected_at` datetime NULL, `disconnected_at` datetime NULL, `last_sync_at` datetime NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `provider_connections_users_connections` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "providerconnection_user_id" to table: "provider_connections"
CREATE INDEX `providerconnection_user_id` ON `provider_connections` (`user_id`);
-- Create index "providerconnection_user_id_provider" to table: "provider_connections"
CREATE UNIQUE INDEX `providerconnection_user_id_provider` ON `provider_connections` (`user_id`, `provider`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NULL, `display_name` text NOT NULL DEFAULT (''), `role` text NOT NULL DEFAULT ('USER'), `timezone` text NOT NULL DEFAULT ('UTC'), `safety_flags` json NULL, `feed_seq` integer NOT NULL DEFAULT (0), `audit_seq` integer NOT NULL DEFAULT (0), `audit_head` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
