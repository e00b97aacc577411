import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import { cleanText } from './activitySchema';
import type { Db } from '../db/client';
import { COMPLAINT_STATUSES, PROOF_STATUSES } from '../db/proofs';
import { localDateOf } from '../machines/domain/calendar';
import { daysLeft, isBreached } from '../machines/domain/deadlines';
import { fromFen } from '../machines/domain/money';
import { extensionOf } from '../proofs/fileType';
import type { FileStore } from '../proofs/fileStore';
import type { Logger } from './logger';

/**
 * Staff APIs for proofs of payment and complaints (JSON):
 *   GET  /api/review/proofs?status=pending_review|verified|rejected
 *   GET  /api/review/proofs/:id/file
 *   POST /api/review/proofs/:id        {decision: verified|rejected, reason?}
 *   GET  /api/complaints?status=received|acknowledged|in_progress|resolved|open
 *   POST /api/complaints/:id           {status: acknowledged|in_progress|resolved, resolution?, note?}
 * Every change is audited with the member of staff as actor. After a decision or a resolution the
 * reminder scheduler (db/reminderScheduler.ts) runs at once and tells the borrower within the
 * contact rules (quiet hours, caps, opt-out), saying only that there is news: the details wait
 * until they are verified again (db/proofs.ts unnotifiedOutcomes), so nothing leaks to whoever
 * holds the phone.
 */
type Role = 'agent' | 'supervisor' | 'staff';
const ROLES: Role[] = ['agent', 'supervisor', 'staff'];

export interface ReviewApiDeps {
  db: Db;
  /** Answers 401/403 itself and returns undefined when the request may not proceed. */
  authorize: (req: Request, res: Response, roles: Role[]) => Promise<{ username: string; role: string } | undefined>;
  /** A decision or resolution was stored: the reminder scheduler's pass that tells the borrower. */
  outcomeDecided: () => Promise<unknown>;
  files: FileStore;
  clock: () => Date;
  timeZone: string;
  logger: Logger;
}

const limit = z.coerce.number().int().min(1).max(500).default(100);
const proofQuery = z.object({ status: z.enum(PROOF_STATUSES).default('pending_review'), limit });
const complaintQuery = z.object({ status: z.enum([...COMPLAINT_STATUSES, 'open']).optional(), limit });
/** Control characters are dropped first: the database must be able to store whatever passes. */
const text = (max: number) => z.preprocess((v) => (typeof v === 'string' ? cleanText(v) : v), z.string().trim().min(1).max(max));
const decisionBody = z
  .strictObject({ decision: z.enum(['verified', 'rejected']), reason: text(500).optional() })
  .refine((b) => b.decision !== 'rejected' || b.reason !== undefined, { message: 'a reason is required to reject a proof', path: ['reason'] });
const complaintBody = z
  .strictObject({ status: z.enum(['acknowledged', 'in_progress', 'resolved']), resolution: text(2000).optional(), note: text(2000).optional() })
  .refine((b) => (b.status === 'resolved') === (b.resolution !== undefined), { message: 'a resolution is required to resolve a complaint, and only then', path: ['resolution'] });
/** Ids are only looked up; anything unlike ours (PP-…, CP-…) cannot exist. */
const idParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

type Parsed<T> = { ok: true; value: T } | { ok: false };

export function registerReviewApi(server: Server, deps: ReviewApiDeps): void {
  const { db, files, clock, timeZone, logger } = deps;

  /** An authorised handler; an unexpected failure is logged and answered 500 without details. */
  const route =
    (handler: (req: Request, res: Response, actor: string) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        const staff = await deps.authorize(req, res, ROLES);
        if (!staff) return;
        await handler(req, res, `${staff.role === 'staff' ? 'staff' : 'agent'}:${staff.username}`);
      } catch (e) {
        logger.error({ err: e, path: req.getPath() }, 'review API failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      }
    };

  const audit = (tx: Db, actor: string, action: string, row: { borrowerId: string; conversationId: string }, details: Record<string, unknown>) =>
    tx.auditLog.create({ data: { at: clock(), actor, action, borrowerId: row.borrowerId, conversationId: row.conversationId, details: JSON.stringify(details) } });

  /** Not awaited by the answer; a failed pass is retried by the scheduler's next one, and the outcome is shown at the next verification anyway. */
  const notify = () => void deps.outcomeDecided().catch((e: unknown) => logger.warn({ err: e }, 'reminder pass after an outcome failed; the next pass retries'));

  server.get(
    '/api/review/proofs',
    route(async (req, res) => {
      const q = parse(proofQuery, queryOf(req), res);
      if (!q.ok) return;
      const pending = q.value.status === 'pending_review';
      const rows = await db.proof.findMany({
        where: { status: q.value.status },
        // The queue oldest first; decisions most recent first.
        orderBy: pending ? [{ createdAt: 'asc' }, { id: 'asc' }] : [{ reviewedAt: 'desc' }, { id: 'asc' }],
        take: q.value.limit,
      });
      sendJson(res, 200, { proofs: rows.map(proofView) });
    }),
  );

  server.get(
    '/api/review/proofs/:id/file',
    route(async (req, res, actor) => {
      const proof = await findById(req, res, 'proof', (id) => db.proof.findUnique({ where: { id } }));
      if (!proof) return;
      if (!proof.sha256 || !proof.fileType) return sendJson(res, 404, { error: `proof ${proof.id} has no file` });
      let bytes: Buffer;
      try {
        bytes = await files.read(proof.sha256);
      } catch (e) {
        logger.error({ err: e, proof: proof.id }, 'proof file missing from storage');
        return sendJson(res, 404, { error: `the file of proof ${proof.id} is missing from storage` });
      }
      // Who looked at a borrower's documents is worth knowing as much as who changed them.
      await audit(db, actor, 'proof.fileViewed', proof, { receipt: proof.id });
      res.sendRaw(200, bytes, {
        'Content-Type': proof.fileType,
        'Content-Length': bytes.length,
        // Downloaded, never rendered in the console's origin: the bytes came from a borrower.
        'Content-Disposition': `attachment; filename="${proof.id.replace(/[^\w-]/g, '_')}.${extensionOf(proof.fileType)}"`,
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        'Cache-Control': 'no-store',
      });
    }),
  );

  server.post(
    '/api/review/proofs/:id',
    route(async (req, res, actor) => {
      const body = parse(decisionBody, req.body, res);
      if (!body.ok) return;
      const proof = await findById(req, res, 'proof', (id) => db.proof.findUnique({ where: { id } }));
      if (!proof) return;
      const { decision, reason } = body.value;
      const decided = await db.$transaction(async (tx) => {
        // Only from pending_review: of two reviewers deciding at once, the second gets a 409.
        const { count } = await tx.proof.updateMany({
          where: { id: proof.id, status: 'pending_review' },
          data: { status: decision, reviewReason: reason ?? null, reviewedBy: actor, reviewedAt: clock() },
        });
        if (count === 0) return undefined;
        await audit(tx as Db, actor, `proof.${decision}`, proof, { receipt: proof.id, ...(reason ? { reason } : {}) });
        return tx.proof.findUniqueOrThrow({ where: { id: proof.id } });
      });
      if (!decided) return sendJson(res, 409, { error: `proof ${proof.id} has already been reviewed` });
      sendJson(res, 200, { proof: proofView(decided) });
      notify();
    }),
  );

  server.get(
    '/api/complaints',
    route(async (req, res) => {
      const q = parse(complaintQuery, queryOf(req), res);
      if (!q.ok) return;
      const { status } = q.value;
      const rows = await db.complaint.findMany({
        where: status === 'open' ? { status: { not: 'resolved' } } : status ? { status } : {},
        orderBy: [{ dueDate: 'asc' }, { createdAt: 'asc' }], // most urgent first
        take: q.value.limit,
      });
      const today = localDateOf(clock(), timeZone);
      sendJson(res, 200, { today, complaints: rows.map((c) => complaintView(c, today, timeZone)) });
    }),
  );

  server.post(
    '/api/complaints/:id',
    route(async (req, res, actor) => {
      const body = parse(complaintBody, req.body, res);
      if (!body.ok) return;
      const complaint = await findById(req, res, 'complaint', (id) => db.complaint.findUnique({ where: { id } }));
      if (!complaint) return;
      const { status, resolution, note } = body.value;
      const order: readonly string[] = COMPLAINT_STATUSES;
      if (order.indexOf(status) <= order.indexOf(complaint.status)) {
        return sendJson(res, 409, { error: `complaint ${complaint.id} is ${complaint.status}; its status only moves forward (${COMPLAINT_STATUSES.join(' → ')})` });
      }
      const updated = await db.$transaction(async (tx) => {
        const now = clock();
        const { count } = await tx.complaint.updateMany({
          where: { id: complaint.id, status: complaint.status },
          data: { status, ...(status === 'resolved' ? { resolution: resolution ?? null, resolvedAt: now } : {}) },
        });
        if (count === 0) return undefined;
        await tx.complaintUpdate.create({ data: { complaintId: complaint.id, status, note: resolution ?? note ?? null, by: actor, at: now } });
        await audit(tx as Db, actor, 'complaint.updated', complaint, { ticket: complaint.id, from: complaint.status, to: status, ...(resolution ? { resolution } : {}), ...(note ? { note } : {}) });
        return tx.complaint.findUniqueOrThrow({ where: { id: complaint.id } });
      });
      if (!updated) return sendJson(res, 409, { error: `complaint ${complaint.id} was changed at the same time; reload it` });
      const today = localDateOf(clock(), timeZone);
      sendJson(res, 200, { complaint: complaintView(updated, today, timeZone) });
      if (status === 'resolved') notify();
    }),
  );
}

function sendJson(res: Response, status: number, body: unknown): void {
  res.sendRaw(status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
}

/** From the URL itself, so this does not depend on how the server's queryParser is set up. */
function queryOf(req: Request): Record<string, string> {
  return Object.fromEntries(new URL(req.url ?? '/', 'http://localhost').searchParams);
}

function parse<T>(schema: z.ZodType<T>, input: unknown, res: Response): Parsed<T> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  sendJson(res, 400, { error: 'invalid request', problems });
  return { ok: false };
}

/** The row named by `:id`, or undefined after answering 404. */
async function findById<T>(req: Request, res: Response, what: 'proof' | 'complaint', find: (id: string) => Promise<T | null>): Promise<T | undefined> {
  const id = idParam.safeParse(req.params.id);
  const row = id.success ? await find(id.data) : null;
  if (!row) sendJson(res, 404, { error: `no such ${what}: ${String(req.params.id ?? '').slice(0, 64)}` });
  return row ?? undefined;
}

type ProofRow = Awaited<ReturnType<Db['proof']['findUniqueOrThrow']>>;
type ComplaintRow = Awaited<ReturnType<Db['complaint']['findUniqueOrThrow']>>;

function proofView(p: ProofRow) {
  return {
    id: p.id,
    borrowerId: p.borrowerId,
    conversationId: p.conversationId,
    amount: fromFen(p.amountFen).toFixed(2),
    paidOn: p.paidOn,
    method: p.method,
    reference: p.reference,
    file: p.sha256 && p.fileType ? { type: p.fileType, size: p.fileSize, sha256: p.sha256, url: `/api/review/proofs/${encodeURIComponent(p.id)}/file` } : null,
    status: p.status,
    reviewReason: p.reviewReason,
    reviewedBy: p.reviewedBy,
    reviewedAt: p.reviewedAt?.toISOString() ?? null,
    createdAt: p.createdAt.toISOString(),
  };
}

function complaintView(c: ComplaintRow, today: string, timeZone: string) {
  const resolvedOn = c.resolvedAt ? localDateOf(c.resolvedAt, timeZone) : undefined;
  return {
    id: c.id,
    borrowerId: c.borrowerId,
    conversationId: c.conversationId,
    category: c.category,
    severity: c.severity,
    description: c.description,
    desiredOutcome: c.desiredOutcome,
    status: c.status,
    resolution: c.resolution,
    dueDate: c.dueDate,
    // Nothing is left to count once it is resolved; `breached` then says whether that was late.
    daysLeft: c.status === 'resolved' ? null : daysLeft(c.dueDate, today),
    breached: isBreached(c.dueDate, today, c.status, resolvedOn),
    createdAt: c.createdAt.toISOString(),
    resolvedAt: c.resolvedAt?.toISOString() ?? null,
  };
}
