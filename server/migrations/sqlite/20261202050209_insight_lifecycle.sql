-- Add column "dismiss_reason" to table: "insights"
ALTER TABLE `insights` ADD COLUMN `dismiss_reason` text NULL;
-- Add column "dismissed_at" to table: "insights"
ALTER TABLE `insights` ADD COLUMN `dismissed_at` datetime NULL;
-- Add column "acknowledged_at" to table: "insights"
ALTER TABLE `insights` ADD COLUMN `acknowledged_at` datetime NULL;
-- Add column "superseded_by" to table: "insights"
ALTER TABLE `insights` ADD COLUMN `superseded_by` text NULL;
