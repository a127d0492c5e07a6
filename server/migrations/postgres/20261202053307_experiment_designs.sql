-- Modify "evaluations" table
ALTER TABLE "evaluations" ADD COLUMN "claim" character varying NOT NULL DEFAULT 'CANT_TELL', ADD COLUMN "direction_supported" boolean NOT NULL DEFAULT false, ADD COLUMN "interim" boolean NOT NULL DEFAULT false, ADD COLUMN "effect_percent" double precision NULL, ADD COLUMN "ci_low_percent" double precision NULL, ADD COLUMN "ci_high_percent" double precision NULL;
-- Modify "interventions" table
ALTER TABLE "interventions" ADD COLUMN "design" character varying NOT NULL DEFAULT 'BASELINE_AB', ADD COLUMN "cycles" bigint NULL, ADD COLUMN "block_days" bigint NULL, ADD COLUMN "crossover_seed" bigint NULL, ADD COLUMN "crossover_order" jsonb NULL, ADD COLUMN "retrospective" boolean NOT NULL DEFAULT false;
