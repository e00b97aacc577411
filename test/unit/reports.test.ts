import { openDatabase, type Database } from '../../db/client';
import { buildReport, rangeInstants, reportRangeSchema, reportToCsv } from '../../db/reports';
import { startTestBot, type TestBot } from '../support/botServer';
import { agentApi, login, startChannel, type Channel } from '../support/agentHub';
import { AGENT, SEED_DAY, SUPERVISOR, seedReportDay } from '../support/reportsSeed';

/**
 * Reports (db/reports.ts, /api/reports, /api/reports.csv) on a database filled by real
 * conversations through the real server (test/support/reportsSeed.ts): every number below is
 * counted by hand from what those conversations did.
 */
jest.setTimeout(120_000);

let bot: TestBot;
let channel: Channel;
let database: Database;
beforeAll(async () => {
  [channel, bot] = await Promise.all([startChannel(), startTestBot()]);
  database = await openDatabase(bot.databaseUrl);
  await seedReportDay(bot, channel);
});
afterAll(async () => {
  await database?.close();
  await bot?.stop();
  await channel?.close();
});

const TZ = 'Asia/Shanghai';
const day = { from: SEED_DAY, to: SEED_DAY };
const report = (range = day, now = new Date('2026-11-22T12:00:00+08:00')) => buildReport(database.prisma, range, { timeZone: TZ, now });

test('the seeded day, counted', async () => {
  const r = await report();
  // 5 conversations; 4 verified (the stranger never is); only rep-person went to a person.
  expect(r.conversations).toEqual({ total: 5, verified: 4, contained: 4, withHandoff: 1, containmentRate: 0.8 });
  // 4 successful attempts (D07, D03 twice, D01) and 2 failed (D01's first, the stranger), each counted once.
  expect(r.verification).toEqual({ attempts: 6, success: 4, failure: 2, successRate: 0.6667 });
  // The options were shown once (D03, every kind offered); D07's promise of 500.00 is the only agreement.
  expect(r.options.presentations).toBe(1);
  expect(r.options.byKind).toEqual([
    { kind: 'installments', offered: 1, accepted: 0, amountFen: 0 },
    { kind: 'extension', offered: 1, accepted: 0, amountFen: 0 },
    { kind: 'waiver', offered: 1, accepted: 0, amountFen: 0 },
    { kind: 'promise', offered: 1, accepted: 1, amountFen: 50000 },
  ]);
  expect(r.promises).toEqual({ count: 1, amountFen: 50000 });
  expect(r.proofs.count).toBe(1);
  expect(r.proofs.amountFen).toBe(70000);
  expect(r.proofs.byStatus).toContainEqual({ status: 'verified', count: 1, amountFen: 70000 });
  // Claimed after the clock moved 5 minutes.
  expect(r.handoffs).toMatchObject({ total: 1, claimed: 1, unclaimed: 0, avgWaitSeconds: 300, medianWaitSeconds: 300, maxWaitSeconds: 300 });
  expect(r.handoffs.byRule).toEqual([{ rule: 'explicitRequest', count: 1, claimed: 1, avgWaitSeconds: 300, maxWaitSeconds: 300 }]);
  expect(r.complaints).toEqual({ total: 1, resolved: 0, onTime: 0, breached: 0, byCategory: [{ category: 'service', count: 1, resolved: 0, onTime: 0, breached: 0 }] });
  // The proof's outcome told at 10:05 (held reminders: test/integration/remindersSending); the stranger's "退订".
  expect(r.reminders).toEqual({ sent: 1, held: 0, optedOut: 1 });
});

test('dates are the lender’s: the day before and the day after hold nothing; the range is inclusive', async () => {
  for (const d of ['2026-11-21', '2026-11-23']) {
    const r = await report({ from: d, to: d });
    expect([r.conversations.total, r.verification.attempts, r.handoffs.total, r.complaints.total, r.proofs.count]).toEqual([0, 0, 0, 0, 0]);
  }
  expect((await report({ from: '2026-11-01', to: '2026-11-30' })).conversations.total).toBe(5);
  // 2026-11-22 in Shanghai is 2026-11-21T16:00Z .. 2026-11-22T16:00Z.
  expect(rangeInstants(day, TZ)).toEqual({ gte: new Date('2026-11-21T16:00:00Z'), lt: new Date('2026-11-22T16:00:00Z') });
});

test('an open complaint past its due date (2026-12-07) counts as breached', async () => {
  expect((await report(day, new Date('2026-12-07T20:00:00+08:00'))).complaints.breached).toBe(0);
  const late = await report(day, new Date('2026-12-08T09:00:00+08:00'));
  expect(late.complaints).toMatchObject({ breached: 1, onTime: 0, byCategory: [{ category: 'service', breached: 1 }] });
});

test('ranges are checked', () => {
  expect(reportRangeSchema.safeParse({ from: '2026-11-01', to: '2026-11-30' }).success).toBe(true);
  for (const bad of [{ from: '2026-11-31', to: '2026-12-01' }, { from: '2026-12-01', to: '2026-11-01' }, { from: 'yesterday', to: '2026-11-01' }, { from: '1', to: '2026-11-01' }, { from: '2020-01-01', to: '2026-11-01' }, { to: '2026-11-01' }]) {
    expect(reportRangeSchema.safeParse(bad).success).toBe(false);
  }
});

describe('the API', () => {
  test('supervisors only; 400 on bad dates', async () => {
    const q = `?from=${SEED_DAY}&to=${SEED_DAY}`;
    expect((await agentApi(bot.url, undefined, 'GET', `/api/reports${q}`)).status).toBe(401);
    const agent = await login(bot.url, AGENT.username, AGENT.password);
    expect((await agentApi(bot.url, agent, 'GET', `/api/reports${q}`)).status).toBe(403);
    expect((await agentApi(bot.url, agent, 'GET', `/api/reports.csv${q}`)).status).toBe(403);
    const sue = await login(bot.url, SUPERVISOR.username, SUPERVISOR.password);
    const bad = await agentApi(bot.url, sue, 'GET', '/api/reports?from=2026-02-30&to=2026-03-01');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/from/);
    expect((await agentApi(bot.url, sue, 'GET', '/api/reports?from=2026-11-22')).status).toBe(400);
    const ok = await agentApi(bot.url, sue, 'GET', `/api/reports${q}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(JSON.parse(JSON.stringify(await report(day, new Date(ok.body.generatedAt)))));
  });

  test('the CSV export', async () => {
    const sue = await login(bot.url, SUPERVISOR.username, SUPERVISOR.password);
    const res = await fetch(`${bot.url}/api/reports.csv?from=${SEED_DAY}&to=${SEED_DAY}`, { headers: { authorization: `Bearer ${sue}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toContain(`report-${SEED_DAY}-${SEED_DAY}.csv`);
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe('section,metric,key,value');
    for (const row of ['conversations,total,,5', 'conversations,containmentRate,,0.8', 'verification,failure,,2', 'options,accepted,promise,1', 'promises,amountFen,,50000', 'proofs,amountFen,verified,70000', 'handoffs,avgWaitSeconds,explicitRequest,300', 'complaints,count,service,1', 'reminders,sent,,1', 'reminders,optedOut,,1']) {
      expect(lines).toContain(row);
    }
  });

  test('a complaint resolved in time counts as on time', async () => {
    const sue = await login(bot.url, SUPERVISOR.username, SUPERVISOR.password);
    const complaint = await database.prisma.complaint.findFirstOrThrow({ where: { conversationId: 'test:rep-complaint' } });
    const resolved = await agentApi(bot.url, sue, 'POST', `/api/complaints/${complaint.id}`, { status: 'resolved', resolution: '已致歉并培训相关人员' });
    expect(resolved.status).toBe(200);
    const r = await report(day, new Date('2026-12-20T09:00:00+08:00'));
    expect(r.complaints).toMatchObject({ total: 1, resolved: 1, onTime: 1, breached: 0 });
  });
});

test('CSV cells that a spreadsheet would run are defused', async () => {
  const r = await report();
  const csv = reportToCsv({ ...r, handoffs: { ...r.handoffs, byRule: [{ rule: '=HYPERLINK("x")', count: 1, claimed: 0, avgWaitSeconds: null, maxWaitSeconds: null }] } });
  expect(csv).toContain(`handoffs,count,"'=HYPERLINK(""x"")",1`);
});
