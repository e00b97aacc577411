-- DropIndex
DROP INDEX "AuditLog_action_at_idx";

-- CreateTable
CREATE TABLE "JobRun" (
    "job" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "details" TEXT NOT NULL,

    CONSTRAINT "JobRun_pkey" PRIMARY KEY ("job")
);
