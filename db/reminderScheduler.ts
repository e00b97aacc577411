import { renderCopy } from '../dialogs/copy';
import { LOCALES, type CopyFile, type Locale } from '../dialogs/schemas';
import type { ContactPolicy } from '../machines/domain/contactRules';
import type { Db } from './client';
import {
  paymentFacts,
  contactFacts,
  countedSends,
  type ContactFacts,
  DEFAULT_MAX_ATTEMPTS,
  decideReminder,
  dueReminders,
  retriesDue,
  type ReminderCandidate,
  type ReminderDecision,
  type ReminderStatus,
} from './reminders';
import { isUniqueViolation, isWriteConflict } from './writeErrors';

/**
 * Sends the reminders db/reminders.ts finds, within the contact rules, in-process and safe with
 * several instances on one database:
 * - a new occasion is claimed by inserting its Reminder row (id `kind:subject:slot`); the instance
 *   whose insert fails on the unique id (P2002) leaves it to the one that won;
 * - a held or failed reminder is claimed by a conditional update of its status;
 * - the contact rules are applied after the claim, right before sending, so an opt-out a moment
 *   ago is honoured; the caps are checked and a place under them reserved (the row's sentAt) in
 *   one serializable transaction, so two instances never both take the last place;
 * - every outcome (sent, held, skipped, failed) is written with its audit row in one transaction.
 * A reminder is at most once on the wire, except when an instance dies between the channel
 * accepting it and recording that: its claim goes stale and is tried again as a failed attempt.
 * What the borrower reads says only that there is a reminder: the details are what they see once
 * verified (their account summary: agreements, what is due, review outcomes).
 */
export interface ReminderMessage {
  text: string;
  locale: Locale;
}

export interface ReminderDialogs {
  copy: Record<Locale, CopyFile>;
  contact: ContactPolicy;
}

export interface ReminderSchedulerDeps {
  db: Db;
  clock: () => Date;
  /** The lender's time zone (APP_TIMEZONE): slots, quiet hours and the daily cap use it. */
  timeZone: string;
  /** The copy and contact policy in force (read at every pass, so a published change applies). */
  dialogs: () => ReminderDialogs | Promise<ReminderDialogs>;
  /** Stores the message in the conversation's transcript and posts it to the stored reference. */
  deliver: (conversationId: string, message: ReminderMessage) => Promise<void>;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Between two passes; 0 = no timer (the caller runs passes itself). Default one minute. */
  everyMs?: number;
  /** Send attempts in all before a reminder is given up. */
  maxAttempts?: number;
  /** Wait before trying a failed send again, times the attempts so far. */
  retryAfterMinutes?: number;
  /** A claim older than this was left by an instance that stopped mid-send: it is tried again. */
  staleClaimMinutes?: number;
  /** Occasions handled in one pass at most (the rest wait for the next). */
  batchSize?: number;
}

export interface ReminderPass {
  sent: number;
  held: number;
  skipped: number;
  failed: number;
  /** Claimed by this pass but left for the next one: an earlier claim for the same borrower was still in flight. */
  deferred: number;
}

/** The reminder's text: its first line says only that there is something to read after verifying. */
export function reminderMessage(copy: Record<Locale, CopyFile>, locale: Locale): string {
  // One text for every kind: even "a payment is due" would tell whoever holds the phone about a debt.
  return [renderCopy(copy, locale, 'reminder.notice'), renderCopy(copy, locale, 'reminder.optOutHint')].join('\n\n');
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 500);

interface Claimed {
  id: string;
  kind: string;
  borrowerId: string;
  subject: string;
  attempts: number;
  createdAt: Date;
}

export function createReminderScheduler(deps: ReminderSchedulerDeps) {
  const { db, clock, timeZone } = deps;
  const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const retryAfterMs = (deps.retryAfterMinutes ?? 15) * 60_000;
  const staleClaimMs = (deps.staleClaimMinutes ?? 10) * 60_000;
  const batchSize = deps.batchSize ?? 200;

  const audit = (tx: Db, now: Date, action: string, r: Claimed, conversationId: string | null, details: Record<string, unknown>) =>
    tx.auditLog.create({
      data: { at: now, actor: 'bot', action, borrowerId: r.borrowerId, conversationId, details: JSON.stringify({ reminderId: r.id, kind: r.kind, subject: r.subject, ...details }) },
    });

  /** Moves a claimed reminder to its outcome and audits it, together; nothing if the claim was lost meanwhile. */
  async function finish(
    r: Claimed,
    now: Date,
    outcome: { status: Exclude<ReminderStatus, 'claimed'>; conversationId?: string; reason?: string; heldUntil?: Date; attempted?: boolean },
    action: string | undefined,
    details: Record<string, unknown>,
  ): Promise<boolean> {
    return db.$transaction(async (tx) => {
      const { count } = await tx.reminder.updateMany({
        where: { id: r.id, status: 'claimed' },
        data: {
          status: outcome.status,
          reason: outcome.reason ?? null,
          heldUntil: outcome.heldUntil ?? null,
          updatedAt: now,
          ...(outcome.conversationId ? { conversationId: outcome.conversationId } : {}),
          ...(outcome.attempted ? { attempts: { increment: 1 } } : {}),
          // sentAt was set when the send was reserved; anything but sent releases the reservation.
          ...(outcome.status === 'sent' ? {} : { sentAt: null }),
        },
      });
      if (count !== 1) return false;
      if (action) await audit(tx as Db, now, action, r, outcome.conversationId ?? null, details);
      return true;
    });
  }

  async function localeOf(borrowerId: string, conversationId: string): Promise<Locale> {
    const [borrower, conversation] = await Promise.all([
      db.borrower.findUnique({ where: { id: borrowerId }, select: { locale: true } }),
      db.conversation.findUnique({ where: { id: conversationId }, select: { locale: true } }),
    ]);
    const known = (l: string | undefined): l is Locale => l !== undefined && (LOCALES as readonly string[]).includes(l);
    return known(borrower?.locale) ? borrower.locale : known(conversation?.locale) ? conversation.locale : 'zh-CN';
  }

  /**
   * The cap decision and, when it says send, the reservation (the claimed row's sentAt), in one
   * serializable transaction: two passes deciding at once for the same borrower cannot both take
   * the last place under a cap (SQLite runs transactions one at a time; PostgreSQL aborts one of
   * them, which is then left for the next pass).
   */
  async function decideAndReserve(r: Claimed, facts: ContactFacts, now: Date, policy: ContactPolicy): Promise<{ decision: ReminderDecision; onlyReservedInTheWay: boolean } | 'conflict'> {
    try {
      return await db.$transaction(
        async (tx) => {
          const sends = await countedSends(tx as Db, r.borrowerId, now, r.id);
          const current = { ...facts, ...sends };
          const decision = decideReminder(current, { now, timeZone, policy });
          const onlyReservedInTheWay = decision.action === 'skip' && sends.reservedAt.length > 0 && decideReminder(current, { now, timeZone, policy, ignoreReserved: true }).action === 'send';
          if (decision.action === 'send') {
            const { count } = await tx.reminder.updateMany({ where: { id: r.id, status: 'claimed' }, data: { sentAt: now, updatedAt: now } });
            if (count !== 1) return 'conflict' as const;
          }
          return { decision, onlyReservedInTheWay };
        },
        { isolationLevel: 'Serializable' },
      );
    } catch (e) {
      if (isWriteConflict(e)) return 'conflict';
      throw e;
    }
  }

  /** Applies the rules to a reminder this pass holds the claim of, and sends, holds or skips it. */
  async function settle(r: Claimed, pass: ReminderPass): Promise<void> {
    const now = clock();
    const { copy, contact } = await deps.dialogs();
    // Checked at every attempt: a reminder held overnight is dropped if the borrower paid, or made
    // a new arrangement, meanwhile.
    const facts = { ...(await contactFacts(db, r.borrowerId, now, r.id)), ...(await paymentFacts(db, r.kind, r.subject, timeZone)) };
    const conversationId = facts.conversationId;
    const where = conversationId ? { conversationId } : {};
    // Opt-out, a person on the conversation, no conversation, the quiet hours: these need no reservation.
    let decision = decideReminder(facts, { now, timeZone, policy: contact, ignoreReserved: true });
    if (decision.action === 'send' || (decision.action === 'skip' && (decision.reason === 'dailyCap' || decision.reason === 'weeklyCap'))) {
      const reserved = await decideAndReserve(r, facts, now, contact);
      if (reserved === 'conflict' || reserved.onlyReservedInTheWay) {
        // Another pass is sending to this borrower right now: decide again once it is settled
        // (if its send fails, this one may go after all).
        await finish(r, now, { status: 'held', reason: 'anotherSendInFlight', heldUntil: now, ...where }, undefined, {});
        pass.deferred++;
        return;
      }
      decision = reserved.decision;
    }
    if (decision.action === 'hold') {
      if (await finish(r, now, { status: 'held', reason: decision.reason, heldUntil: decision.until, ...where }, 'reminder.held', { reason: decision.reason, until: decision.until.toISOString() })) pass.held++;
      return;
    }
    if (decision.action === 'skip') {
      const { action: _, ...why } = decision;
      if (await finish(r, now, { status: 'skipped', reason: decision.reason, ...where }, 'reminder.skipped', why)) pass.skipped++;
      return;
    }
    const target = conversationId!;
    const attempt = r.attempts + 1;
    try {
      const locale = await localeOf(r.borrowerId, target);
      await deps.deliver(target, { text: reminderMessage(copy, locale), locale });
      if (await finish(r, now, { status: 'sent', conversationId: target, attempted: true }, 'reminder.sent', { attempt, locale })) pass.sent++;
    } catch (e) {
      const willRetry = attempt < maxAttempts;
      const retryAt = willRetry ? new Date(now.getTime() + retryAfterMs * attempt) : undefined;
      const reason = `${errorText(e)}${willRetry ? '' : ` (gave up after ${attempt} attempts)`}`;
      deps.log?.warn({ err: e, reminderId: r.id, attempt, willRetry }, 'reminder not delivered');
      if (await finish(r, now, { status: 'failed', conversationId: target, reason, attempted: true, ...(retryAt ? { heldUntil: retryAt } : {}) }, 'reminder.failed', { attempt, error: errorText(e), retryAt: retryAt?.toISOString() ?? null })) pass.failed++;
    }
  }

  /** Claims left by a stopped instance become failed attempts, tried again like any other. */
  async function recoverStaleClaims(now: Date): Promise<void> {
    const stale = await db.reminder.findMany({ where: { status: 'claimed', updatedAt: { lt: new Date(now.getTime() - staleClaimMs) } }, take: batchSize });
    for (const r of stale) {
      await db.$transaction(async (tx) => {
        const { count } = await tx.reminder.updateMany({
          where: { id: r.id, status: 'claimed', updatedAt: r.updatedAt },
          data: { status: 'failed', reason: 'interrupted: the instance sending it stopped', attempts: { increment: 1 }, heldUntil: now, sentAt: null, updatedAt: now },
        });
        if (count === 1) await audit(tx as Db, now, 'reminder.failed', r, r.conversationId, { attempt: r.attempts + 1, error: 'interrupted', retryAt: now.toISOString() });
      });
    }
  }

  async function claimNew(c: ReminderCandidate, now: Date): Promise<Claimed | undefined> {
    try {
      await db.reminder.create({ data: { id: c.id, kind: c.kind, borrowerId: c.borrowerId, subject: c.subject, status: 'claimed', createdAt: now, updatedAt: now } });
      return { id: c.id, kind: c.kind, borrowerId: c.borrowerId, subject: c.subject, attempts: 0, createdAt: now };
    } catch (e) {
      if (isUniqueViolation(e)) return undefined; // another instance has it
      throw e;
    }
  }

  /** One pass: stale claims, then reminders due again (oldest first), then new occasions. */
  async function runOnce(): Promise<ReminderPass> {
    const pass: ReminderPass = { sent: 0, held: 0, skipped: 0, failed: 0, deferred: 0 };
    const now = clock();
    await recoverStaleClaims(now);
    for (const r of await retriesDue(db, now, maxAttempts, batchSize)) {
      const { count } = await db.reminder.updateMany({ where: { id: r.id, status: r.status, heldUntil: { lte: now } }, data: { status: 'claimed', updatedAt: now } });
      if (count === 1) await settle(r, pass);
    }
    const candidates = (await dueReminders(db, now, timeZone)).slice(0, batchSize);
    for (const c of candidates) {
      const claimed = await claimNew(c, now);
      if (claimed) await settle(claimed, pass);
    }
    return pass;
  }

  // Passes never overlap within an instance: a slow pass delays the next instead of racing it.
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const run = (): Promise<ReminderPass> => {
    const next = running.then(runOnce);
    running = next.catch(() => undefined);
    return next;
  };
  const everyMs = deps.everyMs ?? 60_000;
  const timer =
    everyMs > 0
      ? setInterval(() => {
          if (!stopped) run().catch((err: unknown) => deps.log?.error({ err }, 'reminder pass failed'));
        }, everyMs)
      : undefined;
  // The timer alone must not keep a process alive that has nothing else to do.
  timer?.unref();

  return {
    /** Runs one pass now (after any pass in progress); tests and `npm run reminders` call it. */
    runOnce: run,
    /** No more passes; resolves when the one in progress has finished. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
