-- Modify "provider_connections" table
ALTER TABLE "provider_connections" ADD COLUMN "access_token_sealed" character varying NULL, ADD COLUMN "refresh_token_sealed" character varying NULL, ADD COLUMN "token_expires_at" timestamptz NULL, ADD COLUMN "sync_cursor" character varying NULL, ADD COLUMN "sync_status" character varying NOT NULL DEFAULT 'IDLE', ADD COLUMN "last_error" character varying NULL;
-- Create "observation_revisions" table
CREATE TABLE "observation_revisions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "observation_id" character varying NOT NULL, "revision" bigint NOT NULL, "metric" character varying NOT NULL, "source" character varying NOT NULL, "local_day" character varying NOT NULL, "previous_value" double precision NULL, "previous_missing" boolean NOT NULL DEFAULT false, "value" double precision NULL, "missing" boolean NOT NULL DEFAULT false, "batch_id" character varying NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "observation_revisions_users_observation_revisions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "observationrevision_observation_id_revision" to table: "observation_revisions"
CREATE UNIQUE INDEX "observationrevision_observation_id_revision" ON "observation_revisions" ("observation_id", "revision");
-- Create index "observationrevision_user_id" to table: "observation_revisions"
CREATE INDEX "observationrevision_user_id" ON "observation_revisions" ("user_id");
