import { localDateOf } from '../machines/domain/calendar';
import { formatAmount, fromFen } from '../machines/domain/money';
import { amountDueOn, type LoanFacts, type PenaltyTerms } from '../machines/domain/penaltyEngine';
import type { AccountInput, AccountSummary, OptionKind } from '../machines/conversationTypes';
import type { Db } from './client';
import { unnotifiedOutcomes } from './proofs';

export interface AccountDeps {
  db: Db;
  timeZone: string;
  termsOf: (product: string) => PenaltyTerms;
}

/** The borrower's loans as the penalty engine reads them. */
export async function loadLoanFacts(db: Db, borrowerId: string): Promise<LoanFacts[]> {
  const loans = await db.loan.findMany({ where: { borrowerId }, include: { installments: true }, orderBy: { id: 'asc' } });
  return loans.map((l) => ({ loanId: l.id, product: l.product, annualRate: l.annualRate, installments: l.installments }));
}

/** What is overdue today and what falls due next; every amount comes from the penalty engine. */
export async function loadAccountSummary(deps: AccountDeps, input: AccountInput): Promise<AccountSummary> {
  const today = localDateOf(new Date(input.now), deps.timeZone);
  const loans = await loadLoanFacts(deps.db, input.borrowerId);
  const due = amountDueOn(loans, deps.termsOf, today);
  const upcoming = loans
    .flatMap((l) => l.installments.map((i) => ({ loanId: l.loanId, ...i })))
    .filter((i) => i.dueDate >= today && i.principalDueFen + i.interestDueFen > i.principalPaidFen + i.interestPaidFen)
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0))[0];
  const agreements = await deps.db.agreement.findMany({
    where: { borrowerId: input.borrowerId, status: 'active' },
    include: { payments: { where: { dueDate: { gte: today } }, orderBy: { number: 'asc' }, take: 1 } },
    orderBy: { confirmedAt: 'asc' },
  });
  const outcomes = await unnotifiedOutcomes(deps.db, input.borrowerId);
  return {
    today,
    outcomes: outcomes.map((o) =>
      o.kind === 'proof'
        ? { kind: 'proof' as const, id: o.id, status: o.status, amount: formatAmount(o.amount), paidOn: o.paidOn, ...(o.reason ? { reason: o.reason } : {}) }
        : { kind: 'complaint' as const, id: o.id, resolution: o.resolution },
    ),
    agreements: agreements.flatMap((a) =>
      a.payments[0] ? [{ reference: a.id, kind: a.kind as OptionKind, nextDate: a.payments[0].dueDate, nextAmount: formatAmount(fromFen(a.payments[0].amountFen)) }] : [],
    ),
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
