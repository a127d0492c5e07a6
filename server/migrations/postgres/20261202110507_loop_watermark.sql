-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "loop_watermark" character varying NOT NULL DEFAULT '';
