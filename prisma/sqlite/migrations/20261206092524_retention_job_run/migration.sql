-- DropIndex
DROP INDEX "AuditLog_action_at_idx";

-- CreateTable
CREATE TABLE "JobRun" (
    "job" TEXT NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL,
    "details" TEXT NOT NULL
);
