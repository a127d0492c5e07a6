-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NULL, "display_name" character varying NOT NULL DEFAULT '', "role" character varying NOT NULL DEFAULT 'USER', "timezone" character varying NOT NULL DEFAULT 'UTC', "safety_flags" jsonb NULL, "feed_seq" bigint NOT NULL DEFAULT 0, "audit_seq" bigint NOT NULL DEFAULT 0, "audit_head" character varying NOT NULL DEFAULT '', PRIMARY KEY ("id"));
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
-- Create "interventions" table
CREATE TABLE "interventions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "title" character varying NOT NULL, "protocol_kind" character varying NOT NULL, "target_metric" character varying NOT NULL, "expected_direction" character varying NOT NULL, "planned_days" bigint NOT NULL, "lag_days" bigint NOT NULL, "status" character varying NOT NULL, "status_reason" text NOT NULL DEFAULT '', "start_day" character varying NULL, "end_day" character varying NULL, "risk_level" character varying NOT NULL, "evidence_grade" character varying NOT NULL, "safety_boundary" text NOT NULL, "requires_review" boolean NOT NULL DEFAULT false, "safety_checks" jsonb NULL, "mde" double precision NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "interventions_users_interventions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "intervention_user_id" to table: "interventions"
CREATE INDEX "intervention_user_id" ON "interventions" ("user_id");
-- Create index "intervention_user_id_target_metric_status" to table: "interventions"
CREATE INDEX "intervention_user_id_target_metric_status" ON "interventions" ("user_id", "target_metric", "status");
-- Create "adherence_logs" table
CREATE TABLE "adherence_logs" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "day" character varying NOT NULL, "adherent" boolean NOT NULL, "note" character varying NOT NULL DEFAULT '', "intervention_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "adherence_logs_interventions_adherence_logs" FOREIGN KEY ("intervention_id") REFERENCES "interventions" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "adherence_logs_users_adherence_logs" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "adherencelog_intervention_id_day" to table: "adherence_logs"
CREATE UNIQUE INDEX "adherencelog_intervention_id_day" ON "adherence_logs" ("intervention_id", "day");
-- Create index "adherencelog_user_id" to table: "adherence_logs"
CREATE INDEX "adherencelog_user_id" ON "adherence_logs" ("user_id");
-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "seq" bigint NOT NULL, "entity_type" character varying NOT NULL, "entity_id" character varying NOT NULL, "action" character varying NOT NULL, "decision" character varying NOT NULL DEFAULT '', "reason" text NOT NULL DEFAULT '', "details" jsonb NULL, "actor" character varying NOT NULL, "request_id" character varying NOT NULL DEFAULT '', "prev_hash" character varying NOT NULL DEFAULT '', "hash" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "audit_events_users_audit_events" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "auditevent_user_id" to table: "audit_events"
CREATE INDEX "auditevent_user_id" ON "audit_events" ("user_id");
-- Create index "auditevent_user_id_entity_id" to table: "audit_events"
CREATE INDEX "auditevent_user_id_entity_id" ON "audit_events" ("user_id", "entity_id");
-- Create index "auditevent_user_id_seq" to table: "audit_events"
CREATE UNIQUE INDEX "auditevent_user_id_seq" ON "audit_events" ("user_id", "seq");
-- Create "baselines" table
CREATE TABLE "baselines" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "metric" character varying NOT NULL, "as_of_day" character varying NOT NULL, "state" character varying NOT NULL, "median" double precision NULL, "mad" double precision NULL, "band_low" double precision NULL, "band_high" double precision NULL, "ewma" double precision NULL, "valid_days" bigint NOT NULL, "valid_days_last_28" bigint NOT NULL, "window_from" character varying NULL, "window_to" character varying NULL, "frozen_since" character varying NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "baselines_users_baselines" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "baseline_user_id" to table: "baselines"
CREATE INDEX "baseline_user_id" ON "baselines" ("user_id");
-- Create index "baseline_user_id_metric_as_of_day" to table: "baselines"
CREATE UNIQUE INDEX "baseline_user_id_metric_as_of_day" ON "baselines" ("user_id", "metric", "as_of_day");
-- Create "evaluations" table
CREATE TABLE "evaluations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "metric" character varying NOT NULL, "baseline_from" character varying NOT NULL, "baseline_to" character varying NOT NULL, "intervention_from" character varying NOT NULL, "intervention_to" character varying NOT NULL, "baseline_coverage" double precision NOT NULL, "adherence" double precision NOT NULL, "effect" double precision NULL, "effect_itt" double precision NULL, "ci_low" double precision NULL, "ci_high" double precision NULL, "hedges_g" double precision NULL, "mde" double precision NULL, "reliable" boolean NOT NULL, "reasons" jsonb NULL, "caveats" jsonb NULL, "evidence_grade" character varying NOT NULL, "confidence" double precision NOT NULL, "sample_size" bigint NOT NULL, "coverage" double precision NOT NULL, "why" text NOT NULL DEFAULT '', "how_confident" text NOT NULL DEFAULT '', "what_would_change" text NOT NULL DEFAULT '', "details" jsonb NULL, "intervention_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "evaluations_interventions_evaluations" FOREIGN KEY ("intervention_id") REFERENCES "interventions" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "evaluations_users_evaluations" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "evaluation_intervention_id" to table: "evaluations"
CREATE INDEX "evaluation_intervention_id" ON "evaluations" ("intervention_id");
-- Create index "evaluation_user_id" to table: "evaluations"
CREATE INDEX "evaluation_user_id" ON "evaluations" ("user_id");
-- Create index "evaluation_user_id_created_at" to table: "evaluations"
CREATE INDEX "evaluation_user_id_created_at" ON "evaluations" ("user_id", "created_at");
-- Create "feed_events" table
CREATE TABLE "feed_events" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "seq" bigint NOT NULL, "kind" character varying NOT NULL, "entity_id" character varying NOT NULL, "payload" jsonb NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "feed_events_users_feed_events" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "feedevent_created_at" to table: "feed_events"
CREATE INDEX "feedevent_created_at" ON "feed_events" ("created_at");
-- Create index "feedevent_user_id" to table: "feed_events"
CREATE INDEX "feedevent_user_id" ON "feed_events" ("user_id");
-- Create index "feedevent_user_id_seq" to table: "feed_events"
CREATE UNIQUE INDEX "feedevent_user_id_seq" ON "feed_events" ("user_id", "seq");
-- Create "ingestion_batches" table
CREATE TABLE "ingestion_batches" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "idempotency_key" character varying NULL, "content_hash" character varying NOT NULL, "received" bigint NOT NULL, "inserted" bigint NOT NULL, "duplicates" bigint NOT NULL, "missing" bigint NOT NULL DEFAULT 0, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "ingestion_batches_users_ingestion_batches" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "ingestionbatch_user_id" to table: "ingestion_batches"
CREATE INDEX "ingestionbatch_user_id" ON "ingestion_batches" ("user_id");
-- Create index "ingestionbatch_user_id_idempotency_key" to table: "ingestion_batches"
CREATE UNIQUE INDEX "ingestionbatch_user_id_idempotency_key" ON "ingestion_batches" ("user_id", "idempotency_key");
-- Create "insights" table
CREATE TABLE "insights" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "metric" character varying NOT NULL, "kind" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'ACTIVE', "title" character varying NOT NULL, "summary" text NOT NULL DEFAULT '', "direction" character varying NOT NULL DEFAULT 'none', "start_day" character varying NOT NULL, "end_day" character varying NOT NULL, "dedupe_key" character varying NOT NULL, "evidence_grade" character varying NOT NULL, "confidence" double precision NOT NULL, "sample_size" bigint NOT NULL, "coverage" double precision NOT NULL, "why" text NOT NULL DEFAULT '', "how_confident" text NOT NULL DEFAULT '', "what_would_change" text NOT NULL DEFAULT '', "details" jsonb NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "insights_users_insights" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "insight_user_id" to table: "insights"
CREATE INDEX "insight_user_id" ON "insights" ("user_id");
-- Create index "insight_user_id_created_at" to table: "insights"
CREATE INDEX "insight_user_id_created_at" ON "insights" ("user_id", "created_at");
-- Create index "insight_user_id_dedupe_key" to table: "insights"
CREATE UNIQUE INDEX "insight_user_id_dedupe_key" ON "insights" ("user_id", "dedupe_key");
-- Create index "insight_user_id_metric_start_day" to table: "insights"
CREATE INDEX "insight_user_id_metric_start_day" ON "insights" ("user_id", "metric", "start_day");
-- Create "narratives" table
CREATE TABLE "narratives" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "subject_type" character varying NOT NULL, "subject_id" character varying NOT NULL, "text" text NOT NULL, "source" character varying NOT NULL, "evidence_grade" character varying NOT NULL, "safety_text" text NOT NULL DEFAULT '', "replaced" boolean NOT NULL DEFAULT false, "replace_reason" character varying NOT NULL DEFAULT '', "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "narratives_users_narratives" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "narrative_user_id" to table: "narratives"
CREATE INDEX "narrative_user_id" ON "narratives" ("user_id");
-- Create index "narrative_user_id_created_at" to table: "narratives"
CREATE INDEX "narrative_user_id_created_at" ON "narratives" ("user_id", "created_at");
-- Create index "narrative_user_id_subject_id" to table: "narratives"
CREATE INDEX "narrative_user_id_subject_id" ON "narratives" ("user_id", "subject_id");
-- Create "observations" table
CREATE TABLE "observations" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "metric" character varying NOT NULL, "value" double precision NULL, "missing" boolean NOT NULL DEFAULT false, "unit" character varying NOT NULL, "local_day" character varying NOT NULL, "observed_at" timestamptz NOT NULL, "utc_offset_seconds" bigint NOT NULL DEFAULT 0, "source" character varying NOT NULL, "flags" jsonb NULL, "batch_id" character varying NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "observations_ingestion_batches_observations" FOREIGN KEY ("batch_id") REFERENCES "ingestion_batches" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, CONSTRAINT "observations_users_observations" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "observation_user_id" to table: "observations"
CREATE INDEX "observation_user_id" ON "observations" ("user_id");
-- Create index "observation_user_id_local_day" to table: "observations"
CREATE INDEX "observation_user_id_local_day" ON "observations" ("user_id", "local_day");
-- Create index "observation_user_id_metric_local_day" to table: "observations"
CREATE INDEX "observation_user_id_metric_local_day" ON "observations" ("user_id", "metric", "local_day");
-- Create index "observation_user_id_metric_source_local_day_observed_at" to table: "observations"
CREATE UNIQUE INDEX "observation_user_id_metric_source_local_day_observed_at" ON "observations" ("user_id", "metric", "source", "local_day", "observed_at");
-- Create "provider_connections" table
CREATE TABLE "provider_connections" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "provider" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'CONNECTED', "external_user_id" character varying NULL, "connected_at" timestamptz NULL, "disconnected_at" timestamptz NULL, "last_sync_at" timestamptz NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "provider_connections_users_connections" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "providerconnection_user_id" to table: "provider_connections"
CREATE INDEX "providerconnection_user_id" ON "provider_connections" ("user_id");
-- Create index "providerconnection_user_id_provider" to table: "provider_connections"
CREATE UNIQUE INDEX "providerconnection_user_id_provider" ON "provider_connections" ("user_id", "provider");
