-- CreateTable
CREATE TABLE "Agreement" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "borrowerId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "amountFen" INTEGER NOT NULL,
    "loanIds" TEXT NOT NULL,
    "shown" TEXT NOT NULL,
    "hardshipReason" TEXT,
    "shownAt" DATETIME NOT NULL,
    "confirmedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "PlanPayment" (
    "agreementId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "dueDate" TEXT NOT NULL,
    "amountFen" INTEGER NOT NULL,

    PRIMARY KEY ("agreementId", "number"),
    CONSTRAINT "PlanPayment_agreementId_fkey" FOREIGN KEY ("agreementId") REFERENCES "Agreement" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "HardshipReport" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "borrowerId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Handoff" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "conversationId" TEXT NOT NULL,
    "borrowerId" TEXT,
    "rule" TEXT NOT NULL,
    "priority" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "claimedBy" TEXT,
    "claimedAt" DATETIME,
    "resolvedAt" DATETIME,
    "resolutionNote" TEXT
);

-- CreateIndex
CREATE INDEX "Agreement_borrowerId_confirmedAt_idx" ON "Agreement"("borrowerId", "confirmedAt");

-- CreateIndex
CREATE INDEX "HardshipReport_borrowerId_at_idx" ON "HardshipReport"("borrowerId", "at");

-- CreateIndex
CREATE INDEX "Handoff_status_priority_createdAt_idx" ON "Handoff"("status", "priority", "createdAt");

-- CreateIndex
CREATE INDEX "Handoff_conversationId_idx" ON "Handoff"("conversationId");
