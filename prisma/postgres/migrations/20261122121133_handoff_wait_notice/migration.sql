-- AlterTable
ALTER TABLE "Handoff" ADD COLUMN     "waitNoticeAt" TIMESTAMP(3);
