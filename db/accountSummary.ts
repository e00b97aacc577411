import { localDateOf } from '../machines/domain/calendar';
import { formatAmount, fromFen } from '../machines/domain/money';
import { amountDueOn, type InstallmentFacts, type LoanFacts, type PenaltyTerms } from '../machines/domain/penaltyEngine';
import type { AccountInput, AccountSummary, OptionKind } from '../machines/conversationTypes';
import { unnotifiedOutcomes } from './proofs';
import type { Sql } from './sql';

export interface AccountDeps {
  /** Read on the turn path with plain SQL (see ./sql). */
  sql: Sql;
  timeZone: string;
  termsOf: (product: string) => PenaltyTerms;
}

interface LoanRow {
  loanId: string;
  product: string;
  annualRate: string;
  number: number | null;
  dueDate: string | null;
  principalDueFen: number | null;
  interestDueFen: number | null;
  principalPaidFen: number | null;
  interestPaidFen: number | null;
}

/** The borrower's loans as the penalty engine reads them, installments in order. */
export async function loadLoanFacts(sql: Sql, borrowerId: string): Promise<LoanFacts[]> {
  const rows = await sql.all<LoanRow>(
    'SELECT l."id" AS "loanId", l."product", l."annualRate", i."number", i."dueDate", i."principalDueFen", i."interestDueFen", i."principalPaidFen", i."interestPaidFen" FROM "Loan" l LEFT JOIN "Installment" i ON i."loanId" = l."id" WHERE l."borrowerId" = ? ORDER BY l."id", i."number"',
    [borrowerId],
  );
  const loans: Array<LoanFacts & { installments: InstallmentFacts[] }> = [];
  for (const r of rows) {
    let loan = loans[loans.length - 1];
    if (loan?.loanId !== r.loanId) loans.push((loan = { loanId: r.loanId, product: r.product, annualRate: r.annualRate, installments: [] }));
    if (r.number === null || r.dueDate === null) continue; // a loan without installments
    loan.installments.push({
      number: Number(r.number),
      dueDate: r.dueDate,
      principalDueFen: Number(r.principalDueFen),
      interestDueFen: Number(r.interestDueFen),
      principalPaidFen: Number(r.principalPaidFen),
      interestPaidFen: Number(r.interestPaidFen),
    });
  }
  return loans;
}

/** What is overdue today and what falls due next; every amount comes from the penalty engine. */
export async function loadAccountSummary(deps: AccountDeps, input: AccountInput): Promise<AccountSummary> {
  const today = localDateOf(new Date(input.now), deps.timeZone);
  const loans = await loadLoanFacts(deps.sql, input.borrowerId);
  const due = amountDueOn(loans, deps.termsOf, today);
  const upcoming = loans
    .flatMap((l) => l.installments.map((i) => ({ loanId: l.loanId, ...i })))
    .filter((i) => i.dueDate >= today && i.principalDueFen + i.interestDueFen > i.principalPaidFen + i.interestPaidFen)
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0))[0];
  // Each active agreement with its next payment from today (none left: not shown).
  const agreements = await deps.sql.all<{ id: string; kind: string; dueDate: string; amountFen: number }>(
    'SELECT a."id", a."kind", p."dueDate", p."amountFen" FROM "Agreement" a JOIN "PlanPayment" p ON p."agreementId" = a."id" AND p."number" = (SELECT MIN(n."number") FROM "PlanPayment" n WHERE n."agreementId" = a."id" AND n."dueDate" >= ?) WHERE a."borrowerId" = ? AND a."status" = \'active\' ORDER BY a."confirmedAt" ASC, a."id" ASC',
    [today, input.borrowerId],
  );
  const outcomes = await unnotifiedOutcomes(deps.sql, input.borrowerId);
  return {
    today,
    outcomes: outcomes.map((o) =>
      o.kind === 'proof'
        ? { kind: 'proof' as const, id: o.id, status: o.status, amount: formatAmount(o.amount), paidOn: o.paidOn, ...(o.reason ? { reason: o.reason } : {}) }
        : { kind: 'complaint' as const, id: o.id, resolution: o.resolution },
    ),
    agreements: agreements.map((a) => ({ reference: a.id, kind: a.kind as OptionKind, nextDate: a.dueDate, nextAmount: formatAmount(fromFen(Number(a.amountFen))) })),
    hasLoans: due.installments.length > 0 || upcoming !== undefined,
    overdue: due.installments.map((c) => ({ loanId: c.loanId, number: c.number, dueDate: c.dueDate, days: c.days, amount: formatAmount(c.total) })),
    total: formatAmount(due.total),
    penalty: formatAmount(due.penalty),
    compound: formatAmount(due.compound),
    lateFees: formatAmount(due.lateFees),
    maxDaysOverdue: due.maxDaysOverdue,
    ...(upcoming
      ? {
          next: {
            loanId: upcoming.loanId,
            number: upcoming.number,
            dueDate: upcoming.dueDate,
            amount: formatAmount(fromFen(upcoming.principalDueFen + upcoming.interestDueFen - upcoming.principalPaidFen - upcoming.interestPaidFen)),
          },
        }
      : {}),
  };
}
