import { gzipSync } from 'node:zlib';
import { startTestBot, type TestBot } from '../support/botServer';
import { agentApi, createStaffAccounts } from '../support/agentHub';
import { messageActivity, post } from '../support/talk';

/**
 * Every endpoint's input limits, answered 4xx with the reason: body sizes per route, encodings,
 * identifiers the database could not store, unsupported activities; rate limits per conversation,
 * per client address (behind one trusted proxy) and on the login; and which staff role reaches
 * which API.
 */
let bot: TestBot;
let ip = 0;
/** A client address of its own per test (TRUST_PROXY_HOPS=1), so the address buckets do not meet. */
const client = () => ({ 'x-forwarded-for': `203.0.113.${++ip}` });

beforeAll(async () => {
  bot = await startTestBot({ env: { RATE_LIMIT_PER_CONVERSATION: '3', RATE_LIMIT_PER_ADDRESS: '12', RATE_LIMIT_LOGIN: '3', TRUST_PROXY_HOPS: '1' } });
  await createStaffAccounts(bot.databaseUrl, [
    { username: 'agnes', password: 'agent-password', role: 'agent' },
    { username: 'sam', password: 'supervisor-password', role: 'supervisor' },
    { username: 'stella', password: 'staff-password', role: 'staff' },
  ]);
});
afterAll(async () => {
  await bot?.stop();
});

async function raw(path: string, body: string | Buffer | ReadableStream, headers: Record<string, string>) {
  const res = await fetch(`${bot.url}${path}`, { method: 'POST', headers: { ...client(), ...headers }, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
  return { status: res.status, text: await res.text() };
}

describe('body sizes and encodings', () => {
  test('a login body over 64 KiB: 413, declared or streamed', async () => {
    const big = JSON.stringify({ username: 'agnes', password: 'x'.repeat(70_000) });
    const declared = await raw('/api/agent/login', big, { 'content-type': 'application/json' });
    expect(declared).toMatchObject({ status: 413 });
    expect(declared.text).toContain('larger than 65536 bytes');
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    expect((await raw('/api/agent/login', stream, { 'content-type': 'application/json' })).status).toBe(413);
  });

  test('an activity may carry a proof file inline (2 MB), not 17 MB', async () => {
    const file = Buffer.alloc(2 * 1024 * 1024, 1).toString('base64');
    const small = messageActivity('size-ok', '', { attachments: [{ contentType: 'image/png', contentUrl: `data:image/png;base64,${file}` }] });
    expect((await post(bot.url, small, client())).status).toBe(200);
    const huge = JSON.stringify(messageActivity('size-huge', 'x'.repeat(17 * 1024 * 1024)));
    expect((await raw('/api/messages', huge, { 'content-type': 'application/json' })).status).toBe(413);
  });

  test('a compressed body is refused (415) rather than inflated without a bound', async () => {
    const body = gzipSync(JSON.stringify(messageActivity('gzip', '你好')));
    const r = await raw('/api/messages', body, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(r.status).toBe(415);
    expect(r.text).toContain('compressed request bodies are not accepted');
  });

  test('not JSON: 415 for another content type, 400 for broken JSON', async () => {
    expect((await raw('/api/messages', 'hello', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await raw('/api/messages', '{"type":', { 'content-type': 'application/json' })).status).toBe(400);
  });
});

describe('what the database could not store is refused or cleaned', () => {
  test.each([
    ['conversation.id', { conversation: { id: 'a\u0000b' } }],
    ['channelId', { channelId: 'te\u0001st' }],
    ['id', { id: 'x\u0000' }],
    ['from.id', { from: { id: '\u0000' } }],
  ])('a control character in %s: 400 naming it', async (field, override) => {
    const r = await post(bot.url, { ...messageActivity('ids', '你好'), ...override }, client());
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain(`${field}: must not contain control characters`);
  });

  test('an invoke activity: 400 saying it is not handled (botbuilder would answer 501)', async () => {
    const r = await post(bot.url, messageActivity('invoke', '', { type: 'invoke', name: 'adaptiveCard/action' }), client());
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('invoke activities are not handled');
  });

  test('ids in staff URLs unlike any issued, NUL included: 404, not a database error', async () => {
    const token = (await agentApi(bot.url, undefined, 'POST', '/api/agent/login', { username: 'sam', password: 'supervisor-password' })).body.token as string;
    for (const path of ['/api/agent/handoffs/HO%00X/claim', '/api/agent/handoffs/%F0%9F%98%80/transcript']) {
      expect((await agentApi(bot.url, token, path.endsWith('claim') ? 'POST' : 'GET', path)).status).toBe(404);
    }
    expect((await agentApi(bot.url, token, 'GET', '/api/review/proofs/PP-%00/file')).status).toBe(404);
    expect((await agentApi(bot.url, token, 'POST', '/api/complaints/CP%00', { status: 'acknowledged' })).status).toBe(404);
  });
});

describe('rate limits', () => {
  test('per conversation: the 4th message in a burst gets 429 with Retry-After; other conversations go on', async () => {
    const headers = client();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(bot.url, messageActivity('busy', '你好'), headers)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const res = await fetch(`${bot.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(messageActivity('busy', '你好')) });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await res.json()) as { error: string }).error).toBe('too_many_requests');
    expect((await post(bot.url, messageActivity('calm', '你好'), headers)).status).toBe(200);
  });

  test('per client address, across conversations and Direct Line; another address is not affected', async () => {
    const headers = client();
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(bot.url, messageActivity(`spread-${i}`, '你好'), headers)).status);
    expect(statuses).toEqual(Array(12).fill(200));
    expect((await post(bot.url, messageActivity('spread-x', '你好'), headers)).status).toBe(429);
    expect((await fetch(`${bot.url}/v3/directline/conversations`, { method: 'POST', headers })).status).toBe(429);
    expect((await post(bot.url, messageActivity('spread-y', '你好'), client())).status).toBe(200);
  });

  test('Direct Line: per conversation on its activities', async () => {
    const headers = client();
    const started = (await (await fetch(`${bot.url}/v3/directline/conversations`, { method: 'POST', headers })).json()) as { conversationId: string; token: string };
    const send = () =>
      fetch(`${bot.url}/v3/directline/conversations/${started.conversationId}/activities`, {
        method: 'POST',
        headers: { ...client(), authorization: `Bearer ${started.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', text: '你好' }),
      }).then((r) => r.status);
    // The greeting turn at the start was not counted against the conversation; three messages are.
    expect([await send(), await send(), await send(), await send()]).toEqual([200, 200, 200, 429]);
  });

  test('login: per address, and per username from anywhere', async () => {
    const headers = client();
    const attempt = (h: Record<string, string>, username = 'mallory') =>
      fetch(`${bot.url}/api/agent/login`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'wrong' }) }).then((r) => r.status);
    expect([await attempt(headers), await attempt(headers), await attempt(headers), await attempt(headers)]).toEqual([401, 401, 401, 429]);
    // Guessing one account from ever new addresses: the username's own bucket is empty too.
    expect(await attempt(client())).toBe(429);
    expect(await attempt(client(), 'trudy')).toBe(401);
  });
});

describe('roles', () => {
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    for (const [username, password] of [['agnes', 'agent-password'], ['sam', 'supervisor-password'], ['stella', 'staff-password']] as const) {
      const r = await fetch(`${bot.url}/api/agent/login`, { method: 'POST', headers: { ...client(), 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      tokens[username] = ((await r.json()) as { token: string }).token;
    }
    tokens.forged = `${tokens.sam!.split('.')[0]}.AAAA`;
  });

  test.each([
    ['GET', '/api/agent/handoffs', { none: 401, forged: 401, agnes: 200, sam: 200, stella: 403 }],
    ['GET', '/api/agent/load', { none: 401, forged: 401, agnes: 403, sam: 200, stella: 403 }],
    ['POST', '/api/agent/handoffs/HO-NONE0000/claim', { none: 401, forged: 401, agnes: 404, sam: 404, stella: 403 }],
    ['GET', '/api/review/proofs', { none: 401, forged: 401, agnes: 200, sam: 200, stella: 200 }],
    ['GET', '/api/complaints', { none: 401, forged: 401, agnes: 200, sam: 200, stella: 200 }],
  ] as const)('%s %s', async (method, path, expected) => {
    const got: Record<string, number> = {};
    for (const who of Object.keys(expected)) {
      const res = await fetch(`${bot.url}${path}`, { method, headers: { ...client(), ...(who === 'none' ? {} : { authorization: `Bearer ${tokens[who]}` }) } });
      got[who] = res.status;
    }
    expect(got).toEqual(expected);
  });
});
