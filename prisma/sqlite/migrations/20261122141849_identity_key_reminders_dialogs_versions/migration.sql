-- CreateTable
CREATE TABLE "IdentityKey" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "fingerprint" TEXT NOT NULL,
    "generated" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Reminder" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "borrowerId" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "conversationId" TEXT,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "heldUntil" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "sentAt" DATETIME
);

-- CreateTable
CREATE TABLE "DialogsVersion" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "content" TEXT NOT NULL,
    "comment" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "basedOn" INTEGER,
    "createdAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "Reminder_borrowerId_sentAt_idx" ON "Reminder"("borrowerId", "sentAt");

-- CreateIndex
CREATE INDEX "Reminder_status_heldUntil_idx" ON "Reminder"("status", "heldUntil");

-- CreateIndex
CREATE INDEX "DialogsVersion_createdAt_idx" ON "DialogsVersion"("createdAt");
