-- CreateTable
CREATE TABLE "ProcessedActivity" (
    "key" TEXT NOT NULL,
    "replies" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ProcessedActivity_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "ProcessedActivity_at_idx" ON "ProcessedActivity"("at");
