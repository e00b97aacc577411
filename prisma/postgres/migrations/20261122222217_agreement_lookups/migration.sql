-- CreateIndex
CREATE INDEX "Agreement_borrowerId_kind_confirmedAt_idx" ON "Agreement"("borrowerId", "kind", "confirmedAt");

-- CreateIndex
CREATE INDEX "Agreement_borrowerId_status_confirmedAt_idx" ON "Agreement"("borrowerId", "status", "confirmedAt");
