import { openDatabase, type Database } from '../../db/client';
import { startTestBot, TEST_NOW, type TestBot } from '../support/botServer';
import { agentApi, createStaffAccounts, login, openEventStream, startChannel, type Channel, type EventStream } from '../support/agentHub';

/**
 * The Agent API over real HTTP against the real server. Handoffs, conversations and transcripts
 * are written straight into the database (as the conversation side would), each conversation's
 * reference pointing at a stand-in channel, so agent messages can be watched arriving there.
 */
let bot: TestBot;
let database: Database;
let channel: Channel;
const streams: EventStream[] = [];
const tokens: Record<string, string> = {};
const now = Date.parse(TEST_NOW);

const PASSWORDS = { alice: 'alice-secret-1', bob: 'bob-secret-22', sue: 'sue-secret-333', stan: 'stan-secret-4444' };

async function seedHandoff(h: { id: string; priority: number; minutesAgo: number; rule?: string; borrowerId?: string; status?: string; claimedBy?: string }): Promise<void> {
  const conversationId = `test:conv-${h.id}`;
  const at = new Date(now - h.minutesAgo * 60_000);
  const reference = {
    channelId: 'test',
    serviceUrl: channel.url,
    conversation: { id: `conv-${h.id}` },
    user: { id: `user-${h.id}`, name: 'borrower' },
    bot: { id: 'bot', name: 'bot' },
  };
  await database.prisma.conversation.create({
    data: { id: conversationId, channelId: 'test', locale: 'zh-CN', reference: JSON.stringify(reference), snapshot: 'null', flowVersion: 'seeded', borrowerId: h.borrowerId ?? null, lastActivityAt: at },
  });
  for (const [direction, text] of [
    ['in', '我的手机号是 138****8001，我要找人工'],
    ['out', '好的，正在为您转接人工客服。'],
  ] as const) {
    await database.prisma.message.create({ data: { conversationId, direction, text, activity: JSON.stringify({ type: 'message', text }), createdAt: at } });
  }
  await database.prisma.handoff.create({
    data: {
      id: h.id,
      conversationId,
      borrowerId: h.borrowerId ?? null,
      rule: h.rule ?? 'explicitRequest',
      priority: h.priority,
      status: h.status ?? 'queued',
      claimedBy: h.claimedBy ?? null,
      claimedAt: h.claimedBy ? at : null,
      summary: JSON.stringify({ verified: Boolean(h.borrowerId), tried: ['options'], lastMessages: [{ direction: 'in', text: '我要找人工' }] }),
      createdAt: at,
    },
  });
}

const call = (who: keyof typeof PASSWORDS | undefined, method: string, path: string, body?: unknown) => agentApi(bot.url, who && tokens[who], method, path, body);

beforeAll(async () => {
  channel = await startChannel();
  bot = await startTestBot();
  database = await openDatabase(bot.databaseUrl);
  await createStaffAccounts(bot.databaseUrl, [
    { username: 'alice', password: PASSWORDS.alice, role: 'agent' },
    { username: 'bob', password: PASSWORDS.bob, role: 'agent' },
    { username: 'sue', password: PASSWORDS.sue, role: 'supervisor' },
    { username: 'stan', password: PASSWORDS.stan, role: 'staff' },
  ]);
  const demo = await database.prisma.borrower.findUniqueOrThrow({ where: { phone: '13800138001' } });
  await seedHandoff({ id: 'HO-LOW-NEW', priority: 40, minutesAgo: 10 });
  await seedHandoff({ id: 'HO-VULN', priority: 80, minutesAgo: 2, rule: 'vulnerability', borrowerId: demo.id });
  await seedHandoff({ id: 'HO-LOW-OLD', priority: 40, minutesAgo: 30 });
  await seedHandoff({ id: 'HO-BOBS', priority: 60, minutesAgo: 20, status: 'active', claimedBy: 'bob' });
  await seedHandoff({ id: 'HO-DUP', priority: 30, minutesAgo: 5 });
});

afterAll(async () => {
  await database?.close();
  // With agents' event streams still open: shutting down must end them, not wait for them.
  await bot?.stop();
  for (const s of streams) s.close();
  await channel?.close();
});

describe('login', () => {
  test('a wrong password or an unknown user is 401, and both are audited', async () => {
    expect((await call(undefined, 'POST', '/api/agent/login', { username: 'alice', password: 'wrong-password' })).status).toBe(401);
    const unknown = await call(undefined, 'POST', '/api/agent/login', { username: 'mallory', password: 'whatever123' });
    expect(unknown).toEqual({ status: 401, body: { error: 'invalid_credentials', message: expect.any(String) } });
    const failures = await database.prisma.auditLog.findMany({ where: { action: 'staff.login_failed' } });
    expect(failures.map((a) => a.actor).sort()).toEqual(['agent:alice', 'agent:mallory']);
  });

  test('malformed bodies are 400 with the field named', async () => {
    for (const body of [{ username: 'alice' }, { username: 42, password: 'x' }, [], '"text"', '{"username":']) {
      const r = await call(undefined, 'POST', '/api/agent/login', body);
      expect(r.status).toBe(400);
      expect(typeof r.body).toBe('object');
    }
    const r = await call(undefined, 'POST', '/api/agent/login', { username: 'alice' });
    expect(r.body.problems).toEqual(['password: password must be a string']);
  });

  test('each account logs in with its role; tokens last 8 hours', async () => {
    for (const [username, password] of Object.entries(PASSWORDS)) {
      const r = await call(undefined, 'POST', '/api/agent/login', { username, password });
      expect(r.status).toBe(200);
      expect(r.body.username).toBe(username);
      tokens[username] = r.body.token;
    }
    const alice = await call(undefined, 'POST', '/api/agent/login', { username: 'alice', password: PASSWORDS.alice });
    expect(alice.body.role).toBe('agent');
    const hours = (Date.parse(alice.body.expiresAt) - Date.parse(TEST_NOW)) / 3_600_000;
    expect(hours).toBeGreaterThan(7.99);
    expect(hours).toBeLessThan(8.1);
    expect(await database.prisma.auditLog.count({ where: { action: 'staff.login', actor: 'agent:sue' } })).toBe(1);
  });
});

describe('authorization', () => {
  test('no token, a forged token or a token from elsewhere is 401', async () => {
    expect((await call(undefined, 'GET', '/api/agent/handoffs')).status).toBe(401);
    const [payload, mac] = tokens.alice!.split('.');
    const forged = `${Buffer.from(JSON.stringify({ sub: 'alice', role: 'supervisor', exp: 4102444800 })).toString('base64url')}.${mac}`;
    for (const token of [forged, `${payload}.${'A'.repeat(43)}`, 'not-a-token', '']) {
      const r = await agentApi(bot.url, token, 'GET', '/api/agent/handoffs');
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('unauthorized');
    }
  });

  test('roles: staff accounts are not agents, agents are not supervisors', async () => {
    expect((await call('stan', 'GET', '/api/agent/handoffs')).status).toBe(403);
    expect((await call('alice', 'GET', '/api/agent/load')).status).toBe(403);
    expect((await call('sue', 'GET', '/api/agent/load')).status).toBe(200);
  });
});

describe('the queue', () => {
  test('ordered by priority, then by how long they have waited; agents do not see others’ active handoffs', async () => {
    const r = await call('alice', 'GET', '/api/agent/handoffs?status=queued');
    expect(r.status).toBe(200);
    expect(r.body.handoffs.map((h: { id: string }) => h.id)).toEqual(['HO-VULN', 'HO-LOW-OLD', 'HO-LOW-NEW', 'HO-DUP']);
    const [vulnerable, old] = r.body.handoffs;
    expect(vulnerable).toMatchObject({ status: 'queued', rule: 'vulnerability', priority: 80, claimedBy: null, borrower: { name: '张伟' }, summary: { verified: true } });
    expect(old.borrower).toBeNull();
    expect(old.waitingSeconds).toBeGreaterThanOrEqual(30 * 60);

    const open = await call('alice', 'GET', '/api/agent/handoffs');
    expect(open.body.handoffs.map((h: { id: string }) => h.id)).not.toContain('HO-BOBS');
    expect((await call('bob', 'GET', '/api/agent/handoffs?status=active')).body.handoffs.map((h: { id: string }) => h.id)).toEqual(['HO-BOBS']);
    const all = await call('sue', 'GET', '/api/agent/handoffs');
    expect(all.body.handoffs.map((h: { id: string }) => h.id)).toEqual(['HO-VULN', 'HO-BOBS', 'HO-LOW-OLD', 'HO-LOW-NEW', 'HO-DUP']);
  });

  test('a bad status is 400', async () => {
    const r = await call('alice', 'GET', '/api/agent/handoffs?status=closed');
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/status/);
  });
});

describe('a handoff from claim to resolve', () => {
  let aliceEvents: EventStream;
  let sueEvents: EventStream;
  let bobEvents: EventStream;

  beforeAll(async () => {
    aliceEvents = await openEventStream(bot.url, tokens.alice!, 'header');
    sueEvents = await openEventStream(bot.url, tokens.sue!, 'query'); // as EventSource does
    bobEvents = await openEventStream(bot.url, tokens.bob!, 'header');
    streams.push(aliceEvents, sueEvents, bobEvents);
  });

  test('the event stream needs a valid token and starts with a comment', async () => {
    expect(aliceEvents.status).toBe(200);
    expect(sueEvents.status).toBe(200);
    const refused = await openEventStream(bot.url, 'forged.token', 'query');
    expect(refused.status).toBe(401);
    expect((await openEventStream(bot.url, tokens.stan!)).status).toBe(403);
    await new Promise((r) => setTimeout(r, 100));
    expect(aliceEvents.comments).toContain('connected');
  });

  test('claim: the first agent gets it, another gets 409; unknown ids are 404', async () => {
    const r = await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/claim');
    expect(r.status).toBe(200);
    expect(r.body.handoff).toMatchObject({ id: 'HO-VULN', status: 'active', claimedBy: 'alice' });
    expect((await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/claim')).status).toBe(200); // harmless twice
    const second = await call('bob', 'POST', '/api/agent/handoffs/HO-VULN/claim');
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('already_claimed');
    expect((await call('alice', 'POST', '/api/agent/handoffs/HO-NOPE/claim')).status).toBe(404);
    expect((await call('alice', 'POST', `/api/agent/handoffs/${'X'.repeat(300)}/claim`)).status).toBe(404);
    await aliceEvents.next((e) => e.type === 'handoff.claimed' && e.handoffId === 'HO-VULN');
    await sueEvents.next((e) => e.type === 'handoff.claimed' && e.handoffId === 'HO-VULN');
    const row = await database.prisma.handoff.findUniqueOrThrow({ where: { id: 'HO-VULN' } });
    expect(row).toMatchObject({ status: 'active', claimedBy: 'alice' });
    expect(await database.prisma.auditLog.count({ where: { action: 'handoff.claimed', actor: 'agent:alice' } })).toBe(1);
  });

  test('the transcript: masked as stored, for the agent holding it (not another agent)', async () => {
    const r = await call('alice', 'GET', '/api/agent/handoffs/HO-VULN/transcript');
    expect(r.status).toBe(200);
    expect(r.body.handoff.id).toBe('HO-VULN');
    expect(r.body.messages.map((m: { direction: string; text: string }) => [m.direction, m.text])).toEqual([
      ['in', '我的手机号是 138****8001，我要找人工'],
      ['out', '好的，正在为您转接人工客服。'],
    ]);
    expect((await call('bob', 'GET', '/api/agent/handoffs/HO-VULN/transcript')).status).toBe(403);
    expect((await call('bob', 'GET', '/api/agent/handoffs/HO-LOW-OLD/transcript')).status).toBe(200); // queued: anyone may look
    expect((await call('bob', 'GET', '/api/agent/handoffs/HO-NOPE/transcript')).status).toBe(404);
  });

  test('messages: bad bodies 400, someone else’s handoff 403, not yet claimed 409', async () => {
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 5 }, { text: 'x'.repeat(2001) }, '{"text":']) {
      expect((await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/messages', body)).status).toBe(400);
    }
    expect((await call('bob', 'POST', '/api/agent/handoffs/HO-VULN/messages', { text: 'hi' })).status).toBe(403);
    expect((await call('alice', 'POST', '/api/agent/handoffs/HO-LOW-OLD/messages', { text: 'hi' })).status).toBe(409);
    expect(channel.posts.filter((p) => p.activity.text === 'hi')).toEqual([]);
  });

  test('an agent’s message reaches the borrower’s channel at its serviceUrl and the transcript', async () => {
    const text = '您好，我是人工客服 Alice，已经看到您的情况。';
    const r = await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/messages', { text });
    expect(r.status).toBe(201);
    const post = await channel.waitFor((p) => p.activity.text === text);
    expect(post.path).toBe('/v3/conversations/conv-HO-VULN/activities');
    expect(post.activity).toMatchObject({ type: 'message', conversation: { id: 'conv-HO-VULN' }, recipient: { id: 'user-HO-VULN' } });

    const transcript = await call('alice', 'GET', '/api/agent/handoffs/HO-VULN/transcript');
    const last = transcript.body.messages.at(-1);
    expect(last).toMatchObject({ direction: 'agent', text, from: { id: 'agent:alice', name: 'alice' } });
    const stored = await database.prisma.message.findFirstOrThrow({ where: { conversationId: 'test:conv-HO-VULN', direction: 'agent' } });
    expect(stored.text).toBe(text);

    await sueEvents.next((e) => e.type === 'message' && e.handoffId === 'HO-VULN' && e.direction === 'agent' && e.text === text);
    await aliceEvents.next((e) => e.type === 'message' && e.handoffId === 'HO-VULN');
    // Bob neither holds it nor supervises: its messages never reach his stream.
    await new Promise((r) => setTimeout(r, 200));
    expect(bobEvents.events.filter((e) => e.type === 'message')).toEqual([]);
    expect(bobEvents.events).toContainEqual({ type: 'handoff.claimed', handoffId: 'HO-VULN' });
  });

  test('a supervisor may write into any active handoff', async () => {
    expect((await call('sue', 'POST', '/api/agent/handoffs/HO-BOBS/messages', { text: '主管 Sue 在此。' })).status).toBe(201);
    await channel.waitFor((p) => p.activity.text === '主管 Sue 在此。' && p.path === '/v3/conversations/conv-HO-BOBS/activities');
  });

  test('resolve: note required, only the holder or a supervisor, then the handoff is closed and the bot told', async () => {
    for (const body of [{}, { note: '' }, { note: 7 }, { note: 'n'.repeat(2001) }]) {
      expect((await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/resolve', body)).status).toBe(400);
    }
    expect((await call('bob', 'POST', '/api/agent/handoffs/HO-VULN/resolve', { note: 'mine now' })).status).toBe(403);
    expect((await call('alice', 'POST', '/api/agent/handoffs/HO-LOW-NEW/resolve', { note: 'not claimed' })).status).toBe(409);

    const r = await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/resolve', { note: '已安排延期，借款人同意。' });
    expect(r.status).toBe(200);
    expect(r.body.handoff).toMatchObject({ status: 'resolved', resolutionNote: '已安排延期，借款人同意。' });
    expect((await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/resolve', { note: 'again' })).status).toBe(409);
    const row = await database.prisma.handoff.findUniqueOrThrow({ where: { id: 'HO-VULN' } });
    expect(row.status).toBe('resolved');
    expect(row.resolvedAt?.getTime()).toBeGreaterThanOrEqual(now);
    await sueEvents.next((e) => e.type === 'handoff.resolved' && e.handoffId === 'HO-VULN');
    await aliceEvents.next((e) => e.type === 'handoff.resolved' && e.handoffId === 'HO-VULN');
    // Messages after resolving are refused: the bot has the conversation again.
    expect((await call('alice', 'POST', '/api/agent/handoffs/HO-VULN/messages', { text: 'still there?' })).status).toBe(409);

    const resolved = await call('alice', 'GET', '/api/agent/handoffs?status=resolved');
    expect(resolved.body.handoffs.map((h: { id: string }) => h.id)).toEqual(['HO-VULN']);
  });

  test('a supervisor may close a queued duplicate unclaimed', async () => {
    const r = await call('sue', 'POST', '/api/agent/handoffs/HO-DUP/resolve', { note: 'duplicate of HO-LOW-NEW' });
    expect(r.status).toBe(200);
    expect(r.body.handoff).toMatchObject({ status: 'resolved', claimedBy: null });
  });

  test('the load view: per agent, held now and resolved today; the queue’s length and longest wait', async () => {
    const r = await call('sue', 'GET', '/api/agent/load');
    expect(r.status).toBe(200);
    expect(r.body.agents).toEqual([
      { username: 'alice', role: 'agent', active: 0, resolvedToday: 1 },
      { username: 'bob', role: 'agent', active: 1, resolvedToday: 0 },
      { username: 'sue', role: 'supervisor', active: 0, resolvedToday: 0 },
    ]);
    expect(r.body.queue.queued).toBe(2);
    expect(r.body.queue.longestWaitSeconds).toBeGreaterThanOrEqual(30 * 60);
  });

  test('every action is in the audit log under the agent’s name', async () => {
    const rows = await database.prisma.auditLog.findMany({ where: { actor: { startsWith: 'agent:' } }, orderBy: { id: 'asc' } });
    const actions = rows.map((a) => `${a.actor} ${a.action}`);
    for (const expected of [
      'agent:alice staff.login',
      'agent:alice handoff.claimed',
      'agent:alice handoff.message',
      'agent:alice handoff.resolved',
      'agent:sue handoff.message',
      'agent:sue handoff.resolved',
    ]) {
      expect(actions).toContain(expected);
    }
    const claimed = rows.find((a) => a.action === 'handoff.claimed')!;
    expect(claimed).toMatchObject({ conversationId: 'test:conv-HO-VULN', borrowerId: expect.any(String) });
    // The audit records that a message was sent, not what it said.
    const message = rows.find((a) => a.action === 'handoff.message' && a.actor === 'agent:alice')!;
    expect(JSON.parse(message.details)).toEqual({ handoffId: 'HO-VULN', length: expect.any(Number), delivered: true });
  });
});

test('after 8 hours a token no longer works', async () => {
  bot.advance(8 * 60 + 1);
  const r = await call('alice', 'GET', '/api/agent/handoffs');
  expect(r.status).toBe(401);
  expect(r.body.message).toMatch(/expired/);
});
