import { addDays, localDateOf } from '../machines/domain/calendar';
import { decideContact, type ContactDecision, type ContactPolicy } from '../machines/domain/contactRules';
import type { Db } from './client';
import { contactKeys } from './conversationStore';

/**
 * Which proactive reminders are due now, and what the contact rules (machines/domain/contactRules.ts)
 * say about each: read only, for `npm run reminders -- --dry-run` and, later, the scheduler.
 * Kinds: an agreed installment 3 days and 1 day before it is due, a promise to pay on its date,
 * an installment whose date passed yesterday, a proof's review outcome and a resolved complaint
 * not yet told. Every proactive message counts against the caps, whatever its kind; reminders
 * sent are audited as `reminder.sent` (none are sent yet, so the history is empty for now).
 */
export const REMINDER_KINDS = ['installmentUpcoming', 'promiseDue', 'installmentMissed', 'proofOutcome', 'complaintResolved'] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];

export interface ReminderCandidate {
  kind: ReminderKind;
  borrowerId: string;
  /** What it is about: the agreement and installment, the proof or the complaint. */
  subject: string;
  /** e.g. the due date; for the listing only. */
  detail: string;
}

export type ReminderPlan = ReminderCandidate & {
  /** The conversation it would go to (the borrower's most recent), if there is one. */
  conversationId?: string;
  decision: ContactDecision | { action: 'skip'; reason: 'noConversation' };
};

export async function dueReminders(db: Db, now: Date, timeZone: string): Promise<ReminderCandidate[]> {
  const today = localDateOf(now, timeZone);
  const dates = { in3: addDays(today, 3), in1: addDays(today, 1), yesterday: addDays(today, -1) };
  const [payments, proofs, complaints] = await Promise.all([
    db.planPayment.findMany({
      where: { dueDate: { in: [today, dates.in1, dates.in3, dates.yesterday] }, agreement: { status: 'active' } },
      include: { agreement: { select: { id: true, borrowerId: true, kind: true } } },
      orderBy: [{ agreementId: 'asc' }, { number: 'asc' }],
    }),
    db.proof.findMany({ where: { status: { in: ['verified', 'rejected'] }, outcomeNotifiedAt: null }, select: { id: true, borrowerId: true, status: true }, orderBy: { id: 'asc' } }),
    db.complaint.findMany({ where: { status: 'resolved', outcomeNotifiedAt: null }, select: { id: true, borrowerId: true }, orderBy: { id: 'asc' } }),
  ]);
  const out: ReminderCandidate[] = [];
  for (const p of payments) {
    const subject = `${p.agreementId} #${p.number}`;
    const { borrowerId, kind } = p.agreement;
    if (kind === 'promise') {
      if (p.dueDate === today) out.push({ kind: 'promiseDue', borrowerId, subject, detail: `promised for ${p.dueDate}` });
    } else if (p.dueDate === dates.in3 || p.dueDate === dates.in1) {
      out.push({ kind: 'installmentUpcoming', borrowerId, subject, detail: `due ${p.dueDate} (in ${p.dueDate === dates.in3 ? 3 : 1} day${p.dueDate === dates.in3 ? 's' : ''})` });
    } else if (p.dueDate === dates.yesterday) {
      // Payments against agreements are not matched yet: every installment past its date is listed.
      out.push({ kind: 'installmentMissed', borrowerId, subject, detail: `was due ${p.dueDate}` });
    }
  }
  for (const p of proofs) out.push({ kind: 'proofOutcome', borrowerId: p.borrowerId, subject: p.id, detail: p.status });
  for (const c of complaints) out.push({ kind: 'complaintResolved', borrowerId: c.borrowerId, subject: c.id, detail: 'resolved' });
  return out;
}

/**
 * The due reminders with the contact rules applied per borrower, in order: the ones planned to be
 * sent earlier in the same run count against the caps of the later ones.
 */
export async function planReminders(db: Db, opts: { now: Date; timeZone: string; policy: ContactPolicy }): Promise<ReminderPlan[]> {
  const { now, timeZone, policy } = opts;
  const candidates = await dueReminders(db, now, timeZone);
  const weekAgo = new Date(now.getTime() - 7 * 24 * 60 * 60 * 1000);
  const plans: ReminderPlan[] = [];
  const history = new Map<string, Date[]>();
  for (const c of candidates) {
    const conversation = await db.conversation.findFirst({ where: { borrowerId: c.borrowerId }, orderBy: { lastActivityAt: 'desc' }, select: { id: true } });
    if (!conversation) {
      plans.push({ ...c, decision: { action: 'skip', reason: 'noConversation' } });
      continue;
    }
    const optedOut = (await db.contactPreference.count({ where: { key: { in: contactKeys(conversation.id, c.borrowerId) }, optedOut: true } })) > 0;
    let sentAt = history.get(c.borrowerId);
    if (!sentAt) {
      const rows = await db.auditLog.findMany({ where: { borrowerId: c.borrowerId, action: 'reminder.sent', at: { gt: weekAgo } }, select: { at: true } });
      sentAt = rows.map((r) => r.at);
      history.set(c.borrowerId, sentAt);
    }
    const decision = decideContact({ now, timeZone, optedOut, sentAt, policy });
    if (decision.action === 'send') sentAt.push(now);
    plans.push({ ...c, conversationId: conversation.id, decision });
  }
  return plans;
}

export function describeDecision(d: ReminderPlan['decision'], timeZone: string): string {
  switch (d.action) {
    case 'send':
      return 'send now';
    case 'hold':
      return `hold until ${localTime(d.until, timeZone)} (quiet hours)`;
    case 'skip':
      if (d.reason === 'optedOut') return 'skip: the borrower opted out';
      if (d.reason === 'noConversation') return 'skip: no conversation to send it to';
      return `skip: ${d.reason === 'dailyCap' ? 'daily' : '7-day'} cap reached (${d.sentInWindow} of ${d.limit}); next allowed ${localTime(d.nextAllowedAt, timeZone)}`;
  }
}

function localTime(at: Date, timeZone: string): string {
  return `${localDateOf(at, timeZone)} ${at.toLocaleTimeString('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false })}`;
}
