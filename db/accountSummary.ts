import { localDateOf } from '../machines/domain/calendar';
import { formatAmount, fromFen } from '../machines/domain/money';
import { amountDueOn, type InstallmentFacts, type LoanFacts, type PenaltyTerms } from '../machines/domain/penaltyEngine';
import type { AccountInput, AccountSummary, OptionKind } from '../machines/conversationTypes';
import { unnotifiedOutcomes } from './proofs';
import { placeholders, type Sql } from './sql';

export interface AccountDeps {
  /** Read on the turn path with plain SQL (see ./sql). */
  sql: Sql;
  timeZone: string;
  termsOf: (product: string) => PenaltyTerms;
}

/**
 * The borrower's loans as the penalty engine reads them, installments in order. Two single-table
 * lookups, which PostgreSQL plans on their indexes when the tables have never been analysed (a
 * fresh database, or one too small for autovacuum to analyse) or were analysed large: a join,
 * planned on the still-empty tables, scanned all 1,000,000 installments after an import. (Tables
 * analysed while tiny get a sequential scan for both, kept in each connection's cached plan until
 * the next analyse; autovacuum analyses after an import.)
 */
export async function loadLoanFacts(sql: Sql, borrowerId: string): Promise<LoanFacts[]> {
  const loans = await sql.all<{ id: string; product: string; annualRate: string }>('SELECT "id", "product", "annualRate" FROM "Loan" WHERE "borrowerId" = ? ORDER BY "id"', [borrowerId]);
  if (loans.length === 0) return [];
  const rows = await sql.all<InstallmentFacts & { loanId: string }>(
    `SELECT "loanId", "number", "dueDate", "principalDueFen", "interestDueFen", "principalPaidFen", "interestPaidFen" FROM "Installment" WHERE "loanId" IN (${placeholders(loans.length)}) ORDER BY "loanId", "number"`,
    loans.map((l) => l.id),
  );
  return loans.map((l) => ({
    loanId: l.id,
    product: l.product,
    annualRate: l.annualRate,
    installments: rows.filter((r) => r.loanId === l.id).map(({ loanId: _, ...installment }) => installment),
  }));
}

/** What is overdue today and what falls due next; every amount comes from the penalty engine. */
export async function loadAccountSummary(deps: AccountDeps, input: AccountInput): Promise<AccountSummary> {
  const today = localDateOf(new Date(input.now), deps.timeZone);
  // Independent reads, together: on PostgreSQL each is a round trip of its own.
  const [loans, agreements, outcomes] = await Promise.all([
    loadLoanFacts(deps.sql, input.borrowerId),
    // Each active agreement with its next payment from today (none left: not shown).
    deps.sql.all<{ id: string; kind: string; dueDate: string; amountFen: number }>(
      'SELECT a."id", a."kind", p."dueDate", p."amountFen" FROM "Agreement" a JOIN "PlanPayment" p ON p."agreementId" = a."id" AND p."number" = (SELECT MIN(n."number") FROM "PlanPayment" n WHERE n."agreementId" = a."id" AND n."dueDate" >= ?) WHERE a."borrowerId" = ? AND a."status" = \'active\' ORDER BY a."confirmedAt" ASC, a."id" ASC',
      [today, input.borrowerId],
    ),
    unnotifiedOutcomes(deps.sql, input.borrowerId),
  ]);
  const due = amountDueOn(loans, deps.termsOf, today);
  const upcoming = loans
    .flatMap((l) => l.installments.map((i) => ({ loanId: l.loanId, ...i })))
    .filter((i) => i.dueDate >= today && i.principalDueFen + i.interestDueFen > i.principalPaidFen + i.interestPaidFen)
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0))[0];
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
