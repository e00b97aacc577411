import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import { openDatabase, type Database } from '../../db/client';
import { reminderMessage } from '../../db/reminderScheduler';
import { planReminders } from '../../db/reminders';
import { buildReport } from '../../db/reports';
import { loadDialogs } from '../../dialogs/loadDialogs';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { startTestBot, type TestBot } from '../support/botServer';
import { say } from '../support/talk';

/**
 * The reminder scheduler (db/reminderScheduler.ts) in the real server on a real database, with
 * the bot's clock moved through nights, a weekend, a month end and a week, and a stand-in channel
 * recording what is posted to the stored serviceUrl. Passes are run by the tests (the timer is off
 * in test bots), exactly as the timer runs them.
 */
const TZ = 'Asia/Shanghai';
const dialogs = loadDialogs();
const CJK = /[\u3400-\u9fff]/;

interface Post {
  conversationId: string;
  text: string;
}

/** A Bot Framework channel that records the bot's posts, and can be told to refuse them. */
async function startChannel() {
  const posts: Post[] = [];
  let refuseWith: number | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (refuseWith) {
        res.writeHead(refuseWith, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'BadSyntax', message: 'refused by the test channel' } }));
        return;
      }
      const activity = JSON.parse(body) as { text?: string; conversation?: { id?: string } };
      posts.push({ conversationId: activity.conversation?.id ?? '', text: activity.text ?? '' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `r${posts.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    postsTo: (conversation: string) => posts.filter((p) => p.conversationId === conversation),
    refuse: (status: number | undefined) => (refuseWith = status),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Channel = Awaited<ReturnType<typeof startChannel>>;

const details = (id: string) => {
  const b = demoBorrowers.find((d) => d.borrowerId === id)!;
  return `${b.phone} ${b.idLast4} ${b.birthDate}`;
};
const at = (iso: string) => new Date(iso);
/** Sets a bot's clock to an instant (it only moves forward). */
const moveTo = (bot: TestBot, iso: string) => {
  const minutes = (at(iso).getTime() - bot.now().getTime()) / 60_000;
  if (minutes < 0) throw new Error(`the clock is already past ${iso}`);
  bot.advance(minutes);
};

/** An arrangement as the conversation stores it once confirmed (its payments are what reminders are about). */
function agreement(db: Database, id: string, borrowerId: string, kind: 'promise' | 'installments', dueDates: string[]) {
  const confirmedAt = at('2026-11-22T10:00:00+08:00');
  return db.prisma.agreement.create({
    data: {
      id,
      borrowerId,
      conversationId: `test:${borrowerId}`,
      kind,
      amountFen: 10_000 * dueDates.length,
      loanIds: '[]',
      shown: '{}',
      shownAt: confirmedAt,
      confirmedAt,
      payments: { create: dueDates.map((dueDate, i) => ({ number: i + 1, dueDate, amountFen: 10_000 })) },
    },
  });
}

function decidedProof(db: Database, id: string, borrowerId: string, reviewedAt: string) {
  return db.prisma.proof.create({
    data: { id, borrowerId, conversationId: `test:${borrowerId}`, amountFen: 20_000, paidOn: '2026-11-21', method: 'alipay', reference: id, status: 'verified', reviewedBy: 'agent:li', reviewedAt: at(reviewedAt), createdAt: at('2026-11-22T10:00:00+08:00') },
  });
}

function resolvedComplaint(db: Database, id: string, borrowerId: string, resolvedAt: string) {
  return db.prisma.complaint.create({
    data: { id, borrowerId, conversationId: `test:${borrowerId}`, category: 'service', severity: 'normal', description: 'slow answers', desiredOutcome: 'faster answers', status: 'resolved', resolution: 'staff trained', dueDate: '2026-12-07', createdAt: at('2026-11-22T10:00:00+08:00'), resolvedAt: at(resolvedAt) },
  });
}

const rowsOf = (db: Database, borrowerId: string) => db.prisma.reminder.findMany({ where: { borrowerId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
const auditsOf = async (db: Database, borrowerId: string) =>
  (await db.prisma.auditLog.findMany({ where: { borrowerId, action: { startsWith: 'reminder.' } }, orderBy: { id: 'asc' } })).map((a): Record<string, unknown> => ({ action: a.action, ...(JSON.parse(a.details) as Record<string, unknown>) }));

/** The rules every sent reminder keeps, checked over the whole table: lists every breach. */
async function expectRulesKept(db: Database) {
  const { maxPerDay, maxPer7Days } = dialogs.contact;
  const sent = await db.prisma.reminder.findMany({ where: { status: 'sent' }, orderBy: { sentAt: 'asc' } });
  const byBorrower = new Map<string, Date[]>();
  for (const r of sent) byBorrower.set(r.borrowerId, [...(byBorrower.get(r.borrowerId) ?? []), r.sentAt!]);
  const breaches: string[] = [];
  for (const [borrower, times] of byBorrower) {
    for (const t of times) {
      const local = DateTime.fromJSDate(t, { zone: TZ });
      if (local.hour < 8 || local.hour >= 22) breaches.push(`${borrower}: sent in the quiet hours at ${local.toISO()}`);
      const sameDay = times.filter((u) => DateTime.fromJSDate(u, { zone: TZ }).toISODate() === local.toISODate());
      if (sameDay.length > maxPerDay) breaches.push(`${borrower}: ${sameDay.length} on ${local.toISODate()}`);
      const week = times.filter((u) => u.getTime() <= t.getTime() && u.getTime() > t.getTime() - 7 * 24 * 3_600_000);
      if (week.length > maxPer7Days) breaches.push(`${borrower}: ${week.length} in the 7 days to ${local.toISO()}`);
    }
  }
  expect(breaches).toEqual([]);
  return sent.length;
}

/** An instant a pass computed from its clock: the given one plus the few milliseconds the test took. */
const shortlyAfter = (iso: string) => ({
  asymmetricMatch: (d: unknown) => d instanceof Date && d.getTime() >= at(iso).getTime() && d.getTime() < at(iso).getTime() + 60_000,
  toString: () => `shortly after ${iso}`,
  toAsymmetricMatcher: () => `shortly after ${iso}`,
});

describe('one instance, through nights, a weekend, a month end and a week', () => {
  let bot: TestBot;
  let channel: Channel;
  let database: Database;
  const talk = (conversation: string, text: string, extra: Record<string, unknown> = {}) => say(bot.url, conversation, text, { serviceUrl: channel.url, ...extra });
  const passAt = async (iso: string) => {
    moveTo(bot, iso);
    return bot.runReminders();
  };

  beforeAll(async () => {
    bot = await startTestBot();
    channel = await startChannel();
    database = await openDatabase(bot.databaseUrl);
    for (const id of ['D01', 'D03', 'D05', 'D07']) await talk(id, details(id));
    await talk('D02', details('D02'), { locale: 'en-US' });
    // Two promises made in conversation, as borrowers make them.
    for (const [id, promise] of [['D07', '我11月28日前能还500'], ['D03', '我11月25日前能还300']] as const) {
      expect((await talk(id, promise)).status).toBe(200);
      expect((await talk(id, '确认')).text).toMatch(/AG-/);
    }
    await decidedProof(database, 'PP-RSEN0001', 'D02', '2026-11-23T10:00:00+08:00');
    await resolvedComplaint(database, 'CP-RSOPT001', 'D03', '2026-11-25T09:00:00+08:00');
    // D05: an installment on the 1st of December, outcomes decided on Monday the 30th and on the 3rd.
    await agreement(database, 'AG-RSMONTH1', 'D05', 'installments', ['2026-12-01', '2026-12-31']);
    await decidedProof(database, 'PP-RSMON001', 'D05', '2026-11-30T09:00:00+08:00');
    await resolvedComplaint(database, 'CP-RSMON001', 'D05', '2026-11-30T09:00:00+08:00');
    await resolvedComplaint(database, 'CP-RSMON002', 'D05', '2026-12-03T09:00:00+08:00');
    // D01: promises to pay on the 10th and the 12th, while the channel refuses messages.
    await agreement(database, 'AG-RSFAIL01', 'D01', 'promise', ['2026-12-10']);
    await agreement(database, 'AG-RSFAIL02', 'D01', 'promise', ['2026-12-12']);
  });
  afterAll(async () => {
    await database?.close();
    await bot?.stop();
    await channel?.close();
  });

  test('a review outcome: told once, as soon as it is decided, in the borrower\'s language, disclosing nothing', async () => {
    await passAt('2026-11-23T09:50:00+08:00'); // before the decision
    expect(await rowsOf(database, 'D02')).toEqual([]);
    const pass = await passAt('2026-11-23T10:05:00+08:00');
    expect(pass).toMatchObject({ sent: 1, failed: 0 });
    const [post, ...more] = channel.postsTo('D02');
    expect(more).toEqual([]);
    expect(post!.text).toBe(reminderMessage(dialogs.copy, 'en'));
    expect(post!.text).not.toMatch(CJK);
    expect(post!.text.split('\n')[0]).toBe(dialogs.copy.en['reminder.notice']);
    expect(post!.text).not.toMatch(/PP-|\d/);
    // Sent once: the next passes, that day and the days after, leave it alone.
    await passAt('2026-11-23T11:00:00+08:00');
    await passAt('2026-11-24T10:00:00+08:00');
    expect(channel.postsTo('D02')).toHaveLength(1);
    expect(await rowsOf(database, 'D02')).toEqual([
      expect.objectContaining({ id: 'proofOutcome:PP-RSEN0001:2026-11-23', status: 'sent', attempts: 1, conversationId: 'test:D02', sentAt: expect.any(Date) }),
    ]);
    // It is in the transcript the agents see, as the bot's message.
    const stored = await database.prisma.message.findMany({ where: { conversationId: 'test:D02', direction: 'out' }, orderBy: { id: 'desc' }, take: 1 });
    expect(stored[0]!.text).toBe(post!.text);
  });

  test('opt-out is honoured when sending, not only when planning; writing again restores reminders', async () => {
    // Planned just after midnight, in the quiet hours: held until 08:00.
    const night = await passAt('2026-11-25T00:10:00+08:00');
    expect(night.held).toBeGreaterThanOrEqual(1);
    const [held] = await rowsOf(database, 'D03');
    expect(held).toMatchObject({ kind: 'promiseDue', status: 'held', reason: 'quietHours', heldUntil: at('2026-11-25T08:00:00+08:00') });
    // The borrower opts out before the morning.
    moveTo(bot, '2026-11-25T07:00:00+08:00');
    expect((await talk('D03', '退订')).text).toContain('不会再主动');
    await passAt('2026-11-25T08:00:00+08:00');
    expect(await rowsOf(database, 'D03')).toEqual([expect.objectContaining({ id: held!.id, status: 'skipped', reason: 'optedOut' })]);
    // The complaint's follow-up falls due while opted out: skipped too.
    await passAt('2026-11-25T09:30:00+08:00');
    expect((await rowsOf(database, 'D03')).map((r) => [r.kind, r.status, r.reason])).toEqual([
      ['promiseDue', 'skipped', 'optedOut'],
      ['complaintResolved', 'skipped', 'optedOut'],
    ]);
    expect(channel.postsTo('D03')).toEqual([]);
    // Writing again opts back in; the follow-up goes out the next day (one try per day).
    moveTo(bot, '2026-11-25T10:00:00+08:00');
    await talk('D03', '你好');
    await passAt('2026-11-26T09:00:00+08:00');
    expect(channel.postsTo('D03').map((p) => p.text)).toEqual([reminderMessage(dialogs.copy, 'zh-CN')]);
    expect((await auditsOf(database, 'D03')).map((a) => [a.action, a.kind, a.reason ?? null])).toEqual([
      ['reminder.held', 'promiseDue', 'quietHours'],
      ['reminder.skipped', 'promiseDue', 'optedOut'],
      ['reminder.skipped', 'complaintResolved', 'optedOut'],
      ['reminder.sent', 'complaintResolved', null],
    ]);
  });

  test('nothing in the quiet hours: held at night (Friday to Saturday) and sent at 08:00, once; details only after verifying', async () => {
    await passAt('2026-11-27T21:30:00+08:00');
    expect(await rowsOf(database, 'D07')).toEqual([]);
    await passAt('2026-11-28T00:05:00+08:00');
    expect(await rowsOf(database, 'D07')).toEqual([expect.objectContaining({ kind: 'promiseDue', status: 'held', heldUntil: at('2026-11-28T08:00:00+08:00') })]);
    await passAt('2026-11-28T07:55:00+08:00');
    expect(channel.postsTo('D07')).toEqual([]);
    // What `npm run reminders -- --dry-run` shows at 08:00: the held one, now to be sent.
    moveTo(bot, '2026-11-28T08:00:00+08:00');
    const planned = (await planReminders(database.prisma, { now: bot.now(), timeZone: TZ, policy: dialogs.contact })).filter((p) => p.borrowerId === 'D07');
    expect(planned).toEqual([expect.objectContaining({ kind: 'promiseDue', retry: { status: 'held', attempts: 0 }, conversationId: 'test:D07', decision: { action: 'send' } })]);
    await bot.runReminders();
    await passAt('2026-11-28T08:05:00+08:00');
    expect((await planReminders(database.prisma, { now: bot.now(), timeZone: TZ, policy: dialogs.contact })).filter((p) => p.borrowerId === 'D07')).toEqual([]);
    const posts = channel.postsTo('D07');
    expect(posts).toHaveLength(1);
    const text = posts[0]!.text;
    expect(text).toBe(reminderMessage(dialogs.copy, 'zh-CN'));
    // No amount, date, loan or agreement: nothing a person holding the phone should learn.
    expect(text.split('\n')[0]).toBe(dialogs.copy['zh-CN']['reminder.notice']);
    expect(text).not.toMatch(/\d|AG-|¥|元/);
    expect(text).toContain('退订');
    const [row] = await rowsOf(database, 'D07');
    expect(row).toMatchObject({ status: 'sent', sentAt: expect.any(Date), heldUntil: null });
    expect(row!.sentAt!.getTime()).toBeGreaterThanOrEqual(at('2026-11-28T08:00:00+08:00').getTime());
    expect((await auditsOf(database, 'D07')).map((a) => a.action)).toEqual(['reminder.held', 'reminder.sent']);

    // The borrower answers: identity first (the session ended long ago), then the details.
    const answer = await talk('D07', '什么提醒？');
    expect(answer.text).not.toMatch(/500\.00|AG-/);
    const verified = await talk('D07', details('D07'));
    expect(verified.text).toMatch(/AG-[A-Z0-9]+/);
    expect(verified.text).toContain('500.00');
  });

  test('caps count every kind together, through a month end and over 7 days', async () => {
    // Saturday 28th (3 days before the 1st): held overnight with D07's, sent at 08:00.
    const d05 = async () => (await rowsOf(database, 'D05')).map((r) => [r.id, r.status, r.reason]);
    expect(await d05()).toEqual([['installmentUpcoming:AG-RSMONTH1 #1:2026-11-28', 'sent', null]]);
    // Monday 30th, month end: the installment tomorrow and both outcomes; 2 a day.
    await passAt('2026-11-30T09:00:00+08:00');
    // (Rows of one pass are listed by id; the pass took them installment first, then the outcomes.)
    expect((await d05()).slice(1)).toEqual([
      ['complaintResolved:CP-RSMON001:2026-11-30', 'skipped', 'dailyCap'],
      ['installmentUpcoming:AG-RSMONTH1 #1:2026-11-30', 'sent', null],
      ['proofOutcome:PP-RSMON001:2026-11-30', 'sent', null],
    ]);
    const skipped = (await auditsOf(database, 'D05')).find((a) => a.action === 'reminder.skipped');
    expect(skipped).toMatchObject({ reason: 'dailyCap', sentInWindow: 2, limit: 2, nextAllowedAt: at('2026-12-01T08:00:00+08:00').toISOString() });
    // 1 December: the skipped follow-up again, now allowed.
    await passAt('2026-12-01T09:00:00+08:00');
    // 2 December: the installment of the 1st is missed.
    await passAt('2026-12-02T09:00:00+08:00');
    // 3 and 4 December: 5 sent since 27 November 09:00, the 7-day cap.
    await passAt('2026-12-03T09:00:00+08:00');
    await passAt('2026-12-04T09:00:00+08:00');
    // 5 December 09:00: the one of 28 November 08:00 has left the window.
    await passAt('2026-12-05T09:00:00+08:00');
    expect((await d05()).slice(4)).toEqual([
      ['complaintResolved:CP-RSMON001:2026-12-01', 'sent', null],
      ['installmentMissed:AG-RSMONTH1 #1:2026-12-02', 'sent', null],
      ['complaintResolved:CP-RSMON002:2026-12-03', 'skipped', 'weeklyCap'],
      ['complaintResolved:CP-RSMON002:2026-12-04', 'skipped', 'weeklyCap'],
      ['complaintResolved:CP-RSMON002:2026-12-05', 'sent', null],
    ]);
    expect(channel.postsTo('D05')).toHaveLength(6);
    await expectRulesKept(database);
  });

  test('a refused send is tried again later, then given up; each attempt audited', async () => {
    channel.refuse(400);
    await passAt('2026-12-10T09:00:00+08:00');
    expect(await rowsOf(database, 'D01')).toEqual([expect.objectContaining({ status: 'failed', attempts: 1, heldUntil: shortlyAfter('2026-12-10T09:15:00+08:00') })]);
    await passAt('2026-12-10T09:10:00+08:00');
    expect((await rowsOf(database, 'D01'))[0]).toMatchObject({ attempts: 1 });
    await passAt('2026-12-10T09:16:00+08:00');
    expect((await rowsOf(database, 'D01'))[0]).toMatchObject({ status: 'failed', attempts: 2, heldUntil: shortlyAfter('2026-12-10T09:46:00+08:00') });
    channel.refuse(undefined);
    await passAt('2026-12-10T09:50:00+08:00');
    expect((await rowsOf(database, 'D01'))[0]).toMatchObject({ status: 'sent', attempts: 3, reason: null });
    expect(channel.postsTo('D01')).toHaveLength(1);

    channel.refuse(400);
    await passAt('2026-12-12T09:00:00+08:00');
    await passAt('2026-12-12T09:20:00+08:00');
    await passAt('2026-12-12T09:55:00+08:00');
    await passAt('2026-12-12T12:00:00+08:00');
    channel.refuse(undefined);
    await passAt('2026-12-12T13:00:00+08:00');
    const [, gaveUp] = await rowsOf(database, 'D01');
    expect(gaveUp).toMatchObject({ id: 'promiseDue:AG-RSFAIL02 #1:2026-12-12', status: 'failed', attempts: 3, heldUntil: null, reason: expect.stringContaining('gave up after 3 attempts') });
    expect(channel.postsTo('D01')).toHaveLength(1);
    expect((await auditsOf(database, 'D01')).map((a) => [a.action, a.attempt])).toEqual([
      ['reminder.failed', 1],
      ['reminder.failed', 2],
      ['reminder.sent', 3],
      ['reminder.failed', 1],
      ['reminder.failed', 2],
      ['reminder.failed', 3],
    ]);
  });

  test('the report counts what was sent, held and opted out', async () => {
    const report = await buildReport(database.prisma, { from: '2026-11-22', to: '2026-12-12' }, { timeZone: TZ, now: bot.now() });
    // Sent: D02 1, D03 1, D07 1, D05 6, D01 1. Held for the night: D03's, D07's and D05's. Opted out: D03.
    expect(report.reminders).toEqual({ sent: 10, held: 3, optedOut: 1 });
    const first = await buildReport(database.prisma, { from: '2026-11-22', to: '2026-11-27' }, { timeZone: TZ, now: bot.now() });
    expect(first.reminders).toEqual({ sent: 2, held: 1, optedOut: 1 });
  });
});

describe('two instances on one database', () => {
  let a: TestBot;
  let b: TestBot;
  let channel: Channel;
  let database: Database;

  beforeAll(async () => {
    a = await startTestBot();
    b = await startTestBot({ shareDatabaseOf: a });
    channel = await startChannel();
    database = await openDatabase(a.databaseUrl);
    for (const id of ['D04', 'D06', 'D08']) await say(a.url, id, details(id), { serviceUrl: channel.url });
    // D04 has three promises for the same day: more than the daily cap.
    for (const n of [1, 2, 3]) await agreement(database, `AG-2INST0${n}`, 'D04', 'promise', ['2026-11-24']);
    await agreement(database, 'AG-2INST11', 'D06', 'promise', ['2026-11-24']);
    await agreement(database, 'AG-2INST21', 'D08', 'promise', ['2026-11-25']);
  });
  afterAll(async () => {
    await database?.close();
    await b?.stop();
    await a?.stop();
    await channel?.close();
  });

  /** Both instances run passes at the same moment until neither has anything left. */
  async function raceAt(iso: string) {
    moveTo(a, iso);
    moveTo(b, iso);
    for (let round = 0; round < 5; round++) {
      const passes = await Promise.all([a.runReminders(), b.runReminders(), a.runReminders(), b.runReminders()]);
      if (passes.every((p) => p.sent + p.held + p.skipped + p.failed + p.deferred === 0)) return;
    }
    throw new Error('the instances kept finding work');
  }

  test('each reminder is sent once, and the cap holds, when instances race', async () => {
    await raceAt('2026-11-24T09:00:00+08:00');
    expect(channel.postsTo('D04')).toHaveLength(dialogs.contact.maxPerDay);
    expect(channel.postsTo('D06')).toHaveLength(1);
    const rows = await database.prisma.reminder.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      ['promiseDue:AG-2INST01 #1:2026-11-24', expect.stringMatching(/^(sent|skipped)$/)],
      ['promiseDue:AG-2INST02 #1:2026-11-24', expect.stringMatching(/^(sent|skipped)$/)],
      ['promiseDue:AG-2INST03 #1:2026-11-24', expect.stringMatching(/^(sent|skipped)$/)],
      ['promiseDue:AG-2INST11 #1:2026-11-24', 'sent'],
    ]);
    expect(rows.filter((r) => r.borrowerId === 'D04' && r.status === 'skipped').map((r) => r.reason)).toEqual(['dailyCap']);
    const audits = await database.prisma.auditLog.findMany({ where: { action: { startsWith: 'reminder.' } } });
    expect(audits.filter((x) => x.action === 'reminder.sent')).toHaveLength(3);
    expect(audits.filter((x) => x.action === 'reminder.skipped')).toHaveLength(1);
  });

  test('a reminder held at night by racing instances is held once and sent once at 08:00', async () => {
    await raceAt('2026-11-25T00:30:00+08:00');
    await raceAt('2026-11-25T08:00:00+08:00');
    await raceAt('2026-11-25T09:00:00+08:00');
    expect(channel.postsTo('D08')).toHaveLength(1);
    expect((await auditsOf(database, 'D08')).map((x) => x.action)).toEqual(['reminder.held', 'reminder.sent']);
    await expectRulesKept(database);
  });
  test('a claim left by an instance that stopped mid-send is taken over after 10 minutes, once', async () => {
    const claimedAt = at('2026-11-26T09:00:00+08:00');
    await agreement(database, 'AG-2INST31', 'D06', 'promise', ['2026-11-26']);
    const id = 'promiseDue:AG-2INST31 #1:2026-11-26';
    // As an instance leaves it when it stops between reserving the send and recording it.
    await database.prisma.reminder.create({ data: { id, kind: 'promiseDue', borrowerId: 'D06', subject: 'AG-2INST31 #1', conversationId: 'test:D06', status: 'claimed', sentAt: claimedAt, createdAt: claimedAt, updatedAt: claimedAt } });
    const before = channel.postsTo('D06').length;
    await raceAt('2026-11-26T09:05:00+08:00');
    expect(channel.postsTo('D06')).toHaveLength(before);
    await raceAt('2026-11-26T09:11:00+08:00');
    expect(channel.postsTo('D06')).toHaveLength(before + 1);
    expect(await database.prisma.reminder.findUnique({ where: { id } })).toMatchObject({ status: 'sent', attempts: 2 });
    const audits = (await auditsOf(database, 'D06')).filter((x) => x.reminderId === id);
    expect(audits.map((x) => [x.action, x.attempt, x.error ?? null])).toEqual([
      ['reminder.failed', 1, 'interrupted'],
      ['reminder.sent', 2, null],
    ]);
  });
});

describe("the server's timer", () => {
  test('runs passes by itself, and sends a reminder once', async () => {
    const bot = await startTestBot({ reminderEveryMs: 100 });
    const channel = await startChannel();
    const database = await openDatabase(bot.databaseUrl);
    try {
      await say(bot.url, 'D06', details('D06'), { serviceUrl: channel.url });
      // Due today (the test clock starts on 22 November at 10:00 in Shanghai).
      await agreement(database, 'AG-TIMER001', 'D06', 'promise', ['2026-11-22']);
      const deadline = Date.now() + 10_000;
      while (!channel.postsTo('D06').length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500)); // a few more passes
      expect(channel.postsTo('D06').map((p) => p.text)).toEqual([reminderMessage(dialogs.copy, 'en')]);
    } finally {
      await database.close();
      await bot.stop();
      await channel.close();
    }
  });
});

describe('payments already made', () => {
  test('a payment reminder is skipped (audited) once the proofs sent since agreeing cover it; a rejected proof does not count', async () => {
    const bot = await startTestBot();
    const channel = await startChannel();
    const database = await openDatabase(bot.databaseUrl);
    const proof = (id: string, borrowerId: string, amountFen: number, status: 'pending_review' | 'rejected') =>
      database.prisma.proof.create({
        data: { id, borrowerId, conversationId: `test:${borrowerId}`, amountFen, paidOn: '2026-11-22', method: 'alipay', reference: id, status, createdAt: at('2026-11-22T10:00:00+08:00'), ...(status === 'rejected' ? { reviewedBy: 'agent:li', reviewedAt: at('2026-11-22T10:00:00+08:00'), reviewReason: 'blurred' } : {}) },
      });
    try {
      for (const id of ['D04', 'D09']) await say(bot.url, id, details(id), { serviceUrl: channel.url });
      // D04: two installments of 100.00 (the first due in 3 days), and 100.00 already sent as proof.
      await agreement(database, 'AG-PAID0001', 'D04', 'installments', ['2026-11-25', '2026-12-25']);
      await proof('PP-PAID0001', 'D04', 10_000, 'pending_review');
      // D09: a promise of 100.00 for today, and a proof of it that staff rejected.
      await agreement(database, 'AG-PAID0002', 'D09', 'promise', ['2026-11-22']);
      await proof('PP-PAID0002', 'D09', 10_000, 'rejected');

      const planned = await planReminders(database.prisma, { now: bot.now(), timeZone: TZ, policy: dialogs.contact });
      expect(planned.find((p) => p.subject === 'AG-PAID0001 #1')?.decision).toEqual({ action: 'skip', reason: 'alreadyPaid' });
      await bot.runReminders();
      expect(await database.prisma.reminder.findMany({ where: { subject: { startsWith: 'AG-PAID' } }, select: { subject: true, status: true, reason: true }, orderBy: { subject: 'asc' } })).toEqual([
        { subject: 'AG-PAID0001 #1', status: 'skipped', reason: 'alreadyPaid' },
        { subject: 'AG-PAID0002 #1', status: 'sent', reason: null },
      ]);
      expect(await auditsOf(database, 'D04')).toEqual([expect.objectContaining({ action: 'reminder.skipped', subject: 'AG-PAID0001 #1', reason: 'alreadyPaid' })]);
      expect(channel.postsTo('D04')).toEqual([]);
      // The second installment asks 200.00 by its date: 100.00 is not enough, so it is reminded.
      moveTo(bot, '2026-12-22T10:00:00+08:00');
      await bot.runReminders();
      expect(await database.prisma.reminder.findFirst({ where: { subject: 'AG-PAID0001 #2' }, select: { status: true } })).toEqual({ status: 'sent' });
      expect(channel.postsTo('D04')).toHaveLength(1);
    } finally {
      await database.close();
      await bot.stop();
      await channel.close();
    }
  });

  test('a payment reminder held overnight is dropped when a new arrangement replaced its agreement meanwhile', async () => {
    const bot = await startTestBot();
    const channel = await startChannel();
    const database = await openDatabase(bot.databaseUrl);
    try {
      await say(bot.url, 'D01', details('D01'), { serviceUrl: channel.url });
      await agreement(database, 'AG-OLD00001', 'D01', 'installments', ['2026-11-25', '2026-12-25']);
      moveTo(bot, '2026-11-22T22:30:00+08:00');
      await bot.runReminders();
      expect(await database.prisma.reminder.findMany({ where: { subject: 'AG-OLD00001 #1' }, select: { status: true, reason: true } })).toEqual([{ status: 'held', reason: 'quietHours' }]);
      // Before the morning the borrower confirms a new plan on the same loans (repayment.test.ts).
      await database.prisma.agreement.update({ where: { id: 'AG-OLD00001' }, data: { status: 'replaced' } });
      moveTo(bot, '2026-11-23T08:00:00+08:00');
      expect((await planReminders(database.prisma, { now: bot.now(), timeZone: TZ, policy: dialogs.contact })).find((p) => p.subject === 'AG-OLD00001 #1')?.decision).toEqual({ action: 'skip', reason: 'agreementInactive' });
      await bot.runReminders();
      expect(await database.prisma.reminder.findMany({ where: { subject: 'AG-OLD00001 #1' }, select: { status: true, reason: true } })).toEqual([{ status: 'skipped', reason: 'agreementInactive' }]);
      expect(channel.postsTo('D01')).toEqual([]);
    } finally {
      await database.close();
      await bot.stop();
      await channel.close();
    }
  });
});
