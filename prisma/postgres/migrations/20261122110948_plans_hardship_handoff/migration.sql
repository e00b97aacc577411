-- CreateTable
CREATE TABLE "Agreement" (
    "id" TEXT NOT NULL,
    "borrowerId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "amountFen" INTEGER NOT NULL,
    "loanIds" TEXT NOT NULL,
    "shown" TEXT NOT NULL,
    "hardshipReason" TEXT,
    "shownAt" TIMESTAMP(3) NOT NULL,
    "confirmedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Agreement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PlanPayment" (
    "agreementId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "dueDate" TEXT NOT NULL,
    "amountFen" INTEGER NOT NULL,

    CONSTRAINT "PlanPayment_pkey" PRIMARY KEY ("agreementId","number")
);

-- CreateTable
CREATE TABLE "HardshipReport" (
    "id" SERIAL NOT NULL,
    "borrowerId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "HardshipReport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Handoff" (
    "id" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "borrowerId" TEXT,
    "rule" TEXT NOT NULL,
    "priority" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "claimedBy" TEXT,
    "claimedAt" TIMESTAMP(3),
    "resolvedAt" TIMESTAMP(3),
    "resolutionNote" TEXT,

    CONSTRAINT "Handoff_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Agreement_borrowerId_confirmedAt_idx" ON "Agreement"("borrowerId", "confirmedAt");

-- CreateIndex
CREATE INDEX "HardshipReport_borrowerId_at_idx" ON "HardshipReport"("borrowerId", "at");

-- CreateIndex
CREATE INDEX "Handoff_status_priority_createdAt_idx" ON "Handoff"("status", "priority", "createdAt");

-- CreateIndex
CREATE INDEX "Handoff_conversationId_idx" ON "Handoff"("conversationId");

-- AddForeignKey
ALTER TABLE "PlanPayment" ADD CONSTRAINT "PlanPayment_agreementId_fkey" FOREIGN KEY ("agreementId") REFERENCES "Agreement"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
