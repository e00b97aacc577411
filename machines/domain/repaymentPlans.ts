import type Decimal from 'decimal.js';
import { addDays, addMonthsClamped, daysBetween, type LocalDate } from './calendar';
import { floorFen, money, roundFen, type Money } from './money';
import type { AmountDue } from './penaltyEngine';

/** A product's plan rules (dialogs/policy/products.json), parsed. */
export interface PlanRules {
  selfServiceMaxDaysOverdue: number;
  installments: { counts: number[]; minimumTotal: Decimal; maxDaysOverdue: number };
  extension: { maxDays: number; maxDaysOverdue: number; oncePerDays: number };
  waiver: { share: Decimal; payWithinDays: number; maxDaysOverdue: number };
  promise: { withinDays: number };
}

export const OPTION_KINDS = ['installments', 'extension', 'waiver', 'promise'] as const;
export type OptionKind = (typeof OPTION_KINDS)[number];

export type RefusalReason = 'nothingDue' | 'belowMinimum' | 'tooLongOverdue' | 'extensionUsedRecently';

export interface OptionAvailability {
  kind: OptionKind;
  offered: boolean;
  reasons: RefusalReason[];
}

export interface PlanHistory {
  /** The last date an extension was confirmed on any of the overdue loans. */
  lastExtensionOn?: LocalDate;
}

/**
 * When the overdue installments belong to loans of different products, the borrower gets what
 * every one of those products allows: the strictest value of each rule.
 */
export function strictestRules(all: readonly PlanRules[]): PlanRules {
  const [first, ...rest] = all;
  if (!first) throw new Error('strictestRules needs at least one product');
  return rest.reduce<PlanRules>(
    (a, b) => ({
      selfServiceMaxDaysOverdue: Math.min(a.selfServiceMaxDaysOverdue, b.selfServiceMaxDaysOverdue),
      installments: {
        counts: a.installments.counts.filter((c) => b.installments.counts.includes(c)),
        minimumTotal: a.installments.minimumTotal.greaterThan(b.installments.minimumTotal) ? a.installments.minimumTotal : b.installments.minimumTotal,
        maxDaysOverdue: Math.min(a.installments.maxDaysOverdue, b.installments.maxDaysOverdue),
      },
      extension: {
        maxDays: Math.min(a.extension.maxDays, b.extension.maxDays),
        maxDaysOverdue: Math.min(a.extension.maxDaysOverdue, b.extension.maxDaysOverdue),
        oncePerDays: Math.max(a.extension.oncePerDays, b.extension.oncePerDays),
      },
      waiver: {
        share: a.waiver.share.lessThan(b.waiver.share) ? a.waiver.share : b.waiver.share,
        payWithinDays: Math.min(a.waiver.payWithinDays, b.waiver.payWithinDays),
        maxDaysOverdue: Math.min(a.waiver.maxDaysOverdue, b.waiver.maxDaysOverdue),
      },
      promise: { withinDays: Math.min(a.promise.withinDays, b.promise.withinDays) },
    }),
    first,
  );
}

/** True when the borrower is past what self-service may agree: a person takes over. */
export function beyondSelfService(due: AmountDue, rules: PlanRules): boolean {
  return due.maxDaysOverdue > rules.selfServiceMaxDaysOverdue;
}

/** Which options the policy allows this borrower today, and why the others are not offered. */
export function availableOptions(due: AmountDue, rules: PlanRules, history: PlanHistory, today: LocalDate): OptionAvailability[] {
  const D = due.maxDaysOverdue;
  const nothingDue = due.total.lessThanOrEqualTo(0);
  const check = (kind: OptionKind, conditions: Array<[boolean, RefusalReason]>): OptionAvailability => {
    const reasons = [...(nothingDue ? (['nothingDue'] as RefusalReason[]) : []), ...conditions.filter(([ok]) => !ok).map(([, r]) => r)];
    return { kind, offered: reasons.length === 0, reasons };
  };
  const extensionUsed = history.lastExtensionOn !== undefined && daysBetween(history.lastExtensionOn, today) < rules.extension.oncePerDays;
  return [
    check('installments', [
      [due.total.greaterThanOrEqualTo(rules.installments.minimumTotal), 'belowMinimum'],
      [D <= rules.installments.maxDaysOverdue, 'tooLongOverdue'],
      [rules.installments.counts.length > 0, 'tooLongOverdue'],
    ]),
    check('extension', [
      [D <= rules.extension.maxDaysOverdue, 'tooLongOverdue'],
      [!extensionUsed, 'extensionUsedRecently'],
    ]),
    check('waiver', [[D <= rules.waiver.maxDaysOverdue, 'tooLongOverdue']]),
    check('promise', []),
  ];
}

export interface ScheduledPayment {
  number: number;
  dueDate: LocalDate;
  amount: Money;
}

/**
 * `count` monthly payments of T / count rounded down to the fen, the last one taking the
 * remainder; the first one calendar month after today (same day, or the month's last day).
 */
export function installmentSchedule(total: Decimal, count: number, today: LocalDate): ScheduledPayment[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`installment count must be a positive integer, got ${count}`);
  const each = floorFen(money(total).dividedBy(count));
  return Array.from({ length: count }, (_, i) => ({
    number: i + 1,
    // Counted from today each time, so Jan 31 gives Feb 28 and then Mar 31, not Mar 28.
    dueDate: addMonthsClamped(today, i + 1),
    amount: i === count - 1 ? money(total).minus(each.times(count - 1)) : each,
  }));
}

export type DateProblem = 'notAfterToday' | 'tooLate';

/** A date must fall within (today, today + maxDays]. */
export function checkDateWithin(date: LocalDate, today: LocalDate, maxDays: number): DateProblem | undefined {
  const d = daysBetween(today, date);
  if (d <= 0) return 'notAfterToday';
  return d > maxDays ? 'tooLate' : undefined;
}

export interface WaiverQuote {
  waiver: Money;
  payAmount: Money;
  payBy: LocalDate;
}

/** Paying T in full within the window waives a share of the penalty and compound interest. */
export function waiverQuote(due: AmountDue, rules: PlanRules, today: LocalDate): WaiverQuote {
  const waiver = roundFen(rules.waiver.share.times(due.penalty.plus(due.compound)));
  return { waiver, payAmount: due.total.minus(waiver), payBy: addDays(today, rules.waiver.payWithinDays) };
}

export type PromiseProblem = 'amountTooSmall' | 'amountTooLarge' | DateProblem;

/** A promise: any amount from 0.01 to T, on a date within the next `withinDays` days (today allowed). */
export function checkPromise(amount: Decimal, date: LocalDate, due: AmountDue, rules: PlanRules, today: LocalDate): PromiseProblem | undefined {
  if (amount.lessThan('0.01')) return 'amountTooSmall';
  if (amount.greaterThan(due.total)) return 'amountTooLarge';
  const d = daysBetween(today, date);
  if (d < 0) return 'notAfterToday';
  return d > rules.promise.withinDays ? 'tooLate' : undefined;
}
