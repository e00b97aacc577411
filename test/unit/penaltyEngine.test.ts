import fc from 'fast-check';
import Decimal from 'decimal.js';
import { addDays } from '../../machines/domain/calendar';
import { amountDueOn, type LoanFacts, type PenaltyTerms } from '../../machines/domain/penaltyEngine';

const standard: PenaltyTerms = { penaltyMultiplier: new Decimal('1.5'), penaltyCapAnnual: new Decimal('0.24'), dayBasis: 360, compound: true, lateFee: new Decimal('0') };
const flex: PenaltyTerms = { penaltyMultiplier: new Decimal('1.3'), penaltyCapAnnual: new Decimal('0.24'), dayBasis: 365, compound: false, lateFee: new Decimal('30') };
const terms = (p: string) => (p === 'flex' ? flex : standard);

const loan = (installments: LoanFacts['installments'], annualRate = '0.18', product = 'standard'): LoanFacts => ({ loanId: 'L1', product, annualRate, installments });
const inst = (number: number, dueDate: string, p: number, i: number, pp = 0, ip = 0) => ({
  number, dueDate, principalDueFen: p, interestDueFen: i, principalPaidFen: pp, interestPaidFen: ip,
});

describe('amountDueOn: hand-computed cases', () => {
  test('the CONTRACT.md worked example: 950.00 + 180.00, 30 days, cap applies', () => {
    const due = amountDueOn([loan([inst(1, '2026-10-23', 95000, 18000), inst(2, '2026-11-23', 95000, 17000)])], terms, '2026-11-22');
    expect(due.installments).toHaveLength(1);
    const [c] = due.installments;
    expect(c!.days).toBe(30);
    expect(c!.capApplied).toBe(true);
    expect(c!.penaltyAnnual.toFixed(2)).toBe('0.24');
    expect(c!.penalty.toFixed(2)).toBe('19.00');
    expect(c!.compound.toFixed(2)).toBe('3.60');
    expect(due.total.toFixed(2)).toBe('1152.60');
    expect(due.maxDaysOverdue).toBe(30);
  });

  test('an installment due today is not yet overdue; one due yesterday is, for 1 day', () => {
    expect(amountDueOn([loan([inst(1, '2026-11-22', 10000, 0)])], terms, '2026-11-22').total.toFixed(2)).toBe('0.00');
    const due = amountDueOn([loan([inst(1, '2026-11-21', 100000, 0)])], terms, '2026-11-22');
    // 1000 × 0.24 / 360 × 1 = 0.6666… → 0.67
    expect(due.penalty.toFixed(2)).toBe('0.67');
    expect(due.total.toFixed(2)).toBe('1000.67');
  });

  test('partly paid: only the unpaid parts are charged', () => {
    const due = amountDueOn([loan([inst(1, '2026-10-23', 95000, 18000, 45000, 18000)])], terms, '2026-11-22');
    // P = 500.00, I = 0: penalty 500 × 0.24 / 360 × 30 = 10.00
    expect(due.principal.toFixed(2)).toBe('500.00');
    expect(due.penalty.toFixed(2)).toBe('10.00');
    expect(due.compound.toFixed(2)).toBe('0.00');
    expect(due.total.toFixed(2)).toBe('510.00');
  });

  test('fully paid installments are left out', () => {
    expect(amountDueOn([loan([inst(1, '2026-10-23', 95000, 18000, 95000, 18000)])], terms, '2026-11-22').installments).toHaveLength(0);
  });

  test('below the cap: 0.12 × 1.5 = 0.18 is used as is', () => {
    const due = amountDueOn([loan([inst(1, '2026-10-23', 100000, 10000)], '0.12')], terms, '2026-11-22');
    const [c] = due.installments;
    expect(c!.capApplied).toBe(false);
    expect(c!.penaltyAnnual.toString()).toBe('0.18');
    // 1000 × 0.18 / 360 × 30 = 15.00; 100 × 0.18 / 360 × 30 = 1.50
    expect(c!.penalty.toFixed(2)).toBe('15.00');
    expect(c!.compound.toFixed(2)).toBe('1.50');
    expect(due.total.toFixed(2)).toBe('1116.50');
  });

  test('several installments: totals are sums of rounded components', () => {
    const due = amountDueOn([loan([inst(1, '2026-08-23', 95000, 18000), inst(2, '2026-09-23', 95000, 17000), inst(3, '2026-10-23', 95000, 16000)])], terms, '2026-11-22');
    expect(due.installments.map((c) => c.days)).toEqual([91, 60, 30]);
    // 950 × 0.24/360 × 91 = 57.633… → 57.63; 180 × … × 91 = 10.92
    // 950 × … × 60 = 38.00; 170 × … × 60 = 6.80
    // 950 × … × 30 = 19.00; 160 × … × 30 = 3.20
    expect(due.installments.map((c) => [c.penalty.toFixed(2), c.compound.toFixed(2)])).toEqual([
      ['57.63', '10.92'], ['38.00', '6.80'], ['19.00', '3.20'],
    ]);
    expect(due.penalty.toFixed(2)).toBe('114.63');
    expect(due.compound.toFixed(2)).toBe('20.92');
    expect(due.total.toFixed(2)).toBe((2850 + 510 + 114.63 + 20.92).toFixed(2));
    expect(due.maxDaysOverdue).toBe(91);
  });

  test('another product: no compound, a late fee per overdue installment, 365-day basis', () => {
    const due = amountDueOn([loan([inst(1, '2026-09-23', 100000, 20000), inst(2, '2026-10-23', 100000, 20000)], '0.15', 'flex')], terms, '2026-11-22');
    // 0.15 × 1.3 = 0.195 < 0.24. 1000 × 0.195 / 365 × 60 = 32.054… → 32.05; × 30 → 16.03
    expect(due.installments.map((c) => c.penalty.toFixed(2))).toEqual(['32.05', '16.03']);
    expect(due.compound.toFixed(2)).toBe('0.00');
    expect(due.lateFees.toFixed(2)).toBe('60.00');
    expect(due.total.toFixed(2)).toBe('2508.08');
  });

  test('half-up rounding at exactly half a fen', () => {
    // 1.25 × 0.24 / 360 × 15 = 0.0125 → 0.01; 3.75 × 0.24/360 × 30 = 0.075 → 0.08
    const due = amountDueOn([loan([inst(1, '2026-10-23', 375, 0)])], terms, '2026-11-22');
    expect(due.penalty.toFixed(2)).toBe('0.08');
  });
});

describe('amountDueOn: properties', () => {
  const installmentArb = fc.record({
    offset: fc.integer({ min: -400, max: 60 }),
    p: fc.integer({ min: 0, max: 5_000_000 }),
    i: fc.integer({ min: 0, max: 1_000_000 }),
    paidShare: fc.double({ min: 0, max: 1, noNaN: true }),
  });
  const loanArb = fc.record({
    rate: fc.integer({ min: 0, max: 3600 }).map((bp) => (bp / 10000).toString()),
    product: fc.constantFrom('standard', 'flex'),
    installments: fc.array(installmentArb, { minLength: 1, maxLength: 12 }),
  });
  const today = '2026-11-22';
  type GeneratedLoan = { rate: string; product: string; installments: Array<{ offset: number; p: number; i: number; paidShare: number }> };
  const toLoans = (ls: GeneratedLoan[]): LoanFacts[] =>
    ls.map((l, k) => ({
      loanId: `L${k}`,
      product: l.product,
      annualRate: l.rate,
      installments: l.installments.map((x, n) => inst(n + 1, addDays(today, x.offset), x.p, x.i, Math.floor(x.p * x.paidShare), Math.floor(x.i * x.paidShare))),
    }));

  test('no negative component, the cap holds, totals equal the sum of their parts', () => {
    fc.assert(
      fc.property(fc.array(loanArb, { minLength: 1, maxLength: 3 }), (ls) => {
        const due = amountDueOn(toLoans(ls), terms, today);
        for (const c of due.installments) {
          for (const v of [c.principal, c.interest, c.penalty, c.compound, c.lateFee, c.total]) expect(v.isNegative()).toBe(false);
          expect(c.penaltyAnnual.lte(c.penaltyCapAnnual)).toBe(true);
          expect(c.days).toBeGreaterThan(0);
          expect(c.total.eq(c.principal.plus(c.interest).plus(c.penalty).plus(c.compound).plus(c.lateFee))).toBe(true);
        }
        const sum = due.installments.reduce((a, c) => a.plus(c.total), new Decimal(0));
        expect(due.total.eq(sum)).toBe(true);
        expect(due.total.decimalPlaces()).toBeLessThanOrEqual(2);
      }),
    );
  });

  test('the amount due never decreases at a later date', () => {
    fc.assert(
      fc.property(fc.array(loanArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 60 }), (ls, a, extra) => {
        const loans = toLoans(ls);
        const earlier = amountDueOn(loans, terms, addDays(today, a));
        const later = amountDueOn(loans, terms, addDays(today, a + extra));
        expect(later.total.gte(earlier.total)).toBe(true);
      }),
    );
  });
});
