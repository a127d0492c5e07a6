-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "loop_watermark" character varying NOT NULL DEFAULT '';
-- Create "health_imports" table
CREATE TABLE "health_imports" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "format" character varying NOT NULL, "file_name" character varying NOT NULL, "size_bytes" bigint NOT NULL, "spool_path" character varying NULL, "csv_mapping" character varying NULL, "status" character varying NOT NULL DEFAULT 'QUEUED', "records_read" bigint NOT NULL DEFAULT 0, "samples" bigint NOT NULL DEFAULT 0, "stored" bigint NOT NULL DEFAULT 0, "already_stored" bigint NOT NULL DEFAULT 0, "rejected" bigint NOT NULL DEFAULT 0, "skipped_records" bigint NOT NULL DEFAULT 0, "error_code" character varying NULL, "error_message" character varying NULL, "started_at" timestamptz NULL, "completed_at" timestamptz NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "health_imports_users_health_imports" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "healthimport_status" to table: "health_imports"
CREATE INDEX "healthimport_status" ON "health_imports" ("status");
-- Create index "healthimport_user_id" to table: "health_imports"
CREATE INDEX "healthimport_user_id" ON "health_imports" ("user_id");
