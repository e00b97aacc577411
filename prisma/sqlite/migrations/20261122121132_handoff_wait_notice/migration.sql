-- AlterTable
ALTER TABLE "Handoff" ADD COLUMN "waitNoticeAt" DATETIME;
