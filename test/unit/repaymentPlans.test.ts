import fc from 'fast-check';
import Decimal from 'decimal.js';
import { addDays, daysBetween } from '../../machines/domain/calendar';
import { amountDueOn, type LoanFacts, type PenaltyTerms } from '../../machines/domain/penaltyEngine';
import {
  availableOptions, checkDateWithin, checkPromise, installmentSchedule, strictestRules, waiverQuote, type PlanRules,
} from '../../machines/domain/repaymentPlans';

const standard: PenaltyTerms = { penaltyMultiplier: new Decimal('1.5'), penaltyCapAnnual: new Decimal('0.24'), dayBasis: 360, compound: true, lateFee: new Decimal(0) };
const rules: PlanRules = {
  selfServiceMaxDaysOverdue: 180,
  installments: { counts: [3, 6, 12], minimumTotal: new Decimal('300'), maxDaysOverdue: 180 },
  extension: { maxDays: 30, maxDaysOverdue: 90, oncePerDays: 365 },
  waiver: { share: new Decimal('0.5'), payWithinDays: 3, maxDaysOverdue: 90 },
  promise: { withinDays: 7 },
};
const today = '2026-11-22';
const loanOverdue = (days: number, p = 95000, i = 18000): LoanFacts => ({
  loanId: 'L', product: 'standard', annualRate: '0.18',
  installments: [{ number: 1, dueDate: addDays(today, -days), principalDueFen: p, interestDueFen: i, principalPaidFen: 0, interestPaidFen: 0 }],
});
const dueFor = (loan: LoanFacts) => amountDueOn([loan], () => standard, today);
const offered = (days: number, p?: number) => availableOptions(dueFor(loanOverdue(days, p)), rules, {}, today).filter((o) => o.offered).map((o) => o.kind);

describe('installment schedules', () => {
  test('the worked example in 3: 384.20 twice and the remainder last, one calendar month apart', () => {
    const s = installmentSchedule(new Decimal('1152.60'), 3, today);
    expect(s.map((p) => [p.dueDate, p.amount.toFixed(2)])).toEqual([
      ['2026-12-22', '384.20'], ['2027-01-22', '384.20'], ['2027-02-22', '384.20'],
    ]);
  });

  test('rounding down each payment; the last takes the remainder', () => {
    const s = installmentSchedule(new Decimal('1000.00'), 3, today);
    expect(s.map((p) => p.amount.toFixed(2))).toEqual(['333.33', '333.33', '333.34']);
  });

  test('month ends: from Jan 31 to Feb 28, then Mar 31; leap years', () => {
    expect(installmentSchedule(new Decimal(300), 3, '2027-01-31').map((p) => p.dueDate)).toEqual(['2027-02-28', '2027-03-31', '2027-04-30']);
    expect(installmentSchedule(new Decimal(300), 1, '2028-01-31')[0]!.dueDate).toBe('2028-02-29');
  });

  test('properties: sums exactly to the total, no zero or negative payment, dates strictly increase', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000_000 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 3000 }), (fen, count, offset) => {
        fc.pre(fen >= count); // at least a fen a payment
        const total = new Decimal(fen).dividedBy(100);
        const start = addDays('2026-01-01', offset);
        const s = installmentSchedule(total, count, start);
        expect(s).toHaveLength(count);
        expect(s.reduce((a, p) => a.plus(p.amount), new Decimal(0)).eq(total)).toBe(true);
        for (const p of s) {
          expect(p.amount.greaterThan(0)).toBe(true);
          expect(p.amount.decimalPlaces()).toBeLessThanOrEqual(2);
        }
        for (let i = 1; i < s.length; i++) expect(daysBetween(s[i - 1]!.dueDate, s[i]!.dueDate)).toBeGreaterThan(0);
        expect(daysBetween(start, s[0]!.dueDate)).toBeGreaterThanOrEqual(28);
      }),
    );
  });
});

describe('which options are offered', () => {
  test('30 days overdue, 1,152.60: everything', () => {
    expect(offered(30)).toEqual(['installments', 'extension', 'waiver', 'promise']);
  });

  test('over 90 days: no extension, no waiver', () => {
    const options = availableOptions(dueFor(loanOverdue(120)), rules, {}, today);
    expect(options.filter((o) => o.offered).map((o) => o.kind)).toEqual(['installments', 'promise']);
    expect(options.find((o) => o.kind === 'extension')!.reasons).toEqual(['tooLongOverdue']);
  });

  test('over 180 days: no installments either', () => {
    expect(offered(200)).toEqual(['promise']);
  });

  test('below the installment minimum', () => {
    const options = availableOptions(dueFor(loanOverdue(10, 20000, 0)), rules, {}, today);
    expect(options.find((o) => o.kind === 'installments')!.reasons).toEqual(['belowMinimum']);
  });

  test('an extension accepted within the last 365 days', () => {
    const options = availableOptions(dueFor(loanOverdue(30)), rules, { lastExtensionOn: addDays(today, -200) }, today);
    expect(options.find((o) => o.kind === 'extension')!.reasons).toEqual(['extensionUsedRecently']);
    const later = availableOptions(dueFor(loanOverdue(30)), rules, { lastExtensionOn: addDays(today, -365) }, today);
    expect(later.find((o) => o.kind === 'extension')!.offered).toBe(true);
  });

  test('nothing due: nothing offered', () => {
    const none = availableOptions(amountDueOn([], () => standard, today), rules, {}, today);
    expect(none.every((o) => !o.offered && o.reasons.includes('nothingDue'))).toBe(true);
  });

  test('different products: the strictest rule of each', () => {
    const flex: PlanRules = { ...rules, installments: { counts: [3, 6], minimumTotal: new Decimal(500), maxDaysOverdue: 120 }, promise: { withinDays: 5 } };
    const r = strictestRules([rules, flex]);
    expect(r.installments.counts).toEqual([3, 6]);
    expect(r.installments.minimumTotal.toString()).toBe('500');
    expect(r.promise.withinDays).toBe(5);
  });
});

describe('waiver, extension dates, promises', () => {
  test('the worked example: waiver = round(0.5 × (19.00 + 3.60)) = 11.30; pay 1,141.30 within 3 days', () => {
    const q = waiverQuote(dueFor(loanOverdue(30)), rules, today);
    expect([q.waiver.toFixed(2), q.payAmount.toFixed(2), q.payBy]).toEqual(['11.30', '1141.30', '2026-11-25']);
  });

  test('the extension quote is the amount due on the new date', () => {
    const due = amountDueOn([loanOverdue(30)], () => standard, addDays(today, 30));
    // 60 days: 950 × 0.24/360 × 60 = 38.00; 180 × … = 7.20
    expect(due.total.toFixed(2)).toBe('1175.20');
  });

  test('extension dates must be after today and within the maximum', () => {
    expect(checkDateWithin(today, today, 30)).toBe('notAfterToday');
    expect(checkDateWithin(addDays(today, 30), today, 30)).toBeUndefined();
    expect(checkDateWithin(addDays(today, 31), today, 30)).toBe('tooLate');
  });

  test('promises: 0.01 up to T, today up to 7 days', () => {
    const due = dueFor(loanOverdue(30));
    expect(checkPromise(new Decimal('0.01'), today, due, rules, today)).toBeUndefined();
    expect(checkPromise(new Decimal('0'), today, due, rules, today)).toBe('amountTooSmall');
    expect(checkPromise(new Decimal('1152.61'), today, due, rules, today)).toBe('amountTooLarge');
    expect(checkPromise(new Decimal('1152.60'), addDays(today, 7), due, rules, today)).toBeUndefined();
    expect(checkPromise(new Decimal('100'), addDays(today, 8), due, rules, today)).toBe('tooLate');
    expect(checkPromise(new Decimal('100'), addDays(today, -1), due, rules, today)).toBe('notAfterToday');
  });
});
