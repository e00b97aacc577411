-- CreateTable
CREATE TABLE "StaffAccount" (
    "username" TEXT NOT NULL PRIMARY KEY,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Proof" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "borrowerId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "sha256" TEXT,
    "fileType" TEXT,
    "fileSize" INTEGER,
    "amountFen" INTEGER NOT NULL,
    "paidOn" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "reference" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending_review',
    "reviewReason" TEXT,
    "reviewedBy" TEXT,
    "reviewedAt" DATETIME,
    "outcomeNotifiedAt" DATETIME,
    "createdAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Complaint" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "borrowerId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "desiredOutcome" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'received',
    "resolution" TEXT,
    "dueDate" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "resolvedAt" DATETIME,
    "outcomeNotifiedAt" DATETIME
);

-- CreateTable
CREATE TABLE "ComplaintUpdate" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "complaintId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "note" TEXT,
    "by" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    CONSTRAINT "ComplaintUpdate_complaintId_fkey" FOREIGN KEY ("complaintId") REFERENCES "Complaint" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "Proof_sha256_key" ON "Proof"("sha256");

-- CreateIndex
CREATE INDEX "Proof_borrowerId_createdAt_idx" ON "Proof"("borrowerId", "createdAt");

-- CreateIndex
CREATE INDEX "Proof_status_createdAt_idx" ON "Proof"("status", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Proof_method_reference_key" ON "Proof"("method", "reference");

-- CreateIndex
CREATE INDEX "Complaint_borrowerId_createdAt_idx" ON "Complaint"("borrowerId", "createdAt");

-- CreateIndex
CREATE INDEX "Complaint_status_dueDate_idx" ON "Complaint"("status", "dueDate");

-- CreateIndex
CREATE INDEX "ComplaintUpdate_complaintId_at_idx" ON "ComplaintUpdate"("complaintId", "at");
