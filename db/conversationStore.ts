import { randomUUID } from 'node:crypto';
import { money, toFen } from '../machines/domain/money';
import type { TurnRecord } from '../machines/conversationTypes';
import type { Db } from './client';
import { markOutcomesNotified, writeComplaintRecord, writeProofRecord } from './proofs';
import { isUniqueViolation } from './prismaErrors';

export interface StoredConversation {
  id: string;
  channelId: string;
  reference: Record<string, unknown>;
  snapshot: unknown;
  flowVersion: string;
  version: number;
  locale: string;
  borrowerId: string | null;
  lastActivityAt: Date;
}

export interface StoredMessage {
  text: string;
  activity: Record<string, unknown>;
  activityId?: string;
}

export interface TurnCommit {
  conversationId: string;
  channelId: string;
  locale: string;
  reference: Record<string, unknown>;
  snapshot: unknown;
  flowVersion: string;
  borrowerId: string | null;
  /** The version read at the start of the turn; null when the conversation is new. */
  expectedVersion: number | null;
  now: Date;
  inbound: StoredMessage | null;
  outbound: StoredMessage[];
  records: TurnRecord[];
  /** The inbound activity's key and the replies it gets, so a retry of it is answered the same. */
  processed?: { key: string; replies: unknown[] };
}

/** Another turn of the same conversation committed first: re-run this one on its result. */
export class ConcurrentTurnError extends Error {
  constructor(conversationId: string) {
    super(`conversation ${conversationId} changed during the turn`);
  }
}


export function createConversationStore(db: Db) {
  return {
    async load(id: string): Promise<StoredConversation | null> {
      const row = await db.conversation.findUnique({ where: { id } });
      if (!row) return null;
      return {
        id: row.id,
        channelId: row.channelId,
        reference: JSON.parse(row.reference) as Record<string, unknown>,
        snapshot: JSON.parse(row.snapshot) as unknown,
        flowVersion: row.flowVersion,
        version: row.version,
        locale: row.locale,
        borrowerId: row.borrowerId,
        lastActivityAt: row.lastActivityAt,
      };
    },

    /**
     * Writes everything a turn produced in ONE transaction, guarded by the version read at its
     * start: either all of it lands on top of that version, or nothing does.
     */
    async commitTurn(c: TurnCommit): Promise<{ handoffIds: string[] }> {
      const handoffIds: string[] = [];
      const fields = {
        channelId: c.channelId,
        locale: c.locale,
        reference: JSON.stringify(c.reference),
        snapshot: JSON.stringify(c.snapshot),
        flowVersion: c.flowVersion,
        borrowerId: c.borrowerId,
        lastActivityAt: c.now,
      };
      try {
        await db.$transaction(async (tx) => {
          if (c.expectedVersion === null) {
            // Started at the bot's clock (APP_NOW), like everything else the reports count.
            await tx.conversation.create({ data: { id: c.conversationId, ...fields, createdAt: c.now, version: 1 } });
          } else {
            const { count } = await tx.conversation.updateMany({
              where: { id: c.conversationId, version: c.expectedVersion },
              data: { ...fields, version: c.expectedVersion + 1 },
            });
            if (count !== 1) throw new ConcurrentTurnError(c.conversationId);
          }
          const messages = [
            ...(c.inbound ? [{ direction: 'in', ...c.inbound }] : []),
            ...c.outbound.map((m) => ({ direction: 'out', ...m })),
          ];
          // One insert per message keeps their ids in order (the Direct Line watermark relies on it).
          for (const m of messages) {
            await tx.message.create({
              data: { conversationId: c.conversationId, direction: m.direction, activityId: m.activityId ?? null, text: m.text, activity: JSON.stringify(m.activity), createdAt: c.now },
            });
          }
          for (const r of c.records) {
            const created = await writeRecord(tx as Db, r, c);
            if (created) handoffIds.push(created);
          }
          // A borrower who opted out and writes again is opted back in.
          if (c.inbound && !c.records.some((r) => r.kind === 'contactPreference')) await optBackIn(tx as Db, c);
          if (c.processed) await tx.processedActivity.create({ data: { key: c.processed.key, replies: JSON.stringify(c.processed.replies), at: c.now } });
        });
        return { handoffIds };
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConcurrentTurnError(c.conversationId);
        throw e;
      }
    },

    /** The replies an already processed activity got, if it was. */
    async processedReplies(key: string): Promise<unknown[] | undefined> {
      const row = await db.processedActivity.findUnique({ where: { key } });
      return row ? (JSON.parse(row.replies) as unknown[]) : undefined;
    },

    /** The id of the conversation's handoff that is waiting for or with a person, if any. */
    async openHandoff(conversationId: string): Promise<string | undefined> {
      const open = await db.handoff.findFirst({ where: { conversationId, status: { in: ['queued', 'active'] } }, orderBy: { createdAt: 'desc' } });
      return open?.id;
    },

    async activitiesAfter(conversationId: string, afterId: number): Promise<Array<{ id: number; activity: Record<string, unknown> }>> {
      const rows = await db.message.findMany({ where: { conversationId, id: { gt: afterId } }, orderBy: { id: 'asc' }, take: 200 });
      return rows.map((r) => ({ id: r.id, activity: JSON.parse(r.activity) as Record<string, unknown> }));
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;

function audit(tx: Db, c: TurnCommit, action: string, borrowerId: string | undefined, details: Record<string, unknown>) {
  return tx.auditLog.create({ data: { at: c.now, actor: 'bot', action, borrowerId: borrowerId ?? null, conversationId: c.conversationId, details: JSON.stringify(details) } });
}

/** The contact preference rows a conversation's turn touches: its own, and its borrower's once verified. */
export const contactKeys = (conversationId: string, borrowerId: string | null | undefined) => [
  `conversation:${conversationId}`,
  ...(borrowerId ? [`borrower:${borrowerId}`] : []),
];

async function optBackIn(tx: Db, c: TurnCommit): Promise<void> {
  const { count } = await tx.contactPreference.updateMany({
    where: { key: { in: contactKeys(c.conversationId, c.borrowerId) }, optedOut: true },
    data: { optedOut: false, changedAt: c.now, conversationId: c.conversationId },
  });
  if (count > 0) await audit(tx, c, 'contact.optedIn', c.borrowerId ?? undefined, { reason: 'wroteAgain' });
}

/** Writes one record; returns the id of a handoff it created. */
async function writeRecord(tx: Db, r: TurnRecord, c: TurnCommit): Promise<string | undefined> {
  switch (r.kind) {
    case 'identityAttempt':
      for (const key of r.keys) await tx.identityAttempt.create({ data: { key, conversationId: c.conversationId, at: c.now, success: r.success } });
      return;
    case 'identityLock':
      for (const key of r.keys) {
        const until = new Date(r.until);
        await tx.identityLock.upsert({ where: { key }, create: { key, until }, update: { until } });
      }
      return;
    case 'audit':
      await audit(tx, c, r.action, r.borrowerId, r.details);
      return;
    case 'proof':
      await writeProofRecord(
        tx,
        {
          receipt: r.receipt,
          borrowerId: r.borrowerId,
          amount: r.amount,
          paidOn: r.paidOn,
          method: r.method,
          ...(r.reference ? { reference: r.reference } : {}),
          ...(r.file ? { sha256: r.file.sha256, fileType: r.file.fileType, fileSize: r.file.size } : {}),
        },
        c.now,
        c.conversationId,
      );
      return;
    case 'complaint':
      await writeComplaintRecord(tx, { ticket: r.ticket, borrowerId: r.borrowerId, category: r.category, description: r.description, desiredOutcome: r.desiredOutcome, dueDate: r.dueDate }, c.now, c.conversationId);
      return;
    case 'outcomesNotified':
      await markOutcomesNotified(tx, r.ids, c.now);
      return;
    case 'contactPreference':
      for (const key of contactKeys(r.conversationId, r.borrowerId)) {
        const data = { conversationId: r.conversationId, borrowerId: r.borrowerId ?? null, optedOut: r.optedOut, changedAt: c.now };
        await tx.contactPreference.upsert({ where: { key }, create: { key, ...data }, update: data });
      }
      await audit(tx, c, 'contact.optedOut', r.borrowerId, {});
      return;
    case 'hardship':
      await tx.hardshipReport.create({ data: { borrowerId: r.borrowerId, conversationId: c.conversationId, reason: r.reason, at: c.now } });
      await audit(tx, c, 'hardship.recorded', r.borrowerId, { reason: r.reason });
      return;
    case 'agreement': {
      const q = r.quote;
      await tx.agreement.create({
        data: {
          id: q.reference,
          borrowerId: r.borrowerId,
          conversationId: c.conversationId,
          kind: q.kind,
          amountFen: toFen(money(q.amount)),
          loanIds: JSON.stringify(q.loanIds),
          shown: JSON.stringify(q),
          hardshipReason: r.hardship ?? null,
          shownAt: new Date(q.quotedAt),
          confirmedAt: new Date(r.confirmedAt),
          payments: { create: q.schedule.map((p) => ({ number: p.number, dueDate: p.dueDate, amountFen: toFen(money(p.amount)) })) },
        },
      });
      await audit(tx, c, 'agreement.confirmed', r.borrowerId, { reference: q.reference, kind: q.kind, amount: q.amount });
      return;
    }
    case 'handoff': {
      const id = `HO-${randomUUID().slice(0, 8).toUpperCase()}`;
      // The last messages (this turn's are already written above), so the agent sees at a glance what was said.
      const recent = await tx.message.findMany({ where: { conversationId: c.conversationId }, orderBy: { id: 'desc' }, take: 6 });
      const lastMessages = recent.reverse().map((m) => ({ direction: m.direction, text: m.text }));
      await tx.handoff.create({
        data: {
          id,
          conversationId: c.conversationId,
          borrowerId: r.borrowerId ?? null,
          rule: r.rule,
          priority: r.priority,
          status: 'queued',
          summary: JSON.stringify({ ...r.summary, lastMessages }),
          createdAt: c.now,
        },
      });
      await audit(tx, c, 'handoff.queued', r.borrowerId, { id, rule: r.rule, priority: r.priority });
      return id;
    }
  }
}
