-- CreateTable
CREATE TABLE "ProcessedActivity" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "replies" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "ProcessedActivity_at_idx" ON "ProcessedActivity"("at");
