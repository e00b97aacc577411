-- CreateTable
CREATE TABLE "IdentityKey" (
    "name" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "generated" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdentityKey_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "Reminder" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "borrowerId" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "conversationId" TEXT,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "heldUntil" TIMESTAMP(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "sentAt" TIMESTAMP(3),

    CONSTRAINT "Reminder_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DialogsVersion" (
    "id" SERIAL NOT NULL,
    "content" TEXT NOT NULL,
    "comment" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "basedOn" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DialogsVersion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Reminder_borrowerId_sentAt_idx" ON "Reminder"("borrowerId", "sentAt");

-- CreateIndex
CREATE INDEX "Reminder_status_heldUntil_idx" ON "Reminder"("status", "heldUntil");

-- CreateIndex
CREATE INDEX "DialogsVersion_createdAt_idx" ON "DialogsVersion"("createdAt");
