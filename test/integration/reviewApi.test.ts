import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import restify from 'restify';
import { createLogger } from '../../bot/logger';
import { registerReviewApi } from '../../bot/reviewApi';
import { openDatabase, type Database, type DatabaseKind } from '../../db/client';
import { migrateDatabase } from '../../db/migrator';
import { isUniqueViolation } from '../../db/writeErrors';
import { complaintSeverity, complaintsOf, findDuplicateProof, markOutcomesNotified, newReference, unnotifiedOutcomes, writeComplaintRecord, writeProofRecord, type ComplaintRecord, type ProofRecord } from '../../db/proofs';
import type { Db } from '../../db/client';
import { complaintDueDate } from '../../machines/domain/deadlines';
import { fetchAttachment, type FetchedFile } from '../../proofs/attachmentFetcher';
import { createFileStore, type FileStore } from '../../proofs/fileStore';
import { freshDatabaseUrl } from '../support/databases';

/**
 * The staff review API on a real restify server and a fresh database (TEST_DATABASE=postgres for
 * PostgreSQL), with a fake `authorize` (header `x-test-staff: <username>:<role>`) and a recording
 * `outcomeDecided` (the reminder scheduler's pass that tells the borrower, tested in
 * remindersSending.test.ts). Today is 2026-11-22 in Asia/Shanghai.
 */
const kind: DatabaseKind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const TZ = 'Asia/Shanghai';
const NOW = new Date('2026-11-22T10:00:00+08:00');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

let database: Database;
let db: Db;
let drop: () => Promise<void>;
let server: restify.Server;
let base: string;
let storeDir: string;
let files: FileStore;
/** How many times the API asked for the pass that tells the borrower. */
let outcomePasses = 0;
/** Makes the pass fail, as a channel that is down would. */
let failPass = false;

beforeAll(async () => {
  const fresh = await freshDatabaseUrl(kind);
  drop = fresh.drop;
  await migrateDatabase(fresh.url);
  database = await openDatabase(fresh.url);
  db = database.prisma;
  storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proofs-'));
  files = createFileStore(storeDir);

  server = restify.createServer({ handleUncaughtExceptions: false });
  server.use(restify.plugins.queryParser({ mapParams: false }));
  server.use(restify.plugins.bodyParser({ mapParams: false, rejectUnknown: true }));
  registerReviewApi(server, {
    db,
    files,
    clock: () => NOW,
    timeZone: TZ,
    logger: createLogger('silent'),
    async authorize(req, res, roles) {
      const [username, role] = String(req.headers['x-test-staff'] ?? '').split(':');
      if (!username || !role) return void res.json(401, { error: 'sign in' });
      if (!(roles as string[]).includes(role)) return void res.json(403, { error: 'forbidden' });
      return { username, role };
    },
    async outcomeDecided() {
      outcomePasses++;
      if (failPass) throw new Error('channel unreachable');
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${server.address().port}`;

  for (const [id, locale] of [['webchat:zh', 'zh-CN'], ['webchat:en', 'en'], ['webchat:down', 'en']] as const) {
    await db.conversation.create({ data: { id, channelId: 'webchat', locale, reference: '{}', snapshot: '{}', flowVersion: 'test', borrowerId: 'B1', lastActivityAt: NOW } });
  }
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await database?.close();
  await drop?.();
  fs.rmSync(storeDir, { recursive: true, force: true });
});

beforeEach(() => {
  outcomePasses = 0;
  failPass = false;
});

const AGENT = { 'x-test-staff': 'alice:agent' };
const STAFF = { 'x-test-staff': 'bob:staff' };

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = AGENT) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, json: type.includes('json') ? ((await res.json()) as any) : undefined };
}

/** A proof as the turn writes it: file first, then the record in a transaction. */
async function receiveProof(conversationId: string, fields: Partial<ProofRecord> = {}, file?: FetchedFile, at = NOW): Promise<string> {
  const receipt = newReference('PP');
  if (file) await files.put(file);
  const record: ProofRecord = {
    receipt,
    borrowerId: 'B1',
    amount: '3500.00',
    paidOn: '2026-11-20',
    method: 'bank_transfer',
    ...(file ? { sha256: file.sha256, fileType: file.fileType, fileSize: file.size } : {}),
    ...fields,
  };
  await database.sql.transaction(async (tx) => writeProofRecord(tx, record, at, conversationId));
  return receipt;
}

async function fileComplaint(createdAt: Date, fields: Partial<ComplaintRecord> = {}, conversationId = 'webchat:en'): Promise<string> {
  const ticket = newReference('CP');
  const record: ComplaintRecord = {
    ticket,
    borrowerId: 'B1',
    category: 'service',
    description: 'Nobody called me back',
    desiredOutcome: 'A call',
    dueDate: complaintDueDate(createdAt, TZ),
    ...fields,
  };
  await database.sql.transaction(async (tx) => writeComplaintRecord(tx, record, createdAt, conversationId));
  return ticket;
}

async function pngFile(seed: string): Promise<FetchedFile> {
  // A different file per seed: same signature, different trailing bytes.
  const bytes = Buffer.concat([PNG, Buffer.from(seed)]);
  const r = await fetchAttachment({ contentUrl: `data:image/png;base64,${bytes.toString('base64')}` }, { allowedHosts: [] });
  if (!r.ok) throw new Error(r.reason);
  return r.file;
}

describe('proofs', () => {
  let withFile: string;
  let withoutFile: string;
  let png: FetchedFile;
  beforeAll(async () => {
    png = await pngFile('a');
    withFile = await receiveProof('webchat:en', {}, png, new Date(NOW.getTime() - 60_000));
    withoutFile = await receiveProof('webchat:zh', { method: 'alipay', reference: '2026112200001', amount: '1152.6' });
  });

  test('staff only', async () => {
    expect((await call('GET', '/api/review/proofs', undefined, {})).status).toBe(401);
    expect((await call('GET', '/api/review/proofs', undefined, { 'x-test-staff': 'eve:borrower' })).status).toBe(403);
  });

  test('the pending queue, oldest first, amounts as shown to the borrower', async () => {
    const r = await call('GET', '/api/review/proofs');
    expect(r.status).toBe(200);
    const mine = r.json.proofs.filter((p: any) => [withFile, withoutFile].includes(p.id));
    expect(mine).toEqual([
      expect.objectContaining({ id: withFile, amount: '3500.00', method: 'bank_transfer', status: 'pending_review', file: { type: 'image/png', size: png.size, sha256: png.sha256, url: `/api/review/proofs/${withFile}/file` } }),
      expect.objectContaining({ id: withoutFile, amount: '1152.60', method: 'alipay', reference: '2026112200001', file: null }),
    ]);
  });

  test('the file, as a download of its real type that browsers must not sniff; viewing is audited', async () => {
    const res = await fetch(`${base}/api/review/proofs/${withFile}/file`, { headers: AGENT });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${withFile}.png"`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(png.bytes);
    expect(await db.auditLog.count({ where: { action: 'proof.fileViewed', actor: 'agent:alice' } })).toBe(1);
    expect((await call('GET', `/api/review/proofs/${withoutFile}/file`)).status).toBe(404);
    expect((await call('GET', '/api/review/proofs/PP-NOSUCH00/file')).status).toBe(404);
  });

  test('bad input is a 400 naming the problem, an unknown id a 404, never a 500', async () => {
    const bad = async (body: unknown) => {
      const r = await call('POST', `/api/review/proofs/${withoutFile}`, body);
      expect(r.status).toBe(400);
      return r.json;
    };
    expect((await bad({ decision: 'rejected' })).problems).toEqual(['reason: a reason is required to reject a proof']);
    expect((await bad({ decision: 'rejected', reason: '   ' })).problems[0]).toMatch(/^reason:/);
    expect((await bad({ decision: 'maybe' })).problems[0]).toMatch(/^decision:/);
    expect((await bad({ decision: 'verified', decison: 'x' })).problems[0]).toMatch(/decison/);
    expect((await bad([])).error).toBe('invalid request');
    expect((await bad({})).problems[0]).toMatch(/^decision:/);
    expect((await call('POST', `/api/review/proofs/${withoutFile}`, '{"decision":')).status).toBe(400); // not JSON
    expect((await call('GET', '/api/review/proofs?status=approved')).json.problems[0]).toMatch(/^status:/);
    expect((await call('GET', '/api/review/proofs?limit=0')).status).toBe(400);
    expect((await call('POST', '/api/review/proofs/PP-NOSUCH00', { decision: 'verified' })).status).toBe(404);
    expect((await call('POST', `/api/review/proofs/${'X'.repeat(500)}`, { decision: 'verified' })).status).toBe(404);
    expect(await db.proof.count({ where: { id: withoutFile, status: 'pending_review' } })).toBe(1);
  });

  test('verified: recorded, audited, and the pass that tells the borrower started', async () => {
    const r = await call('POST', `/api/review/proofs/${withFile}`, { decision: 'verified' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ proof: { id: withFile, status: 'verified', reviewedBy: 'agent:alice', reviewedAt: NOW.toISOString() } });
    const audits = await db.auditLog.findMany({ where: { action: 'proof.verified' } });
    expect(audits).toEqual([expect.objectContaining({ actor: 'agent:alice', borrowerId: 'B1', conversationId: 'webchat:en' })]);
    expect(outcomePasses).toBe(1);
    // A second decision on the same proof is a conflict, not an overwrite.
    expect((await call('POST', `/api/review/proofs/${withFile}`, { decision: 'rejected', reason: 'blurred' })).status).toBe(409);
    expect(outcomePasses).toBe(1);
  });

  test('rejected by staff: the reason kept, the notice in the conversation’s language', async () => {
    const r = await call('POST', `/api/review/proofs/${withoutFile}`, { decision: 'rejected', reason: '  金额与流水不符 ' }, STAFF);
    expect(r.json).toMatchObject({ proof: { status: 'rejected', reviewReason: '金额与流水不符', reviewedBy: 'staff:bob' } });
    expect(await db.auditLog.count({ where: { action: 'proof.rejected', actor: 'staff:bob' } })).toBe(1);
    expect(outcomePasses).toBe(1);
    const decided = await call('GET', '/api/review/proofs?status=rejected');
    expect(decided.json.proofs.map((p: any) => p.id)).toContain(withoutFile);
  });

  test('the details wait for the next verification, also when the pass that tells the borrower failed', async () => {
    failPass = true; // a failing pass must not fail the decision already stored
    const receipt = await receiveProof('webchat:down', { amount: '88.00' });
    const r = await call('POST', `/api/review/proofs/${receipt}`, { decision: 'verified' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ proof: { status: 'verified' } });
    expect(outcomePasses).toBe(1);
    const outcomes = await unnotifiedOutcomes(database.sql, 'B1');
    expect(outcomes.filter((o) => o.kind === 'proof').map((o) => o.id).sort()).toEqual([withFile, withoutFile, receipt].sort());
    expect(outcomes).toContainEqual({ kind: 'proof', id: withoutFile, status: 'rejected', reason: '金额与流水不符', amount: '1152.60', paidOn: '2026-11-20', decidedAt: NOW.toISOString() });
    await database.sql.transaction(async (tx) => markOutcomesNotified(tx, [withFile, withoutFile, receipt], NOW));
    expect((await unnotifiedOutcomes(database.sql, 'B1')).filter((o) => o.kind === 'proof')).toEqual([]);
  });
});

describe('complaints', () => {
  let late: string;
  let dueTomorrow: string;
  let fresh: string;
  beforeAll(async () => {
    late = await fileComplaint(new Date('2026-11-01T09:00:00+08:00'), { category: 'collection_conduct' }); // due 11-16
    dueTomorrow = await fileComplaint(new Date('2026-11-07T16:30:00Z')); // 11-08 00:30 in Shanghai: due 11-23
    fresh = await fileComplaint(NOW, {}, 'webchat:zh'); // due 12-07
  });

  test('most urgent first, with due date, days left and breached', async () => {
    const r = await call('GET', '/api/complaints');
    expect(r.status).toBe(200);
    expect(r.json.today).toBe('2026-11-22');
    expect(r.json.complaints.map((c: any) => [c.id, c.dueDate, c.daysLeft, c.breached, c.severity, c.status])).toEqual([
      [late, '2026-11-16', -6, true, 'high', 'received'],
      [dueTomorrow, '2026-11-23', 1, false, 'normal', 'received'],
      [fresh, '2026-12-07', 15, false, 'normal', 'received'],
    ]);
    expect((await call('GET', '/api/complaints?status=open')).json.complaints).toHaveLength(3);
    expect((await call('GET', '/api/complaints?status=resolved')).json.complaints).toEqual([]);
    expect((await call('GET', '/api/complaints?status=closed')).status).toBe(400);
  });

  test('bad updates: 400 or 404, nothing changed', async () => {
    const bad = async (body: unknown) => (await call('POST', `/api/complaints/${late}`, body)).status;
    expect(await bad({ status: 'resolved' })).toBe(400); // without a resolution
    expect(await bad({ status: 'acknowledged', resolution: 'done' })).toBe(400); // a resolution without resolving
    expect(await bad({ status: 'received' })).toBe(400);
    expect(await bad({ status: 'acknowledged', resolution: '' })).toBe(400);
    expect(await bad('nonsense')).toBe(400);
    expect((await call('POST', '/api/complaints/CP-NOSUCH00', { status: 'acknowledged' })).status).toBe(404);
    expect(await db.complaint.count({ where: { id: late, status: 'received' } })).toBe(1);
  });

  test('acknowledged, in progress, resolved: each change audited and in the complaint’s history; only forward', async () => {
    const passesBefore = outcomePasses;
    expect((await call('POST', `/api/complaints/${late}`, { status: 'acknowledged', note: 'Called the borrower' })).json).toMatchObject({ complaint: { status: 'acknowledged' } });
    expect((await call('POST', `/api/complaints/${late}`, { status: 'in_progress' }, STAFF)).status).toBe(200);
    expect((await call('POST', `/api/complaints/${late}`, { status: 'acknowledged' })).status).toBe(409);
    expect(outcomePasses).toBe(passesBefore); // nothing to tell until it is resolved

    const r = await call('POST', `/api/complaints/${late}`, { status: 'resolved', resolution: 'The collector was warned; the calls stop.' });
    expect(r.json).toMatchObject({ complaint: { status: 'resolved', daysLeft: null, breached: true, resolution: 'The collector was warned; the calls stop.' } });
    expect(outcomePasses).toBe(passesBefore + 1);
    expect((await call('POST', `/api/complaints/${late}`, { status: 'resolved', resolution: 'again' })).status).toBe(409);

    const history = await db.complaintUpdate.findMany({ where: { complaintId: late }, orderBy: { id: 'asc' } });
    expect(history.map((u) => [u.status, u.by, u.note])).toEqual([
      ['received', 'bot', null],
      ['acknowledged', 'agent:alice', 'Called the borrower'],
      ['in_progress', 'staff:bob', null],
      ['resolved', 'agent:alice', 'The collector was warned; the calls stop.'],
    ]);
    const audits = await db.auditLog.findMany({ where: { action: 'complaint.updated' }, orderBy: { id: 'asc' } });
    expect(audits.map((a) => [a.actor, JSON.parse(a.details).from, JSON.parse(a.details).to])).toEqual([
      ['agent:alice', 'received', 'acknowledged'],
      ['staff:bob', 'acknowledged', 'in_progress'],
      ['agent:alice', 'in_progress', 'resolved'],
    ]);
    expect(await unnotifiedOutcomes(database.sql, 'B1')).toContainEqual({ kind: 'complaint', id: late, resolution: 'The collector was warned; the calls stop.', decidedAt: NOW.toISOString() });
  });

  test('resolved on time is not breached', async () => {
    const r = await call('POST', `/api/complaints/${fresh}`, { status: 'resolved', resolution: '已回电' });
    expect(r.json).toMatchObject({ complaint: { breached: false, daysLeft: null } });
  });
});

describe('what the conversation reads', () => {
  test('receipt and ticket numbers', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newReference('PP')));
    expect(seen.size).toBe(1000);
    for (const r of seen) expect(r).toMatch(/^PP-[2-9A-HJ-NP-Z]{8}$/);
    expect(newReference('CP')).toMatch(/^CP-[2-9A-HJ-NP-Z]{8}$/);
  });

  test('severity: conduct and privacy are high', () => {
    expect(['collection_conduct', 'privacy', 'fees_and_penalties', 'repayment_processing', 'service', 'other'].map((c) => complaintSeverity(c as never))).toEqual([
      'high', 'high', 'normal', 'normal', 'normal', 'normal',
    ]);
  });

  test('a duplicate is the same file, or the same method and reference however it is typed', async () => {
    const file = await pngFile('duplicate');
    const receipt = await receiveProof('webchat:en', { method: 'wechat_pay', reference: 'wx 4200 0012' }, file);
    expect(await findDuplicateProof(db, { sha256: file.sha256 })).toEqual({ id: receipt, status: 'pending_review' });
    expect(await findDuplicateProof(db, { method: 'wechat_pay', reference: 'WX42000012' })).toEqual({ id: receipt, status: 'pending_review' });
    expect(await findDuplicateProof(db, { sha256: 'f'.repeat(64), method: 'wechat_pay', reference: ' wx4200 0012 ' })).toEqual({ id: receipt, status: 'pending_review' });
    expect(await findDuplicateProof(db, { method: 'alipay', reference: 'WX42000012' })).toBeNull();
    expect(await findDuplicateProof(db, { method: 'wechat_pay' })).toBeNull();
    expect(await findDuplicateProof(db, {})).toBeNull();
    // Two turns at once: the second record fails the unique index (and its turn is re-run).
    const twice = await receiveProof('webchat:en', { method: 'wechat_pay', reference: 'WX42000012' }).catch((e: unknown) => e);
    expect(isUniqueViolation(twice)).toBe(true);
  });

  test('the borrower’s complaints, newest first', async () => {
    const older = await fileComplaint(new Date('2026-10-01T09:00:00+08:00'), {}, 'webchat:en');
    const newer = await fileComplaint(new Date('2026-10-02T09:00:00+08:00'), { category: 'privacy' }, 'webchat:en');
    await db.complaint.update({ where: { id: older }, data: { status: 'resolved', resolution: 'Apologised', resolvedAt: NOW } });
    const mine = (await complaintsOf(db, 'B1')).filter((c) => [older, newer].includes(c.ticket));
    expect(mine).toEqual([
      { ticket: newer, category: 'privacy', status: 'received', dueDate: '2026-10-17', createdAt: '2026-10-02T01:00:00.000Z' },
      { ticket: older, category: 'service', status: 'resolved', dueDate: '2026-10-16', createdAt: '2026-10-01T01:00:00.000Z', resolution: 'Apologised' },
    ]);
    expect(await complaintsOf(db, 'nobody')).toEqual([]);
  });
});

describe('files and records across a restart', () => {
  test('a new file store on the same directory and a new connection see the same files and records', async () => {
    const file = await pngFile('restart');
    const receipt = await receiveProof('webchat:en', {}, file);
    await files.put(file); // idempotent

    const reopened = await openDatabase(database.url);
    try {
      const again = createFileStore(storeDir);
      const row = await reopened.prisma.proof.findUniqueOrThrow({ where: { id: receipt } });
      expect(row.sha256).toBe(file.sha256);
      expect(await again.has(file.sha256)).toBe(true);
      expect(await again.read(file.sha256)).toEqual(file.bytes);
      expect(again.path(file.sha256)).toBe(path.join(storeDir, file.sha256.slice(0, 2), file.sha256));
    } finally {
      await reopened.close();
    }
  });

  test('a crash between storing the file and committing its record leaves a file the sweep removes, and only that one', async () => {
    const kept = await pngFile('kept');
    await receiveProof('webchat:en', {}, kept);
    const orphan = await pngFile('orphan');
    await files.put(orphan);
    // The turn's transaction fails after writing the record: the record is rolled back with it.
    await expect(
      database.sql.transaction(async (tx) => {
        writeProofRecord(tx, { receipt: newReference('PP'), borrowerId: 'B1', amount: '1.00', paidOn: '2026-11-22', method: 'other', sha256: orphan.sha256 }, NOW, 'webchat:en');
        throw new Error('crash');
      }),
    ).rejects.toThrow('crash');
    expect(await db.proof.count({ where: { sha256: orphan.sha256 } })).toBe(0);
    // Also the leftover of an interrupted write.
    fs.writeFileSync(path.join(storeDir, orphan.sha256.slice(0, 2), `.tmp-${orphan.sha256}-dead`), 'partial');

    const store = createFileStore(storeDir);
    const isReferenced = async (sha256: string) => (await db.proof.count({ where: { sha256 } })) > 0;
    expect(await store.removeUnreferenced(isReferenced, 60 * 60_000)).toBe(0); // young files may still be committing
    expect(await store.removeUnreferenced(isReferenced, 0)).toBe(2);
    expect(await store.has(orphan.sha256)).toBe(false);
    expect(await store.has(kept.sha256)).toBe(true);
    const referenced = await db.proof.findMany({ where: { sha256: { not: null } }, select: { sha256: true } });
    for (const { sha256 } of referenced) expect(await store.has(sha256!)).toBe(true);
  });

  test('a hash that is not one cannot name a path', () => {
    expect(() => files.path('../../etc/passwd')).toThrow('not a SHA-256');
  });
});
