import { openDatabase, type Database } from '../../db/client';
import { ConcurrentTurnError, createConversationStore } from '../../db/conversationStore';
import { startTestBot, type TestBot } from '../support/botServer';
import { amountsIn, messageActivity, post, say } from '../support/talk';

/** The turn runtime against the real server and database: one transaction, version-guarded. */
let bot: TestBot;
let database: Database;
beforeAll(async () => {
  bot = await startTestBot();
  database = await openDatabase(bot.databaseUrl);
});
afterAll(async () => {
  await database?.close();
  await bot?.stop();
});

test('concurrent turns on one conversation are applied one after another, none lost', async () => {
  const c = 'concurrent';
  await say(bot.url, c, '你好');
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => say(bot.url, c, `消息 ${i}`)));
  for (const r of results) expect(r.status).toBe(200);
  const row = await database.prisma.conversation.findUniqueOrThrow({ where: { id: `test:${c}` } });
  expect(row.version).toBe(13);
  const inbound = await database.prisma.message.count({ where: { conversationId: `test:${c}`, direction: 'in' } });
  expect(inbound).toBe(13);
});

test('two servers on one database: turns of one conversation from both are all applied, none lost', async () => {
  const second = await startTestBot({ shareDatabaseOf: bot });
  try {
    const c = 'two-servers';
    await say(bot.url, c, '你好');
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => say(i % 2 ? bot.url : second.url, c, `消息 ${i}`)));
    for (const r of results) expect(r.status).toBe(200);
    const row = await database.prisma.conversation.findUniqueOrThrow({ where: { id: `test:${c}` } });
    expect(row.version).toBe(17);
    expect(await database.prisma.message.count({ where: { conversationId: `test:${c}`, direction: 'in' } })).toBe(17);
  } finally {
    await second.stop();
  }
});

test('a commit on a stale version is refused and writes nothing', async () => {
  const store = createConversationStore(database.sql);
  await say(bot.url, 'stale', '你好');
  const { stored: loaded } = await store.start('test:stale', undefined);
  const commit = {
    conversationId: 'test:stale', channelId: 'test', locale: 'zh-CN', reference: {}, snapshot: loaded!.snapshot, flowVersion: 'x', borrowerId: null,
    expectedVersion: loaded!.version, expectedBorrowerId: loaded!.borrowerId, now: new Date(), inbound: null, outbound: [{ text: 'a', activity: {} }], records: [], mayHaveOptedOut: false,
  };
  await store.commitTurn(commit);
  const before = await database.prisma.message.count({ where: { conversationId: 'test:stale' } });
  await expect(store.commitTurn(commit)).rejects.toBeInstanceOf(ConcurrentTurnError);
  expect(await database.prisma.message.count({ where: { conversationId: 'test:stale' } })).toBe(before);
});

test('a snapshot that no longer fits the flow resets the conversation politely', async () => {
  const c = 'reset';
  await say(bot.url, c, '13800138001 1234 1990-01-01');
  const row = await database.prisma.conversation.findUniqueOrThrow({ where: { id: `test:${c}` } });
  const snapshot = JSON.parse(row.snapshot) as Record<string, unknown>;
  await database.prisma.conversation.update({
    where: { id: row.id },
    data: { snapshot: JSON.stringify({ ...snapshot, value: { account: 'stateThatWasRemoved' } }), flowVersion: 'old', version: { increment: 1 } },
  });
  const r = await say(bot.url, c, '我欠多少');
  expect(r.status).toBe(200);
  expect(r.text).toContain('从头开始');
  expect(amountsIn(r.text)).toEqual([]); // verification is required again
  const again = await say(bot.url, c, '13800138001 1234 1990-01-01');
  expect(amountsIn(again.text)).toContain('1152.60');
});

test('garbage in the stored snapshot also resets instead of crashing', async () => {
  const c = 'garbage';
  await say(bot.url, c, '你好');
  await database.prisma.conversation.update({ where: { id: `test:${c}` }, data: { snapshot: JSON.stringify({ nonsense: true }), version: { increment: 1 } } });
  const r = await say(bot.url, c, '你好');
  expect(r.status).toBe(200);
  expect(r.text).toContain('从头开始');
});

test('the transcript keeps every message with identity details masked, and the disclosure is audited', async () => {
  const c = 'transcript';
  await say(bot.url, c, '我的手机 13800138001，后四位 1234，生日 1990-01-01');
  const messages = await database.prisma.message.findMany({ where: { conversationId: `test:${c}` }, orderBy: { id: 'asc' } });
  expect(messages[0]!.direction).toBe('in');
  expect(messages[0]!.text).not.toMatch(/13800138001|1234|1990-01-01/);
  expect(messages[0]!.activity).not.toMatch(/13800138001|1990-01-01/);
  expect(messages.filter((m) => m.direction === 'out').length).toBeGreaterThan(1);
  const audit = await database.prisma.auditLog.findMany({ where: { conversationId: `test:${c}` } });
  expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['identity.verified', 'disclosure.accountSummary']));
  expect(audit.find((a) => a.action === 'disclosure.accountSummary')!.borrowerId).toBe('D01');
});

test('a channel retrying the same activity gets the same replies and nothing is recorded twice', async () => {
  const c = 'retry';
  await say(bot.url, c, '13800138001 1234 1990-01-01');
  await say(bot.url, c, '分3期');
  const confirm = messageActivity(c, '确认');
  const first = await post(bot.url, confirm);
  const again = await post(bot.url, confirm);
  const concurrent = await Promise.all([post(bot.url, confirm), post(bot.url, confirm)]);
  expect(first.text).toMatch(/AG-[A-Z0-9]{8}/);
  for (const r of [again, ...concurrent]) {
    expect(r.status).toBe(200);
    expect(r.text).toEqual(first.text);
  }
  expect(await database.prisma.agreement.count({ where: { conversationId: `test:${c}` } })).toBe(1);
  const confirmations = await database.prisma.message.count({ where: { conversationId: `test:${c}`, direction: 'in', activityId: confirm.id } });
  expect(confirmations).toBe(1);
});

test('every turn runs on the bot clock (APP_NOW), also where an actor result rather than a message moves the flow on', async () => {
  const APP_NOW = '2026-06-01T10:00:00+08:00';
  const past = await startTestBot({ env: { APP_NOW } });
  const db = await openDatabase(past.databaseUrl);
  try {
    const c = 'clock';
    // The account summary is loaded after the identity check's result, not after a message.
    expect((await say(past.url, c, '13800138001 1234 1990-01-01')).status).toBe(200);
    const disclosure = await db.prisma.auditLog.findFirstOrThrow({ where: { conversationId: `test:${c}`, action: 'disclosure.accountSummary' } });
    expect(JSON.parse(disclosure.details)).toMatchObject({ asOf: '2026-06-01' });
    await say(past.url, c, '我6月5日前能还500');
    expect((await say(past.url, c, '确认')).text).toMatch(/AG-/);
    const agreement = await db.prisma.agreement.findFirstOrThrow({ where: { conversationId: `test:${c}` } });
    expect(Math.abs(agreement.confirmedAt.getTime() - Date.parse(APP_NOW))).toBeLessThan(60_000);
  } finally {
    await db.close();
    await past.stop();
  }
});
