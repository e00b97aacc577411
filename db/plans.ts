import { randomBytes } from 'node:crypto';
import Decimal from 'decimal.js';
import { addDays, localDateOf, type LocalDate } from '../machines/domain/calendar';
import { formatAmount, formatPercent, fromFen, money, roundFen, sum } from '../machines/domain/money';
import { amountDueOn, type AmountDue, type LoanFacts, type PenaltyTerms } from '../machines/domain/penaltyEngine';
import { mergeObjects } from '../machines/mergeObjects';
import {
  availableOptions, beyondSelfService, checkDateWithin, checkPromise, installmentSchedule, strictestRules, waiverQuote, type PlanRules,
} from '../machines/domain/repaymentPlans';
import type {
  BorrowerInput, OptionKind, OptionRefusal, OptionsInput, OptionsView, PenaltyExplanation, PlanQuote, PlanQuoteInput, PlanQuoteResult,
} from '../machines/conversationTypes';
import { loadLoanFacts } from './accountSummary';
import { asDate, type Sql } from './sql';

/** What the plan actors need: the database, the lender's time zone and the product policy. */
export interface PlanDeps {
  /** Read on the turn path with plain SQL (see ./sql). */
  sql: Sql;
  timeZone: string;
  termsOf: (product: string) => PenaltyTerms;
  rulesOf: (product: string) => PlanRules;
  orderFor: (hardship: string) => readonly OptionKind[];
}

interface Position {
  today: LocalDate;
  loans: LoanFacts[];
  due: AmountDue;
  rules: PlanRules;
}

async function position(deps: PlanDeps, input: BorrowerInput): Promise<Position> {
  const today = localDateOf(new Date(input.now), deps.timeZone);
  const loans = await loadLoanFacts(deps.sql, input.borrowerId);
  const due = amountDueOn(loans, deps.termsOf, today);
  // The rules of the products in arrears; with nothing overdue, of every loan held.
  const overdue = new Set(due.installments.map((c) => c.product));
  const products = overdue.size ? [...overdue] : [...new Set(loans.map((l) => l.product))];
  const rules = strictestRules((products.length ? products : ['standard']).map(deps.rulesOf));
  return { today, loans, due, rules };
}

const overdueLoanIds = (due: AmountDue) => [...new Set(due.installments.map((c) => c.loanId))];

/** Every number of the penalty explanation, from the engine, with the inputs that produced it. */
export async function explainPenalty(deps: PlanDeps, input: BorrowerInput): Promise<PenaltyExplanation> {
  const { today, due } = await position(deps, input);
  // One more day adds, per installment, P (and I when compound) × the penalty rate / day basis.
  const daily = sum(
    due.installments.map((c) => c.principal.plus(c.compoundOn ? c.interest : 0).times(c.penaltyAnnual).dividedBy(c.dayBasis)),
  );
  return {
    today,
    total: formatAmount(due.total),
    penalty: formatAmount(due.penalty),
    compound: formatAmount(due.compound),
    lateFees: formatAmount(due.lateFees),
    anyCapApplied: due.installments.some((c) => c.capApplied),
    penaltyPlusCompound: formatAmount(due.penalty.plus(due.compound)),
    dailyGrowth: formatAmount(roundFen(daily)),
    maxDays: due.maxDaysOverdue,
    lines: due.installments.map((c) => ({
      loanId: c.loanId,
      number: c.number,
      dueDate: c.dueDate,
      days: c.days,
      principal: formatAmount(c.principal),
      interest: formatAmount(c.interest),
      annualRate: formatPercent(c.annualRate),
      multiplier: c.penaltyMultiplier.toString(),
      cap: formatPercent(c.penaltyCapAnnual),
      penaltyRate: formatPercent(c.penaltyAnnual),
      capApplied: c.capApplied,
      dayBasis: c.dayBasis,
      compoundOn: c.compoundOn,
      penalty: formatAmount(c.penalty),
      compound: formatAmount(c.compound),
      lateFee: formatAmount(c.lateFee),
      total: formatAmount(c.total),
    })),
  };
}

async function lastExtensionOn(sql: Sql, borrowerId: string, timeZone: string): Promise<LocalDate | undefined> {
  const [last] = await sql.all<{ confirmedAt: unknown }>(
    'SELECT "confirmedAt" FROM "Agreement" WHERE "borrowerId" = ? AND "kind" = \'extension\' ORDER BY "confirmedAt" DESC LIMIT 1',
    [borrowerId],
  );
  return last ? localDateOf(asDate(last.confirmedAt), timeZone) : undefined;
}

/** The position, with the borrower's last extension read at the same time (on PostgreSQL each read is a round trip). */
async function positionWithHistory(deps: PlanDeps, input: BorrowerInput): Promise<Position & { history: { lastExtensionOn: LocalDate | undefined } }> {
  const [current, lastExtension] = await Promise.all([position(deps, input), lastExtensionOn(deps.sql, input.borrowerId, deps.timeZone)]);
  return mergeObjects(current, { history: { lastExtensionOn: lastExtension } });
}

function refusalLimit(code: OptionRefusal['code'], kind: OptionKind, rules: PlanRules): string | undefined {
  if (code === 'belowMinimum') return formatAmount(rules.installments.minimumTotal);
  if (code === 'tooLongOverdue') return String(kind === 'installments' ? rules.installments.maxDaysOverdue : kind === 'extension' ? rules.extension.maxDaysOverdue : rules.waiver.maxDaysOverdue);
  if (code === 'extensionUsedRecently') return String(rules.extension.oncePerDays);
  return undefined;
}

/** The options the policy allows this borrower, with their numbers, in the order to offer them. */
export async function quoteOptions(deps: PlanDeps, input: OptionsInput): Promise<OptionsView> {
  const { today, loans, due, rules, history } = await positionWithHistory(deps, input);
  const order = deps.orderFor(input.hardship ?? 'unknown');
  const availability = availableOptions(due, rules, history, today).sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const counts = rules.installments.counts;
  const exampleCount = counts[0];
  const example = exampleCount && due.total.greaterThan(0) ? installmentSchedule(due.total, exampleCount, today)[0] : undefined;
  const maxDate = addDays(today, rules.extension.maxDays);
  const waiver = waiverQuote(due, rules, today);
  return {
    today,
    total: formatAmount(due.total),
    maxDays: due.maxDaysOverdue,
    beyondSelfService: beyondSelfService(due, rules),
    selfServiceMaxDays: rules.selfServiceMaxDaysOverdue,
    options: availability.map((o) => ({
      kind: o.kind,
      offered: o.offered,
      reasons: o.reasons.map((code) => {
        const limit = refusalLimit(code, o.kind, rules);
        return limit === undefined ? { code } : { code, limit };
      }),
    })),
    installments: { counts, ...(example && exampleCount ? { example: { count: exampleCount, amount: formatAmount(example.amount), firstDate: example.dueDate } } : {}) },
    extension: { maxDays: rules.extension.maxDays, maxDate, amountAtMax: formatAmount(amountDueOn(loans, deps.termsOf, maxDate).total) },
    waiver: { waiver: formatAmount(waiver.waiver), payAmount: formatAmount(waiver.payAmount), payBy: waiver.payBy, sharePercent: formatPercent(rules.waiver.share) },
    promise: { maxAmount: formatAmount(due.total), lastDate: addDays(today, rules.promise.withinDays) },
  };
}

/** A short reference a borrower can read out on the phone (no 0/O/1/I). */
function newReference(prefix: string): string {
  const alphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  return `${prefix}-${[...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/**
 * The exact plan for one request, or what is missing or not allowed, with the active
 * arrangements it would replace. Read-only: the agreement (and the replacing) is written by the
 * turn that records the borrower's confirmation.
 */
export async function quotePlan(deps: PlanDeps, input: PlanQuoteInput): Promise<PlanQuoteResult> {
  const [result, active] = await Promise.all([quoteRequest(deps, input), activeArrangements(deps.sql, input.borrowerId)]);
  if (result.status !== 'quote') return result;
  const replaces = coveringAny(active, result.quote.loanIds);
  return replaces.length ? { status: 'quote', quote: mergeObjects(result.quote, { replaces }) } : result;
}

/** The borrower's active arrangements, oldest first (read with the quote: on PostgreSQL each read is a round trip). */
function activeArrangements(sql: Sql, borrowerId: string): Promise<Array<{ id: string; loanIds: string }>> {
  return sql.all('SELECT "id", "loanIds" FROM "Agreement" WHERE "borrowerId" = ? AND "status" = \'active\' ORDER BY "confirmedAt", "id"', [borrowerId]);
}

/** Those of the arrangements that cover any of these loans. */
function coveringAny(active: ReadonlyArray<{ id: string; loanIds: string }>, loanIds: readonly string[]): string[] {
  const loans = new Set(loanIds);
  return active.filter((a) => (JSON.parse(a.loanIds) as string[]).some((id) => loans.has(id))).map((a) => a.id);
}

async function quoteRequest(deps: PlanDeps, input: PlanQuoteInput): Promise<PlanQuoteResult> {
  const { today, loans, due, rules, history } = await positionWithHistory(deps, input);
  const { request } = input;
  if (beyondSelfService(due, rules)) return { status: 'beyondSelfService', maxDays: rules.selfServiceMaxDaysOverdue };
  const availability = availableOptions(due, rules, history, today).find((o) => o.kind === request.kind);
  if (availability && !availability.offered) {
    return { status: 'notOffered', kind: request.kind, reasons: availability.reasons.map((code) => ({ code, ...(refusalLimit(code, request.kind, rules) ? { limit: refusalLimit(code, request.kind, rules) as string } : {}) })) };
  }
  const base = { reference: newReference('AG'), kind: request.kind, quotedAt: input.now, loanIds: overdueLoanIds(due), currentTotal: due.total.toFixed(2) };
  const payment = (dueDate: string, amount: Decimal) => [{ number: 1, dueDate, amount: amount.toFixed(2) }];

  switch (request.kind) {
    case 'installments': {
      const counts = rules.installments.counts;
      if (request.count === undefined) return { status: 'needs', field: 'count', counts };
      if (!counts.includes(request.count)) return { status: 'refused', problem: 'countNotAllowed', limit: counts.join('/') };
      const schedule = installmentSchedule(due.total, request.count, today);
      const quote: PlanQuote = mergeObjects(base, { amount: due.total.toFixed(2), count: request.count, schedule: schedule.map((p) => ({ number: p.number, dueDate: p.dueDate, amount: p.amount.toFixed(2) })) });
      return { status: 'quote', quote };
    }
    case 'extension': {
      const lastDate = addDays(today, rules.extension.maxDays);
      if (request.date === undefined) return { status: 'needs', field: 'date', lastDate };
      const problem = checkDateWithin(request.date, today, rules.extension.maxDays);
      if (problem) return { status: 'refused', problem: problem === 'tooLate' ? 'dateTooLate' : 'dateNotAfterToday', limit: lastDate };
      const then = amountDueOn(loans, deps.termsOf, request.date);
      return { status: 'quote', quote: mergeObjects(base, { amount: then.total.toFixed(2), newDate: request.date, schedule: payment(request.date, then.total) }) };
    }
    case 'waiver': {
      const q = waiverQuote(due, rules, today);
      return { status: 'quote', quote: mergeObjects(base, { amount: q.payAmount.toFixed(2), waiver: q.waiver.toFixed(2), newDate: q.payBy, schedule: payment(q.payBy, q.payAmount) }) };
    }
    case 'promise': {
      const lastDate = addDays(today, rules.promise.withinDays);
      if (request.amount === undefined && request.date === undefined) {
        // Asking about a promise again shows the one already made.
        // A promise has one payment: its date.
        const [active] = await deps.sql.all<{ id: string; amountFen: number; dueDate: string | null }>(
          'SELECT a."id", a."amountFen", (SELECT p."dueDate" FROM "PlanPayment" p WHERE p."agreementId" = a."id" ORDER BY p."number" LIMIT 1) AS "dueDate" FROM "Agreement" a WHERE a."borrowerId" = ? AND a."kind" = \'promise\' AND a."status" = \'active\' ORDER BY a."confirmedAt" DESC LIMIT 1',
          [input.borrowerId],
        );
        if (active?.dueDate && active.dueDate >= today) {
          return { status: 'promised', reference: active.id, amount: formatAmount(fromFen(Number(active.amountFen))), date: active.dueDate, maxAmount: formatAmount(due.total) };
        }
      }
      if (request.amount === undefined) return { status: 'needs', field: 'amount', maxAmount: formatAmount(due.total) };
      if (request.date === undefined) return { status: 'needs', field: 'date', lastDate };
      const amount = money(request.amount);
      const problem = checkPromise(amount, request.date, due, rules, today);
      if (problem === 'amountTooSmall') return { status: 'refused', problem, limit: '0.01' };
      if (problem === 'amountTooLarge') return { status: 'refused', problem, limit: formatAmount(due.total) };
      if (problem) return { status: 'refused', problem: problem === 'tooLate' ? 'dateTooLate' : 'dateNotAfterToday', limit: lastDate };
      return { status: 'quote', quote: mergeObjects(base, { amount: amount.toFixed(2), newDate: request.date, schedule: payment(request.date, amount) }) };
    }
  }
}
