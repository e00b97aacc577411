import { randomBytes } from 'node:crypto';
import { fromFen, money, toFen } from '../machines/domain/money';
import { auditByBot } from './botAudit';
import type { Db } from './client';
import { asDate, placeholders, type Sql, type Tx } from './sql';

/**
 * Proofs of payment and complaints in the database: what a turn writes (inside the turn's
 * transaction, so the record, its audit row and the conversation's new state land together or
 * not at all) and what the conversation reads back.
 */
export const PAYMENT_METHODS = ['bank_transfer', 'alipay', 'wechat_pay', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export const COMPLAINT_CATEGORIES = ['collection_conduct', 'fees_and_penalties', 'privacy', 'repayment_processing', 'service', 'other'] as const;
export type ComplaintCategory = (typeof COMPLAINT_CATEGORIES)[number];
export const COMPLAINT_STATUSES = ['received', 'acknowledged', 'in_progress', 'resolved'] as const;
export const PROOF_STATUSES = ['pending_review', 'verified', 'rejected'] as const;

export interface ProofRecord {
  /** PP-XXXXXXXX from newReference('PP'). */
  receipt: string;
  borrowerId: string;
  sha256?: string;
  fileType?: string;
  fileSize?: number;
  /** "3500.00" */
  amount: string;
  /** YYYY-MM-DD */
  paidOn: string;
  method: PaymentMethod;
  reference?: string;
}

export interface ComplaintRecord {
  /** CP-XXXXXXXX from newReference('CP'). */
  ticket: string;
  borrowerId: string;
  category: ComplaintCategory;
  description: string;
  desiredOutcome: string;
  /** YYYY-MM-DD, from complaintDueDate. */
  dueDate: string;
}

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** A receipt or ticket number: 8 characters without look-alikes (0/O, 1/I). 256 % 32 = 0, so unbiased. */
export function newReference(prefix: 'PP' | 'CP'): string {
  return `${prefix}-${[...randomBytes(8)].map((b) => ALPHABET[b % ALPHABET.length]).join('')}`;
}

/** Conduct and privacy complaints go to a person (the escalation rules read this). */
export function complaintSeverity(category: ComplaintCategory): 'high' | 'normal' {
  return category === 'collection_conduct' || category === 'privacy' ? 'high' : 'normal';
}

/** "tx 2026 1122-01" and "TX20261122-01" are the same transfer: compare references without case or spaces. */
function normalizeReference(reference: string): string {
  return reference.replace(/\s+/g, '').toUpperCase();
}

/** The proof already received for the same file, or for the same method + reference. */
export async function findDuplicateProof(db: Db, q: { sha256?: string; method?: string; reference?: string }): Promise<{ id: string; status: string } | null> {
  const reference = q.reference === undefined ? '' : normalizeReference(q.reference);
  const or = [...(q.sha256 ? [{ sha256: q.sha256 }] : []), ...(q.method && reference ? [{ method: q.method, reference }] : [])];
  if (or.length === 0) return null;
  return db.proof.findFirst({ where: { OR: or }, select: { id: true, status: true }, orderBy: { createdAt: 'asc' } });
}

/** The unique values a proof's row takes, as names for sql.transaction's `shared`: its file, its method and reference. */
export function proofUniqueNames(r: { sha256?: string; method: string; reference?: string }): string[] {
  return [...(r.sha256 ? [`Proof:${r.sha256}`] : []), ...(r.reference === undefined ? [] : [`Proof:${r.method}:${normalizeReference(r.reference)}`])];
}

/**
 * Called by the conversation store inside the turn's transaction. A duplicate that slipped past
 * findDuplicateProof (two turns at once) fails the unique index, which rolls the turn back and
 * re-runs it; the re-run finds the duplicate.
 */
export function writeProofRecord(tx: Tx, r: ProofRecord, at: Date, conversationId: string): void {
  tx.insert(
    'INSERT INTO "Proof" ("id", "borrowerId", "conversationId", "sha256", "fileType", "fileSize", "amountFen", "paidOn", "method", "reference", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [r.receipt, r.borrowerId, conversationId, r.sha256 ?? null, r.fileType ?? null, r.fileSize ?? null, toFen(money(r.amount)), r.paidOn, r.method, r.reference === undefined ? null : normalizeReference(r.reference), at],
  );
  auditByBot(tx, at, 'proof.received', r.borrowerId, conversationId, { receipt: r.receipt, amount: r.amount, paidOn: r.paidOn, method: r.method, file: r.sha256 ?? null });
}

export function writeComplaintRecord(tx: Tx, r: ComplaintRecord, at: Date, conversationId: string): void {
  const severity = complaintSeverity(r.category);
  tx.insert(
    'INSERT INTO "Complaint" ("id", "borrowerId", "conversationId", "category", "severity", "description", "desiredOutcome", "dueDate", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [r.ticket, r.borrowerId, conversationId, r.category, severity, r.description, r.desiredOutcome, r.dueDate, at, new Date()],
  );
  tx.insert('INSERT INTO "ComplaintUpdate" ("complaintId", "status", "by", "at") VALUES (?, \'received\', \'bot\', ?)', [r.ticket, at]);
  auditByBot(tx, at, 'complaint.filed', r.borrowerId, conversationId, { ticket: r.ticket, category: r.category, severity, dueDate: r.dueDate });
}

export interface ComplaintView {
  ticket: string;
  category: string;
  status: string;
  dueDate: string;
  /** ISO instant: the conversation keeps it in a JSON snapshot. */
  createdAt: string;
  resolution?: string;
}

/** The borrower's complaints, newest first. */
export async function complaintsOf(db: Db, borrowerId: string): Promise<ComplaintView[]> {
  const rows = await db.complaint.findMany({ where: { borrowerId }, orderBy: { createdAt: 'desc' } });
  return rows.map((c) => ({
    ticket: c.id,
    category: c.category,
    status: c.status,
    dueDate: c.dueDate,
    createdAt: c.createdAt.toISOString(),
    ...(c.resolution ? { resolution: c.resolution } : {}),
  }));
}

/** A review decision or complaint resolution the borrower has not been shown yet. */
export type Outcome =
  | { kind: 'proof'; id: string; status: 'verified' | 'rejected'; reason?: string; amount: string; paidOn: string; decidedAt: string }
  | { kind: 'complaint'; id: string; resolution: string; decidedAt: string };

/**
 * Shown right after the borrower is verified: the proactive notice only says there is news, since
 * whoever holds the phone may not be the borrower. Oldest first.
 */
export async function unnotifiedOutcomes(sql: Sql, borrowerId: string): Promise<Outcome[]> {
  const [proofs, complaints] = await Promise.all([
    sql.all<{ id: string; status: 'verified' | 'rejected'; reviewReason: string | null; amountFen: number; paidOn: string; reviewedAt: unknown; createdAt: unknown }>(
      'SELECT "id", "status", "reviewReason", "amountFen", "paidOn", "reviewedAt", "createdAt" FROM "Proof" WHERE "borrowerId" = ? AND "status" IN (\'verified\', \'rejected\') AND "outcomeNotifiedAt" IS NULL',
      [borrowerId],
    ),
    sql.all<{ id: string; resolution: string | null; resolvedAt: unknown; updatedAt: unknown }>(
      'SELECT "id", "resolution", "resolvedAt", "updatedAt" FROM "Complaint" WHERE "borrowerId" = ? AND "status" = \'resolved\' AND "outcomeNotifiedAt" IS NULL',
      [borrowerId],
    ),
  ]);
  const outcomes: Outcome[] = [
    ...proofs.map((p) => ({
      kind: 'proof' as const,
      id: p.id,
      status: p.status,
      ...(p.reviewReason ? { reason: p.reviewReason } : {}),
      amount: fromFen(Number(p.amountFen)).toFixed(2),
      paidOn: p.paidOn,
      decidedAt: asDate(p.reviewedAt ?? p.createdAt).toISOString(),
    })),
    ...complaints.map((c) => ({ kind: 'complaint' as const, id: c.id, resolution: c.resolution ?? '', decidedAt: asDate(c.resolvedAt ?? c.updatedAt).toISOString() })),
  ];
  return outcomes.sort((a, b) => a.decidedAt.localeCompare(b.decidedAt) || a.id.localeCompare(b.id));
}

/** After the borrower was shown them (ids of proofs and complaints alike), inside that turn's transaction. */
export function markOutcomesNotified(tx: Tx, ids: readonly string[], at: Date): void {
  if (ids.length === 0) return;
  const among = `"id" IN (${placeholders(ids.length)}) AND "outcomeNotifiedAt" IS NULL`;
  tx.write(`UPDATE "Proof" SET "outcomeNotifiedAt" = ? WHERE ${among}`, [at, ...ids]);
  tx.write(`UPDATE "Complaint" SET "outcomeNotifiedAt" = ?, "updatedAt" = ? WHERE ${among}`, [at, new Date(), ...ids]);
}
