-- CreateTable
CREATE TABLE "ContactPreference" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "conversationId" TEXT NOT NULL,
    "borrowerId" TEXT,
    "optedOut" BOOLEAN NOT NULL,
    "changedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "ContactPreference_borrowerId_idx" ON "ContactPreference"("borrowerId");
