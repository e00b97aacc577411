-- CreateTable
CREATE TABLE "ContactPreference" (
    "key" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "borrowerId" TEXT,
    "optedOut" BOOLEAN NOT NULL,
    "changedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ContactPreference_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "ContactPreference_borrowerId_idx" ON "ContactPreference"("borrowerId");
