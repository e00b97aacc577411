import { startTestBot } from '../support/botServer';
import { freshDatabaseUrl } from '../support/databases';
import { ensureBuilt, startServerProcess } from '../support/serverProcess';
import { say } from '../support/talk';
import { agentApi, createStaffAccounts, login, openEventStream, startChannel, type Channel, type EventStream } from '../support/agentHub';

/**
 * The whole round trip over HTTP: a verified borrower asks for a person, an agent claims the
 * handoff and writes, the borrower's channel receives it at its serviceUrl, the borrower answers
 * while the bot stays silent, the agent sees it live, resolves, and the bot is back. Twice: turns
 * in the server's own thread (in process), and on the built server's turn worker, whose agents'
 * feed and proactive sends go through the main thread.
 */
const kind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const CONVERSATION = 'round-trip-1';
const PASSWORD = 'round-trip-secret';

interface Running {
  url: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

async function builtServer(): Promise<Running> {
  await ensureBuilt();
  const db = await freshDatabaseUrl(kind);
  const server = await startServerProcess({ databaseUrl: db.url });
  return {
    url: server.url,
    databaseUrl: db.url,
    async stop() {
      await server.kill();
      await db.drop();
    },
  };
}

describe.each([
  ['in one thread', () => startTestBot()],
  ['on the turn worker', builtServer],
])('%s', (_, start: () => Promise<Running>) => {
  let bot: Running;
  let channel: Channel;
  let events: EventStream | undefined;

  beforeAll(async () => {
    channel = await startChannel();
    bot = await start();
    await createStaffAccounts(bot.databaseUrl, [{ username: 'alice', password: PASSWORD, role: 'agent' }]);
  }, 180_000);

  afterAll(async () => {
    events?.close();
    await bot?.stop();
    await channel?.close();
  });

  const borrower = (text: string) => say(bot.url, CONVERSATION, text, { serviceUrl: channel.url });

  test('borrower → queue → agent → borrower → agent → resolve → bot', async () => {
    const verified = await borrower('13800138001 1234 1990-01-01');
    expect(verified.text).toMatch(/¥\s?1,152\.60/);

    // 1. The borrower asks for a person: told they are queued, and the handoff is there for agents.
    const asked = await borrower('转人工');
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('人工客服队列');

    const token = await login(bot.url, 'alice', PASSWORD);
    events = await openEventStream(bot.url, token);
    const api = (method: string, path: string, body?: unknown) => agentApi(bot.url, token, method, path, body);
    const queue = await api('GET', '/api/agent/handoffs?status=queued');
    const handoff = queue.body.handoffs.find((h: { conversationId: string }) => h.conversationId === `test:${CONVERSATION}`);
    expect(handoff).toMatchObject({ rule: 'explicitRequest', status: 'queued', borrower: { name: '张伟' }, summary: { verified: true } });

    // 2. The agent claims it and writes: the message arrives at the borrower's channel.
    expect((await api('POST', `/api/agent/handoffs/${handoff.id}/claim`)).status).toBe(200);
    const postsBefore = channel.posts.length;
    const hello = '您好，我是人工客服 Alice，已经看到您之前的对话。';
    expect((await api('POST', `/api/agent/handoffs/${handoff.id}/messages`, { text: hello })).status).toBe(201);
    const delivered = await channel.waitFor((p) => p.activity.text === hello);
    expect(delivered.path).toBe(`/v3/conversations/${CONVERSATION}/activities`);

    // 3. The borrower answers: the bot says nothing (to the turn or to the channel)...
    const answer = '我下个月 15 号能先还一半吗';
    const quiet = await borrower(answer);
    expect(quiet.status).toBe(200);
    expect(quiet.replies).toEqual([]);

    // 4. ...and the agent sees it, live and in the transcript.
    await events.next((e) => e.type === 'message' && e.handoffId === handoff.id && e.direction === 'in' && e.text === answer);
    const transcript = await api('GET', `/api/agent/handoffs/${handoff.id}/transcript`);
    const texts = transcript.body.messages.map((m: { direction: string; text: string }) => `${m.direction}: ${m.text}`);
    expect(texts.slice(-2)).toEqual([`agent: ${hello}`, `in: ${answer}`]);
    expect(channel.posts.slice(postsBefore).map((p) => p.activity.text)).toEqual([hello]);

    // 5. Resolve: the bot tells the borrower, through the channel, that it is back.
    expect((await api('POST', `/api/agent/handoffs/${handoff.id}/resolve`, { note: '已解释可申请延期，借款人稍后自助操作。' })).status).toBe(200);
    const back = await channel.waitFor((p) => (p.activity.text ?? '').includes('还款助手'));
    expect(back.path).toBe(`/v3/conversations/${CONVERSATION}/activities`);
    expect(back.activity.text).toContain('人工客服已结束本次服务');
    await events.next((e) => e.type === 'handoff.resolved' && e.handoffId === handoff.id);

    // 6. The borrower's next message gets an ordinary answer again.
    const next = await borrower('我要还多少钱');
    expect(next.replies.length).toBeGreaterThan(0);
    expect(next.text).toMatch(/¥\s?1,152\.60/);
  });
});
