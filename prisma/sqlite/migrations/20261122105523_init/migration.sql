-- CreateTable
CREATE TABLE "Borrower" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "idLast4Digest" TEXT NOT NULL,
    "birthDateDigest" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Loan" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "borrowerId" TEXT NOT NULL,
    "product" TEXT NOT NULL,
    "annualRate" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Loan_borrowerId_fkey" FOREIGN KEY ("borrowerId") REFERENCES "Borrower" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Installment" (
    "loanId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "dueDate" TEXT NOT NULL,
    "principalDueFen" INTEGER NOT NULL,
    "interestDueFen" INTEGER NOT NULL,
    "principalPaidFen" INTEGER NOT NULL,
    "interestPaidFen" INTEGER NOT NULL,

    PRIMARY KEY ("loanId", "number"),
    CONSTRAINT "Installment_loanId_fkey" FOREIGN KEY ("loanId") REFERENCES "Loan" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Conversation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "channelId" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "snapshot" TEXT NOT NULL,
    "flowVersion" TEXT NOT NULL,
    "borrowerId" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "lastActivityAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Message" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "conversationId" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "activityId" TEXT,
    "text" TEXT NOT NULL,
    "activity" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL,
    CONSTRAINT "Message_conversationId_fkey" FOREIGN KEY ("conversationId") REFERENCES "Conversation" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "borrowerId" TEXT,
    "conversationId" TEXT,
    "details" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "IdentityAttempt" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "key" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "success" BOOLEAN NOT NULL
);

-- CreateTable
CREATE TABLE "IdentityLock" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "until" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Borrower_phone_key" ON "Borrower"("phone");

-- CreateIndex
CREATE INDEX "Loan_borrowerId_idx" ON "Loan"("borrowerId");

-- CreateIndex
CREATE INDEX "Conversation_borrowerId_idx" ON "Conversation"("borrowerId");

-- CreateIndex
CREATE INDEX "Message_conversationId_id_idx" ON "Message"("conversationId", "id");

-- CreateIndex
CREATE INDEX "AuditLog_borrowerId_at_idx" ON "AuditLog"("borrowerId", "at");

-- CreateIndex
CREATE INDEX "AuditLog_conversationId_at_idx" ON "AuditLog"("conversationId", "at");

-- CreateIndex
CREATE INDEX "IdentityAttempt_key_at_idx" ON "IdentityAttempt"("key", "at");
