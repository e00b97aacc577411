import { randomUUID } from 'node:crypto';
import { money, toFen } from '../machines/domain/money';
import type { TurnRecord } from '../machines/conversationTypes';
import { markOutcomesNotified, proofUniqueNames, writeComplaintRecord, writeProofRecord, type ProofRecord } from './proofs';
import { isUniqueViolation } from './writeErrors';
import { auditByBot } from './botAudit';
import { asDate, placeholders, valueRows, type SqlDatabase, type Tx } from './sql';

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

/** What a turn starts from. */
export interface TurnStart {
  /** The conversation; null when it is new. */
  stored: StoredConversation | null;
  /** The replies this activity already got, when a channel sends it again. */
  earlier?: unknown[];
  /** Whether the conversation, or its borrower, opted out of proactive messages. */
  optedOut: boolean;
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
  /** The borrower read with that version (null when none, or new). */
  expectedBorrowerId: string | null;
  now: Date;
  inbound: StoredMessage | null;
  outbound: StoredMessage[];
  records: TurnRecord[];
  /** The inbound activity's key and the replies it gets, so a retry of it is answered the same. */
  processed?: { key: string; replies: unknown[] };
  /** The conversation or its borrower may have opted out (as read at the start, or newly verified): an inbound message opts them back in. */
  mayHaveOptedOut: boolean;
}

/** Another turn of the same conversation committed first: re-run this one on its result. */
export class ConcurrentTurnError extends Error {
  constructor(conversationId: string) {
    super(`conversation ${conversationId} changed during the turn`);
  }
}

interface ConversationRow {
  id: string | null;
  channelId: string;
  reference: string;
  snapshot: string;
  flowVersion: string;
  version: number;
  locale: string;
  borrowerId: string | null;
  lastActivityAt: unknown;
  earlier: string | null;
  optedOut: number | string;
}

/** Reads and writes a conversation's turns with plain SQL (see ./sql for why not Prisma here). */
export function createConversationStore(sql: SqlDatabase) {
  return {
    /**
     * One read for the start of a turn (on PostgreSQL one round trip instead of three); the
     * opt-out is looked up under contactKeys' two keys, the borrower's from the stored row.
     */
    async start(conversationId: string, processedKey: string | undefined): Promise<TurnStart> {
      const [row] = await sql.all<ConversationRow>(
        'SELECT c."id", c."channelId", c."reference", c."snapshot", c."flowVersion", c."version", c."locale", c."borrowerId", c."lastActivityAt", ' +
          '(SELECT p."replies" FROM "ProcessedActivity" p WHERE p."key" = ?) AS "earlier", ' +
          '(SELECT COUNT(*) FROM "ContactPreference" o WHERE o."key" IN (?, \'borrower:\' || c."borrowerId") AND o."optedOut" = ?) AS "optedOut" ' +
          'FROM (SELECT 1 AS "one") AS x LEFT JOIN "Conversation" c ON c."id" = ?',
        [processedKey ?? null, conversationContactKey(conversationId), true, conversationId],
      );
      if (!row) throw new Error('the turn start query returned no row');
      const stored: StoredConversation | null =
        row.id === null
          ? null
          : {
              id: row.id,
              channelId: row.channelId,
              reference: JSON.parse(row.reference) as Record<string, unknown>,
              snapshot: JSON.parse(row.snapshot) as unknown,
              flowVersion: row.flowVersion,
              version: Number(row.version),
              locale: row.locale,
              borrowerId: row.borrowerId,
              lastActivityAt: asDate(row.lastActivityAt),
            };
      return { stored, optedOut: Number(row.optedOut) > 0, ...(row.earlier === null ? {} : { earlier: JSON.parse(row.earlier) as unknown[] }) };
    },

    /**
     * Writes everything a turn produced in ONE transaction, guarded by the version read at its
     * start: either all of it lands on top of that version, or nothing does.
     */
    async commitTurn(c: TurnCommit): Promise<{ handoffIds: string[] }> {
      const fields = [c.channelId, c.locale, JSON.stringify(c.reference), JSON.stringify(c.snapshot), c.flowVersion, c.now, new Date()];
      try {
        return await sql.transaction(async (tx) => {
          const handoffIds: string[] = [];
          if (c.expectedVersion === null) {
            // Started at the bot's clock (APP_NOW), like everything else the reports count.
            tx.insert(
              'INSERT INTO "Conversation" ("channelId", "locale", "reference", "snapshot", "flowVersion", "lastActivityAt", "updatedAt", "borrowerId", "id", "createdAt", "version") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)',
              [...fields, c.borrowerId, c.conversationId, c.now],
            );
          } else {
            // The borrower is set only when it changes: SQLite rewrites an index entry for every
            // indexed column an UPDATE sets, even to the same value: a page of the log every turn.
            const sameBorrower = c.borrowerId === c.expectedBorrowerId;
            tx.updateOne(
              `UPDATE "Conversation" SET "channelId" = ?, "locale" = ?, "reference" = ?, "snapshot" = ?, "flowVersion" = ?, "lastActivityAt" = ?, "updatedAt" = ?, "version" = ?${sameBorrower ? '' : ', "borrowerId" = ?'} WHERE "id" = ? AND "version" = ?`,
              [...fields, c.expectedVersion + 1, ...(sameBorrower ? [] : [c.borrowerId]), c.conversationId, c.expectedVersion],
              () => new ConcurrentTurnError(c.conversationId),
            );
          }
          const messages = [
            ...(c.inbound ? [{ direction: 'in', ...c.inbound }] : []),
            ...c.outbound.map((m) => ({ direction: 'out', ...m })),
          ];
          // Rows of one VALUES list are inserted one after another, so ids follow the messages' order
          // (the Direct Line watermark relies on it).
          if (messages.length) {
            tx.insert(
              `INSERT INTO "Message" ("conversationId", "direction", "activityId", "text", "activity", "createdAt") VALUES ${valueRows(messages.length, 6)}`,
              messages.flatMap((m) => [c.conversationId, m.direction, m.activityId ?? null, m.text, JSON.stringify(m.activity), c.now]),
            );
          }
          for (const r of c.records) {
            const created = await writeRecord(tx, r, c);
            if (created) handoffIds.push(created);
          }
          // A borrower who opted out and writes again is opted back in.
          if (optsBackIn(c)) await optBackIn(tx, c);
          if (c.processed) tx.insert('INSERT INTO "ProcessedActivity" ("key", "replies", "at") VALUES (?, ?, ?)', [c.processed.key, JSON.stringify(c.processed.replies), c.now]);
          return { handoffIds };
        }, sharedRowsOf(c));
      } catch (e) {
        if (isUniqueViolation(e)) throw new ConcurrentTurnError(c.conversationId);
        throw e;
      }
    },

    /** The id of the conversation's handoff that is waiting for or with a person, if any. */
    async openHandoff(conversationId: string): Promise<string | undefined> {
      const [open] = await sql.all<{ id: string }>(
        'SELECT "id" FROM "Handoff" WHERE "conversationId" = ? AND "status" IN (\'queued\', \'active\') ORDER BY "createdAt" DESC LIMIT 1',
        [conversationId],
      );
      return open?.id;
    },

    async activitiesAfter(conversationId: string, afterId: number): Promise<Array<{ id: number; activity: Record<string, unknown> }>> {
      const rows = await sql.all<{ id: number; activity: string }>(
        'SELECT "id", "activity" FROM "Message" WHERE "conversationId" = ? AND "id" > ? ORDER BY "id" ASC LIMIT 200',
        [conversationId, afterId],
      );
      return rows.map((r) => ({ id: Number(r.id), activity: JSON.parse(r.activity) as Record<string, unknown> }));
    },
  };
}

export type ConversationStore = ReturnType<typeof createConversationStore>;

const audit = (tx: Tx, c: TurnCommit, action: string, borrowerId: string | null | undefined, details: Record<string, unknown>) => auditByBot(tx, c.now, action, borrowerId, c.conversationId, details);

const conversationContactKey = (conversationId: string) => `conversation:${conversationId}`;
const borrowerContactKeys = (borrowerId: string | null | undefined) => (borrowerId ? [`borrower:${borrowerId}`] : []);

/** The contact preference rows a conversation's turn touches: its own, and its borrower's once verified. */
export const contactKeys = (conversationId: string, borrowerId: string | null | undefined) => [conversationContactKey(conversationId), ...borrowerContactKeys(borrowerId)];

const optsBackIn = (c: TurnCommit) => c.inbound !== null && c.mayHaveOptedOut && !c.records.some((r) => r.kind === 'contactPreference');

/**
 * What the turn writes that another conversation's turn may write too (sql.transaction's `shared`),
 * each named by its table: rows it updates that are not the conversation's own (contact
 * preferences, identity locks, the agreements it replaces, the outcomes it marks notified) and
 * unique values it inserts (a proof's file, its method and reference). Every other row it writes
 * is the conversation's own or new.
 */
function sharedRowsOf(c: TurnCommit): string[] {
  // The conversation's own contact preference is written by its turns alone; its borrower's by any of theirs.
  const contact = (borrowerId: string | null | undefined) => borrowerContactKeys(borrowerId).map((key) => `ContactPreference:${key}`);
  const names = optsBackIn(c) ? contact(c.borrowerId) : [];
  for (const r of c.records) {
    if (r.kind === 'identityLock') names.push(...r.keys.map((key) => `IdentityLock:${key}`));
    else if (r.kind === 'contactPreference') names.push(...contact(r.borrowerId));
    else if (r.kind === 'agreement' && r.quote.replaces?.length) names.push(`Agreement:${r.borrowerId}`);
    else if (r.kind === 'outcomesNotified') names.push(`outcomes:${c.borrowerId}`);
    else if (r.kind === 'proof') names.push(...proofUniqueNames(proofRow(r)));
  }
  return names;
}

async function optBackIn(tx: Tx, c: TurnCommit): Promise<void> {
  const keys = contactKeys(c.conversationId, c.borrowerId);
  const changed = await tx.run(`UPDATE "ContactPreference" SET "optedOut" = ?, "changedAt" = ?, "conversationId" = ? WHERE "key" IN (${placeholders(keys.length)}) AND "optedOut" = ?`, [
    false,
    c.now,
    c.conversationId,
    ...keys,
    true,
  ]);
  if (changed > 0) audit(tx, c, 'contact.optedIn', c.borrowerId, { reason: 'wroteAgain' });
}

const proofRow = (r: Extract<TurnRecord, { kind: 'proof' }>): ProofRecord => ({
  receipt: r.receipt,
  borrowerId: r.borrowerId,
  amount: r.amount,
  paidOn: r.paidOn,
  method: r.method,
  ...(r.reference ? { reference: r.reference } : {}),
  ...(r.file ? { sha256: r.file.sha256, fileType: r.file.fileType, fileSize: r.file.size } : {}),
});

/** Writes one record; returns the id of a handoff it created. */
async function writeRecord(tx: Tx, r: TurnRecord, c: TurnCommit): Promise<string | undefined> {
  switch (r.kind) {
    case 'identityAttempt':
      if (r.keys.length) {
        tx.insert(
          `INSERT INTO "IdentityAttempt" ("key", "conversationId", "at", "success") VALUES ${valueRows(r.keys.length, 4)}`,
          r.keys.flatMap((key) => [key, c.conversationId, c.now, r.success]),
        );
      }
      return;
    case 'identityLock':
      for (const key of r.keys) {
        tx.write('INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?) ON CONFLICT ("key") DO UPDATE SET "until" = excluded."until"', [key, new Date(r.until)]);
      }
      return;
    case 'audit':
      audit(tx, c, r.action, r.borrowerId, r.details);
      return;
    case 'proof':
      writeProofRecord(tx, proofRow(r), c.now, c.conversationId);
      return;
    case 'complaint':
      writeComplaintRecord(tx, { ticket: r.ticket, borrowerId: r.borrowerId, category: r.category, description: r.description, desiredOutcome: r.desiredOutcome, dueDate: r.dueDate }, c.now, c.conversationId);
      return;
    case 'outcomesNotified':
      markOutcomesNotified(tx, r.ids, c.now);
      return;
    case 'contactPreference':
      for (const key of contactKeys(r.conversationId, r.borrowerId)) {
        tx.write(
          'INSERT INTO "ContactPreference" ("key", "conversationId", "borrowerId", "optedOut", "changedAt") VALUES (?, ?, ?, ?, ?) ON CONFLICT ("key") DO UPDATE SET "conversationId" = excluded."conversationId", "borrowerId" = excluded."borrowerId", "optedOut" = excluded."optedOut", "changedAt" = excluded."changedAt"',
          [key, r.conversationId, r.borrowerId ?? null, r.optedOut, c.now],
        );
      }
      audit(tx, c, 'contact.optedOut', r.borrowerId, {});
      return;
    case 'hardship':
      tx.insert('INSERT INTO "HardshipReport" ("borrowerId", "conversationId", "reason", "at") VALUES (?, ?, ?, ?)', [r.borrowerId, c.conversationId, r.reason, c.now]);
      audit(tx, c, 'hardship.recorded', r.borrowerId, { reason: r.reason });
      return;
    case 'agreement': {
      const q = r.quote;
      tx.insert(
        'INSERT INTO "Agreement" ("id", "borrowerId", "conversationId", "kind", "amountFen", "loanIds", "shown", "hardshipReason", "shownAt", "confirmedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [q.reference, r.borrowerId, c.conversationId, q.kind, toFen(money(q.amount)), JSON.stringify(q.loanIds), JSON.stringify(q), r.hardship ?? null, new Date(q.quotedAt), new Date(r.confirmedAt)],
      );
      if (q.schedule.length) {
        tx.insert(
          `INSERT INTO "PlanPayment" ("agreementId", "number", "dueDate", "amountFen") VALUES ${valueRows(q.schedule.length, 4)}`,
          q.schedule.flatMap((p) => [q.reference, p.number, p.dueDate, toFen(money(p.amount))]),
        );
      }
      // Only what the quote showed, and only while still active (it may have been replaced meanwhile).
      if (q.replaces?.length) {
        tx.write(`UPDATE "Agreement" SET "status" = 'replaced' WHERE "borrowerId" = ? AND "status" = 'active' AND "id" IN (${placeholders(q.replaces.length)})`, [r.borrowerId, ...q.replaces]);
      }
      audit(tx, c, 'agreement.confirmed', r.borrowerId, { reference: q.reference, kind: q.kind, amount: q.amount, ...(q.replaces?.length ? { replaces: q.replaces } : {}) });
      return;
    }
    case 'handoff': {
      const id = `HO-${randomUUID().slice(0, 8).toUpperCase()}`;
      // The last messages (this turn's are already written above), so the agent sees at a glance what was said.
      const recent = await tx.all<{ direction: string; text: string }>('SELECT "direction", "text" FROM "Message" WHERE "conversationId" = ? ORDER BY "id" DESC LIMIT 6', [c.conversationId]);
      const lastMessages = recent.reverse().map((m) => ({ direction: m.direction, text: m.text }));
      tx.insert('INSERT INTO "Handoff" ("id", "conversationId", "borrowerId", "rule", "priority", "status", "summary", "createdAt") VALUES (?, ?, ?, ?, ?, \'queued\', ?, ?)', [
        id,
        c.conversationId,
        r.borrowerId ?? null,
        r.rule,
        r.priority,
        JSON.stringify({ ...r.summary, lastMessages }),
        c.now,
      ]);
      audit(tx, c, 'handoff.queued', r.borrowerId, { id, rule: r.rule, priority: r.priority });
      return id;
    }
  }
}
