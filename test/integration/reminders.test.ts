import { openDatabase, type Database } from '../../db/client';
import { planReminders } from '../../db/reminders';
import { loadDialogs } from '../../dialogs/loadDialogs';
import type { ContactPolicy } from '../../machines/domain/contactRules';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { formatPlans } from '../../scripts/reminders';
import { startTestBot, type TestBot } from '../support/botServer';
import { say } from '../support/talk';

/**
 * What `npm run reminders -- --dry-run` lists, on promises made over HTTP: due on their date,
 * held through the night, skipped while the borrower is opted out and due again once they write,
 * and capped across kinds (db/reminders.ts over machines/domain/contactRules.ts).
 */
let bot: TestBot;
let database: Database;
const policy = loadDialogs().contact;
const TZ = 'Asia/Shanghai';
beforeAll(async () => {
  bot = await startTestBot();
  database = await openDatabase(bot.databaseUrl);
  const details = (id: string) => {
    const b = demoBorrowers.find((d) => d.borrowerId === id)!;
    return `${b.phone} ${b.idLast4} ${b.birthDate}`;
  };
  for (const [conversation, id, promise] of [['rm-d07', 'D07', '我11月28日前能还500'], ['rm-d03', 'D03', '我11月25日前能还300']] as const) {
    await say(bot.url, conversation, details(id));
    expect((await say(bot.url, conversation, promise)).status).toBe(200);
    expect((await say(bot.url, conversation, '确认')).text).toMatch(/AG-/);
  }
  expect((await say(bot.url, 'rm-d03', '退订')).text).toContain('不会再主动');
});
afterAll(async () => {
  await database?.close();
  await bot?.stop();
});

const plan = (now: string, p: ContactPolicy = policy) => planReminders(database.prisma, { now: new Date(now), timeZone: TZ, policy: p });

test('a promise is due on its date; at night it is held until 08:00', async () => {
  expect(await plan('2026-11-27T09:00:00+08:00')).toEqual([]);
  const day = await plan('2026-11-28T09:00:00+08:00');
  expect(day).toEqual([expect.objectContaining({ kind: 'promiseDue', borrowerId: 'D07', conversationId: 'test:rm-d07', decision: { action: 'send' } })]);
  const night = await plan('2026-11-28T23:00:00+08:00');
  expect(night.map((p) => p.decision)).toEqual([{ action: 'hold', reason: 'quietHours', until: new Date('2026-11-29T08:00:00+08:00') }]);
  const early = await plan('2026-11-28T06:30:00+08:00');
  expect(early.map((p) => p.decision)).toEqual([{ action: 'hold', reason: 'quietHours', until: new Date('2026-11-28T08:00:00+08:00') }]);
  // As `npm run reminders -- --dry-run` prints it.
  expect(formatPlans(night, TZ)).toMatch(/^HOLD {2}promiseDue {10}D07 {6}AG-[A-Z0-9]+ #1 \(promised for 2026-11-28\) → hold until 2026-11-29 08:00 \(quiet hours\) \[test:rm-d07\]$/);
  expect(formatPlans([], TZ)).toBe('No reminders are due.');
});

test('opted out: skipped; once the borrower writes again, due', async () => {
  expect((await plan('2026-11-25T09:00:00+08:00')).map((p) => [p.borrowerId, p.decision])).toEqual([['D03', { action: 'skip', reason: 'optedOut' }]]);
  await say(bot.url, 'rm-d03', '你好');
  expect((await plan('2026-11-25T09:00:00+08:00')).map((p) => [p.borrowerId, p.decision])).toEqual([['D03', { action: 'send' }]]);
});

test('caps count every kind, including those planned earlier in the same run and those already sent', async () => {
  await database.prisma.complaint.create({
    data: { id: 'CP-REMIND01', borrowerId: 'D07', conversationId: 'test:rm-d07', category: 'service', severity: 'normal', description: 'x', desiredOutcome: 'y', status: 'resolved', dueDate: '2026-12-07', createdAt: new Date('2026-11-22T10:00:00+08:00'), resolvedAt: new Date('2026-11-23T10:00:00+08:00') },
  });
  const oneADay = { ...policy, maxPerDay: 1 };
  const plans = await plan('2026-11-28T09:00:00+08:00', oneADay);
  expect(plans.map((p) => [p.kind, p.decision.action, 'reason' in p.decision ? p.decision.reason : undefined])).toEqual([
    ['promiseDue', 'send', undefined],
    ['complaintResolved', 'skip', 'dailyCap'],
  ]);
  // One already sent today (by the scheduler, any kind), so nothing more today.
  const sentAt = new Date('2026-11-28T08:00:00+08:00');
  await database.prisma.reminder.create({
    data: { id: 'installmentUpcoming:AG-EARLIER #1:2026-11-28', kind: 'installmentUpcoming', borrowerId: 'D07', subject: 'AG-EARLIER #1', conversationId: 'test:rm-d07', status: 'sent', attempts: 1, createdAt: sentAt, updatedAt: sentAt, sentAt },
  });
  const after = await plan('2026-11-28T09:00:00+08:00', oneADay);
  expect(after.map((p) => p.decision)).toEqual([
    expect.objectContaining({ action: 'skip', reason: 'dailyCap', nextAllowedAt: new Date('2026-11-29T08:00:00+08:00') }),
    expect.objectContaining({ action: 'skip', reason: 'dailyCap' }),
  ]);
});
