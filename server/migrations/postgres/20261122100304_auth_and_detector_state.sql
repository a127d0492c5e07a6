-- Modify "baselines" table
ALTER TABLE "baselines" ADD COLUMN "detector_state" character varying NOT NULL DEFAULT 'OK', ADD COLUMN "state_reason" text NOT NULL DEFAULT '';
-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "password_hash" character varying NULL;
-- Create "refresh_tokens" table
CREATE TABLE "refresh_tokens" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "family_id" character varying NOT NULL, "token_hash" character varying NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, "revoked_at" timestamptz NULL, "revoked_reason" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', "user_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "refresh_tokens_users_refresh_tokens" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "refreshtoken_family_id" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_family_id" ON "refresh_tokens" ("family_id");
-- Create index "refreshtoken_token_hash" to table: "refresh_tokens"
CREATE UNIQUE INDEX "refreshtoken_token_hash" ON "refresh_tokens" ("token_hash");
-- Create index "refreshtoken_user_id" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_user_id" ON "refresh_tokens" ("user_id");
