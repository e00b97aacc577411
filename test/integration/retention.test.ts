import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClock } from '../../bot/clock';
import { openDatabase, type Database } from '../../db/client';
import { RETENTION_ACTION, runRetention, type RetentionDeps } from '../../db/retention';
import { createFileStore } from '../../proofs/fileStore';
import { startTestBot, TEST_NOW, type TestBot } from '../support/botServer';
import { messageActivity, post } from '../support/talk';

/**
 * Retention with the clock moved: after RETENTION_DAYS (365 by default) transcripts, idle
 * conversations and proof files go; agreements, proofs' records, handoffs and the audit log stay.
 */
const DAY = 86_400_000;
const PNG = Buffer.concat([
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'),
  Buffer.from('retention-test'),
]);

const proofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'retention-proofs-'));
const files = createFileStore(proofDir);
const botClock = createClock(TEST_NOW);
const at = (days: number, hours = 0) => () => new Date(botClock().getTime() + days * DAY + hours * 3_600_000);

let bot: TestBot;
let database: Database;
const deps = (clock: () => Date, retentionDays = 365): RetentionDeps => ({ database, files, clock, retentionDays });
const count = () =>
  Promise.all([
    database.prisma.message.count(),
    database.prisma.conversation.count(),
    database.prisma.agreement.count(),
    database.prisma.proof.count(),
    database.prisma.handoff.count(),
    database.prisma.identityAttempt.count(),
    database.prisma.reminder.count(),
  ]).then(([messages, conversations, agreements, proofs, handoffs, identityAttempts, reminders]) => ({ messages, conversations, agreements, proofs, handoffs, identityAttempts, reminders }));

beforeAll(async () => {
  bot = await startTestBot({ env: { PROOF_STORAGE_DIR: proofDir } });
  database = await openDatabase(bot.databaseUrl);
  const talk = async (text: string, extra: Record<string, unknown> = {}) => (await post(bot.url, messageActivity('old', text, extra))).text;
  await talk('13800138001 1234 1990-01-01');
  await talk('我已经还款了');
  await talk('', { attachments: [{ contentType: 'image/png', contentUrl: `data:image/png;base64,${PNG.toString('base64')}` }] });
  await talk('1500');
  await talk('昨天');
  expect(await talk('支付宝')).toMatch(/PP-/);
  await talk('分3期');
  expect(await talk('确认')).toMatch(/AG-/);
  await talk('转人工');
  // A reminder settled long ago goes with the transcripts; one still held waits to be sent.
  const now = botClock();
  const reminder = (status: string, subject: string) => ({ id: `promiseDue:${subject}:2026-11-22`, kind: 'promiseDue', borrowerId: 'D01', subject, status, createdAt: now, updatedAt: now });
  await database.prisma.reminder.createMany({ data: [{ ...reminder('sent', 'AG-OLD #1'), sentAt: now }, { ...reminder('held', 'AG-OLD #2'), heldUntil: now }] });
});

afterAll(async () => {
  await database?.close();
  await bot?.stop();
  fs.rmSync(proofDir, { recursive: true, force: true });
});

test('a start that seeds an empty database leaves the first run to the hourly tick: nothing in it is old', async () => {
  expect(await database.prisma.auditLog.count({ where: { action: RETENTION_ACTION } })).toBe(0);
  expect(await database.prisma.jobRun.count()).toBe(0);
});

test('before the period is over nothing goes', async () => {
  const before = await count();
  expect(before).toMatchObject({ agreements: 1, proofs: 1, handoffs: 1 });
  expect(await runRetention(deps(at(364)), { minIntervalMs: 0 })).toMatchObject({ messages: 0, conversations: 0, proofFiles: 0 });
  expect(await count()).toEqual(before);
  const [proof] = await database.prisma.proof.findMany();
  expect(await files.has(proof!.sha256!)).toBe(true);
});

test('a second instance started a year later deletes transcripts, the idle conversation and the proof file at start; records and the audit log stay', async () => {
  const audit = await database.prisma.auditLog.count();
  const since = at(365)();
  const later = await startTestBot({ shareDatabaseOf: bot, env: { PROOF_STORAGE_DIR: proofDir, APP_NOW: at(366)().toISOString() } });
  try {
    // Its scheduler runs once at start, then hourly.
    for (let waited = 0; (await database.prisma.auditLog.count({ where: { action: RETENTION_ACTION, at: { gte: since } } })) === 0; waited += 50) {
      if (waited > 10_000) throw new Error('no retention run within 10 s of start');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await count()).toEqual({ messages: 0, conversations: 0, agreements: 1, proofs: 1, handoffs: 1, identityAttempts: 0, reminders: 1 });
    expect(await database.prisma.reminder.findMany({ select: { status: true } })).toEqual([{ status: 'held' }]);
    const [proof] = await database.prisma.proof.findMany();
    expect(proof).toMatchObject({ amountFen: 150000, method: 'alipay', fileType: 'image/png' });
    expect(await files.has(proof!.sha256!)).toBe(false);
    const [handoff] = await database.prisma.handoff.findMany();
    expect(JSON.parse(handoff!.summary)).toMatchObject({ lastMessages: [] });
    // Nothing of the audit log went; the run itself is recorded.
    expect(await database.prisma.auditLog.count()).toBe(audit + 1);

    // A conversation of this year is kept, and the borrower starts over where the old one was.
    expect((await post(later.url, messageActivity('old', '你好'))).status).toBe(200);
    expect(await runRetention(deps(at(366, 2)))).toMatchObject({ messages: 0, conversations: 0 });
    expect(await database.prisma.conversation.count()).toBe(1);
  } finally {
    await later.stop();
  }
});

test('two instances running it at the same moment: one runs, the other skips', async () => {
  const other = await openDatabase(bot.databaseUrl);
  try {
    const clock = at(400);
    const runs = await Promise.all([runRetention(deps(clock, 30)), runRetention({ database: other, files, clock, retentionDays: 30 })]);
    expect(runs.filter(Boolean)).toHaveLength(1);
    // The latest run is one row, with what the run's audit row says.
    const [latest] = await database.prisma.auditLog.findMany({ where: { action: RETENTION_ACTION }, orderBy: { at: 'desc' }, take: 1 });
    expect(await database.prisma.jobRun.findMany()).toEqual([{ job: 'retention', at: latest!.at, details: latest!.details }]);
    // And within the hour, no instance runs it again: the latest run is read from that row, not
    // searched for in the audit log.
    expect(await runRetention(deps(at(400, 0.5)))).toBeUndefined();
    await database.prisma.auditLog.deleteMany({ where: { action: RETENTION_ACTION } });
    expect(await runRetention(deps(at(400, 0.5)))).toBeUndefined();
  } finally {
    await other.close();
  }
});
