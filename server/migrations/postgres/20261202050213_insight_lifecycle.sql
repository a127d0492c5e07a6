-- Modify "insights" table
ALTER TABLE "insights" ADD COLUMN "dismiss_reason" character varying NULL, ADD COLUMN "dismissed_at" timestamptz NULL, ADD COLUMN "acknowledged_at" timestamptz NULL, ADD COLUMN "superseded_by" character varying NULL;
