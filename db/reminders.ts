import { addDays, localDateOf } from '../machines/domain/calendar';
import { decideContact, type ContactDecision, type ContactPolicy } from '../machines/domain/contactRules';
import type { Db } from './client';
import { contactKeys } from './conversationStore';

/**
 * Which proactive reminders are due, and what the contact rules (machines/domain/contactRules.ts)
 * say about each. Read only: the scheduler (db/reminderScheduler.ts) claims and sends what this
 * finds, and `npm run reminders -- --dry-run` lists it.
 *
 * Kinds: an agreed installment 3 days and 1 day before it is due, a promise to pay on its date,
 * an installment whose date passed yesterday, and a follow-up on a proof's review outcome or a
 * resolved complaint the borrower has not seen a day after the decision (the review API tells the
 * borrower at once; this reminds them once more if they have not come back to read it).
 *
 * Every reminder is one row of the Reminder table whose id is `kind:subject:slot`, the slot being
 * the local date it became due: inserting the row is the claim, so an occasion is handled once
 * whatever the number of instances. Caps count every kind together, from the rows sent.
 */
export const REMINDER_KINDS = ['installmentUpcoming', 'promiseDue', 'installmentMissed', 'proofOutcome', 'complaintResolved'] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];

/** Outcome kinds are about something that stays true until the borrower reads it, not about a date. */
const OUTCOME_KINDS: readonly ReminderKind[] = ['proofOutcome', 'complaintResolved'];

export const REMINDER_STATUSES = ['claimed', 'sent', 'held', 'skipped', 'failed'] as const;
export type ReminderStatus = (typeof REMINDER_STATUSES)[number];

export interface ReminderCandidate {
  kind: ReminderKind;
  borrowerId: string;
  /** What it is about: the agreement and installment, the proof or the complaint. */
  subject: string;
  /** e.g. the due date; for staff listings only, never sent to the borrower. */
  detail: string;
  /** The Reminder row's id: `kind:subject:slot`. */
  id: string;
}

export type ReminderDecision =
  | ContactDecision
  | { action: 'skip'; reason: 'noConversation' }
  /** A person is talking with the borrower (or is about to): the bot keeps out of it. */
  | { action: 'skip'; reason: 'withAgent' }
  /** The proofs of payment the borrower sent since agreeing already cover what is due by then. */
  | { action: 'skip'; reason: 'alreadyPaid' }
  /** The agreement is no longer active: a later arrangement on the same loans replaced it. */
  | { action: 'skip'; reason: 'agreementInactive' };

export type ReminderPlan = ReminderCandidate & {
  /** The conversation it goes to (the borrower's most recent), if there is one. */
  conversationId?: string;
  /** A reminder held earlier (quiet hours) or failed earlier and now due again. */
  retry?: { status: 'held' | 'failed'; attempts: number };
  decision: ReminderDecision;
};

export function reminderId(kind: ReminderKind, subject: string, slot: string): string {
  return `${kind}:${subject}:${slot}`;
}

/** Occasions due now that have no Reminder row yet (none was claimed for them today). */
export async function dueReminders(db: Db, now: Date, timeZone: string): Promise<ReminderCandidate[]> {
  const today = localDateOf(now, timeZone);
  const dates = { in3: addDays(today, 3), in1: addDays(today, 1), yesterday: addDays(today, -1) };
  const [payments, proofs, complaints] = await Promise.all([
    db.planPayment.findMany({
      where: { dueDate: { in: [today, dates.in1, dates.in3, dates.yesterday] }, agreement: { status: 'active' } },
      include: { agreement: { select: { id: true, borrowerId: true, kind: true } } },
      orderBy: [{ agreementId: 'asc' }, { number: 'asc' }],
    }),
    db.proof.findMany({
      where: { status: { in: ['verified', 'rejected'] }, outcomeNotifiedAt: null, reviewedAt: { lte: now } },
      select: { id: true, borrowerId: true, status: true },
      orderBy: { id: 'asc' },
    }),
    db.complaint.findMany({ where: { status: 'resolved', outcomeNotifiedAt: null, resolvedAt: { lte: now } }, select: { id: true, borrowerId: true }, orderBy: { id: 'asc' } }),
  ]);
  const found: Omit<ReminderCandidate, 'id'>[] = [];
  for (const p of payments) {
    const subject = `${p.agreementId} #${p.number}`;
    const { borrowerId, kind } = p.agreement;
    if (kind === 'promise') {
      if (p.dueDate === today) found.push({ kind: 'promiseDue', borrowerId, subject, detail: `promised for ${p.dueDate}` });
    } else if (p.dueDate === dates.in3 || p.dueDate === dates.in1) {
      found.push({ kind: 'installmentUpcoming', borrowerId, subject, detail: `due ${p.dueDate} (in ${p.dueDate === dates.in3 ? 3 : 1} day${p.dueDate === dates.in3 ? 's' : ''})` });
    } else if (p.dueDate === dates.yesterday) {
      // Listed whatever was paid: the decision skips it when proofs of payment cover it (alreadyPaid).
      found.push({ kind: 'installmentMissed', borrowerId, subject, detail: `was due ${p.dueDate}` });
    }
  }
  for (const p of proofs) found.push({ kind: 'proofOutcome', borrowerId: p.borrowerId, subject: p.id, detail: p.status });
  for (const c of complaints) found.push({ kind: 'complaintResolved', borrowerId: c.borrowerId, subject: c.id, detail: 'resolved' });

  const candidates = found.map((c) => ({ ...c, id: reminderId(c.kind, c.subject, today) }));
  if (!candidates.length) return [];
  const [claimedToday, outcomeRows] = await Promise.all([
    db.reminder.findMany({ where: { id: { in: candidates.map((c) => c.id) } }, select: { id: true } }),
    // An outcome follow-up is sent once: only a skipped one (cap, opt-out) is tried again another day.
    db.reminder.findMany({
      where: { kind: { in: [...OUTCOME_KINDS] }, subject: { in: candidates.filter((c) => OUTCOME_KINDS.includes(c.kind)).map((c) => c.subject) }, status: { not: 'skipped' } },
      select: { kind: true, subject: true },
    }),
  ]);
  const taken = new Set(claimedToday.map((r) => r.id));
  const followedUp = new Set(outcomeRows.map((r) => `${r.kind}:${r.subject}`));
  return candidates.filter((c) => !taken.has(c.id) && !followedUp.has(`${c.kind}:${c.subject}`));
}

/** Reminders held (quiet hours) or failed (send error) whose time to try again has come. */
export async function retriesDue(db: Db, now: Date, maxAttempts: number, take = 100) {
  return db.reminder.findMany({
    where: {
      OR: [
        { status: 'held', heldUntil: { lte: now } },
        { status: 'failed', attempts: { lt: maxAttempts }, heldUntil: { lte: now } },
      ],
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take,
  });
}

/** The facts the contact rules need about one borrower, read when the decision is made. */
export interface ContactFacts {
  conversationId?: string;
  withAgent: boolean;
  optedOut: boolean;
  /** Reminders of every kind sent to the borrower in the past 7 days. */
  sentAt: Date[];
  /** Reminders another pass has decided to send and is sending now (reserved, not yet confirmed). */
  reservedAt: Date[];
  /** A payment reminder whose amount the borrower's proofs of payment already cover (see paymentFacts). */
  alreadyPaid?: boolean;
  /** A payment reminder whose agreement is no longer active (see paymentFacts). */
  agreementInactive?: boolean;
}

/** Kinds about a payment of an agreement; their subject is `<agreement id> #<number>`. */
const PAYMENT_KINDS: readonly string[] = ['installmentUpcoming', 'promiseDue', 'installmentMissed'];

/**
 * Whether a payment reminder is moot, read when it is about to go (a reminder held overnight is
 * checked again): its agreement is no longer active (a later arrangement replaced it), or the
 * proofs of payment the borrower sent (pending review or verified, paid on or after the day they
 * agreed) add up to at least what the agreement asks by this payment. Reminding someone who has
 * just paid, or telling them they missed a payment they made, is what borrowers complain about
 * most; a rejected proof does not count.
 */
export async function paymentFacts(db: Db, kind: string, subject: string, timeZone: string): Promise<Pick<ContactFacts, 'alreadyPaid' | 'agreementInactive'>> {
  const match = PAYMENT_KINDS.includes(kind) ? /^(\S+) #(\d+)$/.exec(subject) : null;
  if (!match) return {};
  const agreement = await db.agreement.findUnique({
    where: { id: match[1] },
    select: { borrowerId: true, status: true, confirmedAt: true, payments: { select: { number: true, amountFen: true } } },
  });
  if (!agreement) return {};
  if (agreement.status !== 'active') return { agreementInactive: true };
  const number = Number(match[2]);
  const dueFen = agreement.payments.filter((p) => p.number <= number).reduce((sum, p) => sum + p.amountFen, 0);
  const paid = await db.proof.aggregate({
    where: { borrowerId: agreement.borrowerId, status: { in: ['pending_review', 'verified'] }, paidOn: { gte: localDateOf(agreement.confirmedAt, timeZone) } },
    _sum: { amountFen: true },
  });
  return { alreadyPaid: dueFen > 0 && (paid._sum.amountFen ?? 0) >= dueFen };
}

/**
 * The reminders that count against a borrower's caps: sent in the past 7 days, or reserved for
 * sending by a pass right now (a claimed row with its sentAt set). `exceptId` leaves out the
 * reminder being decided.
 */
export async function countedSends(db: Db, borrowerId: string, now: Date, exceptId?: string): Promise<Pick<ContactFacts, 'sentAt' | 'reservedAt'>> {
  const rows = await db.reminder.findMany({
    where: { borrowerId, status: { in: ['sent', 'claimed'] }, sentAt: { gt: new Date(now.getTime() - 7 * 24 * 60 * 60 * 1000) }, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { status: true, sentAt: true },
  });
  return {
    sentAt: rows.flatMap((r) => (r.status === 'sent' && r.sentAt ? [r.sentAt] : [])),
    reservedAt: rows.flatMap((r) => (r.status === 'claimed' && r.sentAt ? [r.sentAt] : [])),
  };
}

/** Reads what the decision depends on; `exceptId` is the reminder being decided. */
export async function contactFacts(db: Db, borrowerId: string, now: Date, exceptId?: string): Promise<ContactFacts> {
  const conversation = await reminderConversation(db, borrowerId);
  const sends = await countedSends(db, borrowerId, now, exceptId);
  if (!conversation) return { withAgent: false, optedOut: false, ...sends };
  const [optedOut, handoffs] = await Promise.all([
    db.contactPreference.count({ where: { key: { in: contactKeys(conversation.id, borrowerId) }, optedOut: true } }),
    db.handoff.count({ where: { conversationId: conversation.id, status: { in: ['queued', 'active'] } } }),
  ]);
  return { conversationId: conversation.id, withAgent: handoffs > 0, optedOut: optedOut > 0, ...sends };
}

/**
 * Where a borrower's reminders go: their most recent conversation. A conversation forgets its
 * borrower when the session expires (until they verify again), so the ones they verified in count
 * too, unless someone else has verified there since.
 */
export async function reminderConversation(db: Db, borrowerId: string): Promise<{ id: string } | null> {
  const verifiedIn = await db.auditLog.findMany({
    where: { borrowerId, action: 'identity.verified', conversationId: { not: null } },
    select: { conversationId: true },
    distinct: ['conversationId'],
  });
  const ids = verifiedIn.flatMap((a) => (a.conversationId ? [a.conversationId] : []));
  return db.conversation.findFirst({
    where: { OR: [{ borrowerId }, ...(ids.length ? [{ id: { in: ids }, borrowerId: null }] : [])] },
    orderBy: { lastActivityAt: 'desc' },
    select: { id: true },
  });
}

/**
 * The decision for facts just read. Sends reserved by other passes count as sent (they are on
 * their way); `alsoSent` are sends planned earlier in the same dry run.
 */
export function decideReminder(facts: ContactFacts, opts: { now: Date; timeZone: string; policy: ContactPolicy; alsoSent?: readonly Date[]; ignoreReserved?: boolean }): ReminderDecision {
  if (facts.agreementInactive) return { action: 'skip', reason: 'agreementInactive' };
  if (facts.alreadyPaid) return { action: 'skip', reason: 'alreadyPaid' };
  if (!facts.conversationId) return { action: 'skip', reason: 'noConversation' };
  // Opt-out first: it is the borrower's own wish and outranks everything else.
  if (facts.optedOut) return { action: 'skip', reason: 'optedOut' };
  if (facts.withAgent) return { action: 'skip', reason: 'withAgent' };
  const sentAt = [...facts.sentAt, ...(opts.ignoreReserved ? [] : facts.reservedAt), ...(opts.alsoSent ?? [])];
  return decideContact({ now: opts.now, timeZone: opts.timeZone, optedOut: false, sentAt, policy: opts.policy });
}

/**
 * What a pass of the scheduler would do now, without claiming or sending anything: the new
 * occasions and the held or failed reminders due again, in the order the scheduler takes them
 * (retries first). Sends planned earlier in the list count against the caps of later ones.
 */
export async function planReminders(db: Db, opts: { now: Date; timeZone: string; policy: ContactPolicy; maxAttempts?: number }): Promise<ReminderPlan[]> {
  const { now, timeZone, policy } = opts;
  const retries = await retriesDue(db, now, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1000);
  const candidates = await dueReminders(db, now, timeZone);
  const work: Array<ReminderCandidate & { retry?: ReminderPlan['retry'] }> = [
    ...retries.map((r) => ({
      id: r.id,
      kind: r.kind as ReminderKind,
      borrowerId: r.borrowerId,
      subject: r.subject,
      detail: r.status === 'held' ? `held since ${r.createdAt.toISOString()}` : `failed ${r.attempts}×: ${r.reason ?? 'unknown error'}`,
      retry: { status: r.status as 'held' | 'failed', attempts: r.attempts },
    })),
    ...candidates,
  ];
  const planned = new Map<string, Date[]>();
  const plans: ReminderPlan[] = [];
  for (const c of work) {
    const facts = { ...(await contactFacts(db, c.borrowerId, now)), ...(await paymentFacts(db, c.kind, c.subject, timeZone)) };
    const alsoSent = planned.get(c.borrowerId) ?? [];
    const decision = decideReminder(facts, { now, timeZone, policy, alsoSent });
    if (decision.action === 'send') planned.set(c.borrowerId, [...alsoSent, now]);
    plans.push({ ...c, ...(facts.conversationId ? { conversationId: facts.conversationId } : {}), decision });
  }
  return plans;
}

/** Send errors are tried this many times in all before the reminder is given up. */
export const DEFAULT_MAX_ATTEMPTS = 3;

export function describeDecision(d: ReminderDecision, timeZone: string): string {
  switch (d.action) {
    case 'send':
      return 'send now';
    case 'hold':
      return `hold until ${localTime(d.until, timeZone)} (quiet hours)`;
    case 'skip':
      if (d.reason === 'optedOut') return 'skip: the borrower opted out';
      if (d.reason === 'noConversation') return 'skip: no conversation to send it to';
      if (d.reason === 'withAgent') return 'skip: the conversation is with a human agent';
      if (d.reason === 'alreadyPaid') return 'skip: the proofs of payment sent since agreeing already cover it';
      if (d.reason === 'agreementInactive') return 'skip: the agreement is no longer active (a later arrangement replaced it)';
      return `skip: ${d.reason === 'dailyCap' ? 'daily' : '7-day'} cap reached (${d.sentInWindow} of ${d.limit}); next allowed ${localTime(d.nextAllowedAt, timeZone)}`;
  }
}

export function localTime(at: Date, timeZone: string): string {
  return `${localDateOf(at, timeZone)} ${at.toLocaleTimeString('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false })}`;
}
