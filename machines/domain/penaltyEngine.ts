import type Decimal from 'decimal.js';
import { daysBetween, type LocalDate } from './calendar';
import { fromFen, money, roundFen, sum, ZERO, type Money } from './money';

/** The product's penalty terms (dialogs/policy), already parsed to decimals. */
export interface PenaltyTerms {
  penaltyMultiplier: Decimal;
  penaltyCapAnnual: Decimal;
  dayBasis: number;
  compound: boolean;
  lateFee: Decimal;
}

export interface InstallmentFacts {
  number: number;
  dueDate: LocalDate;
  principalDueFen: number;
  interestDueFen: number;
  principalPaidFen: number;
  interestPaidFen: number;
}

export interface LoanFacts {
  loanId: string;
  product: string;
  annualRate: string;
  installments: readonly InstallmentFacts[];
}

/** One overdue installment's charges on a date, with every input that produced them. */
export interface InstallmentCharge {
  loanId: string;
  product: string;
  number: number;
  dueDate: LocalDate;
  days: number;
  principal: Money;
  interest: Money;
  annualRate: Money;
  penaltyMultiplier: Money;
  penaltyCapAnnual: Money;
  penaltyAnnual: Money;
  capApplied: boolean;
  dayBasis: number;
  compoundOn: boolean;
  penalty: Money;
  compound: Money;
  lateFee: Money;
  total: Money;
}

export interface AmountDue {
  asOf: LocalDate;
  installments: InstallmentCharge[];
  principal: Money;
  interest: Money;
  penalty: Money;
  compound: Money;
  lateFees: Money;
  total: Money;
  /** The largest `days` among the overdue installments (D in CONTRACT.md §5); 0 when none. */
  maxDaysOverdue: number;
}

/** Charges of one installment on `asOf`, or null when it is not yet due or fully paid. */
export function installmentCharge(loan: LoanFacts, inst: InstallmentFacts, terms: PenaltyTerms, asOf: LocalDate): InstallmentCharge | null {
  const days = daysBetween(inst.dueDate, asOf);
  const principal = fromFen(inst.principalDueFen - inst.principalPaidFen);
  const interest = fromFen(inst.interestDueFen - inst.interestPaidFen);
  if (days <= 0 || (principal.isZero() && interest.isZero())) return null;

  const annualRate = money(loan.annualRate);
  const uncapped = annualRate.times(terms.penaltyMultiplier);
  const capApplied = uncapped.greaterThan(terms.penaltyCapAnnual);
  const penaltyAnnual = capApplied ? money(terms.penaltyCapAnnual) : uncapped;
  const perDay = (base: Money) => roundFen(base.times(penaltyAnnual).dividedBy(terms.dayBasis).times(days));
  const penalty = perDay(principal);
  const compound = terms.compound ? perDay(interest) : ZERO;
  const lateFee = roundFen(terms.lateFee);
  return {
    loanId: loan.loanId,
    product: loan.product,
    number: inst.number,
    dueDate: inst.dueDate,
    days,
    principal,
    interest,
    annualRate,
    penaltyMultiplier: money(terms.penaltyMultiplier),
    penaltyCapAnnual: money(terms.penaltyCapAnnual),
    penaltyAnnual,
    capApplied,
    dayBasis: terms.dayBasis,
    compoundOn: terms.compound,
    penalty,
    compound,
    lateFee,
    total: sum([principal, interest, penalty, compound, lateFee]),
  };
}

/**
 * Amount due on `asOf` (today, or a future date for quotes) over every installment due before it
 * and not fully paid (CONTRACT.md §5). Totals are sums of rounded components.
 */
export function amountDueOn(loans: readonly LoanFacts[], termsOf: (product: string) => PenaltyTerms, asOf: LocalDate): AmountDue {
  const installments: InstallmentCharge[] = [];
  for (const loan of loans) {
    const terms = termsOf(loan.product);
    for (const inst of loan.installments) {
      const charge = installmentCharge(loan, inst, terms, asOf);
      if (charge) installments.push(charge);
    }
  }
  installments.sort((a, b) => (a.dueDate === b.dueDate ? a.number - b.number : a.dueDate < b.dueDate ? -1 : 1));
  const total = (pick: (c: InstallmentCharge) => Money) => sum(installments.map(pick));
  return {
    asOf,
    installments,
    principal: total((c) => c.principal),
    interest: total((c) => c.interest),
    penalty: total((c) => c.penalty),
    compound: total((c) => c.compound),
    lateFees: total((c) => c.lateFee),
    total: total((c) => c.total),
    maxDaysOverdue: installments.reduce((d, c) => Math.max(d, c.days), 0),
  };
}
