import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import restify from 'restify';
import { registerDirectLine, TOKEN_TTL_SECONDS, type DirectLineDeps } from '../../bot/directLine';
import { registerWebPages } from '../../bot/staticPages';

/** Raw HTTP so paths reach the server exactly as written (fetch would normalise `..`). */
function request(
  base: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; raw: Buffer; json: any }> {
  const url = new URL(base);
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = { ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}), ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(raw.toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, json });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function createServer() {
  const server = restify.createServer({ log: pino({ level: 'silent' }), handleUncaughtExceptions: false });
  // Same parsers as the real server.
  server.use(restify.plugins.queryParser({ mapParams: false }));
  server.use(restify.plugins.bodyParser({ maxBodySize: 16 * 1024 * 1024, mapParams: false, rejectUnknown: true }));
  return server;
}

async function listen(server: restify.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('Direct Line endpoint', () => {
  let server: restify.Server;
  let base: string;
  let clock: Date;
  let failNextTurn = false;
  const processed: Array<Record<string, unknown>> = [];
  /** The transcript: every inbound activity as given, plus one bot reply per message or join. */
  const transcript: Array<{ id: number; conversationId: string; activity: Record<string, unknown> }> = [];

  const deps: DirectLineDeps = {
    async processActivity(activity) {
      if (failNextTurn) {
        failNextTurn = false;
        throw new Error('database down');
      }
      processed.push(activity);
      const conversation = activity.conversation as { id: string };
      const store = (a: Record<string, unknown>) => transcript.push({ id: transcript.length + 1, conversationId: conversation.id, activity: a });
      store(activity);
      const reply = (text: string) => store({ type: 'message', text, from: activity.recipient, recipient: activity.from, conversation, replyToId: activity.id });
      if (activity.type === 'conversationUpdate') reply(`welcome (${String(activity.locale)})`);
      if (activity.type === 'message') reply(`echo: ${String(activity.text)}`);
    },
    async activitiesAfter(conversationId, afterId) {
      return transcript.filter((r) => r.conversationId === conversationId && r.id > afterId).map(({ id, activity }) => ({ id, activity }));
    },
    tokenSecret: 'test-secret-for-direct-line-tokens',
    now: () => clock,
  };

  beforeAll(async () => {
    server = createServer();
    registerDirectLine(server, deps);
    base = await listen(server);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    clock = new Date('2026-11-22T02:00:00Z');
    processed.length = 0;
  });

  const create = async (locale = 'zh-CN') => {
    const r = await request(base, 'POST', '/v3/directline/conversations', { body: { locale } });
    expect(r.status).toBe(201);
    return r.json as { conversationId: string; token: string; expires_in: number };
  };
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const post = (conversationId: string, token: string, body: unknown) =>
    request(base, 'POST', `/v3/directline/conversations/${conversationId}/activities`, { headers: auth(token), body });
  const poll = (conversationId: string, token: string, watermark = '') =>
    request(base, 'GET', `/v3/directline/conversations/${conversationId}/activities?watermark=${watermark}`, { headers: auth(token) });

  it('creates an unguessable conversation with a signed token and greets through the turn pipeline', async () => {
    const a = await create('en-US');
    const b = await create();
    expect(a.conversationId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a.conversationId).not.toBe(b.conversationId);
    expect(a.expires_in).toBe(TOKEN_TTL_SECONDS);
    expect(a).not.toHaveProperty('streamUrl');
    expect(processed[0]).toMatchObject({
      type: 'conversationUpdate',
      channelId: 'webchat',
      locale: 'en-US',
      conversation: { id: a.conversationId },
      membersAdded: [{ id: `dl_${a.conversationId}`, role: 'user' }],
    });
  });

  it('resumes the same conversation when Web Chat starts it with the token', async () => {
    const c = await create();
    processed.length = 0;
    const r = await request(base, 'POST', '/v3/directline/conversations', { headers: auth(c.token), body: { user: {}, locale: 'zh-CN' } });
    expect(r.status).toBe(200);
    expect(r.json.conversationId).toBe(c.conversationId);
    expect(processed).toHaveLength(0);
  });

  it('posts a message through the pipeline with server-set identity fields and serves it back by watermark', async () => {
    const c = await create();
    processed.length = 0;
    const sent = await post(c.conversationId, c.token, {
      type: 'message',
      text: '你好',
      locale: 'zh-CN',
      from: { id: 'r_abc', name: 'Borrower', role: 'bot' },
      channelData: { clientActivityID: 'client-1', clientTimestamp: '2026-11-22T01:59:59Z' },
      // A client must not be able to choose any of these.
      id: 'spoofed',
      channelId: 'msteams',
      conversation: { id: 'someone-else' },
      recipient: { id: 'other-bot' },
      serviceUrl: 'http://attacker.example/',
      deliveryMode: 'expectReplies',
    });
    expect(sent.status).toBe(200);
    expect(processed).toHaveLength(1);
    const inbound = processed[0]!;
    expect(inbound).toEqual({
      type: 'message',
      id: sent.json.id,
      text: '你好',
      locale: 'zh-CN',
      channelId: 'webchat',
      conversation: { id: c.conversationId },
      recipient: { id: 'repayment-assistant', name: 'Repayment Assistant', role: 'bot' },
      from: { id: `dl_${c.conversationId}`, name: 'Borrower', role: 'user' },
      serviceUrl: `${base}/v3/directline/`,
      timestamp: '2026-11-22T02:00:00.000Z',
      channelData: { clientActivityID: 'client-1', clientTimestamp: '2026-11-22T01:59:59Z' },
    });
    expect(sent.json.id).toMatch(new RegExp(`^${c.conversationId}\\|`));

    const first = await poll(c.conversationId, c.token);
    expect(first.status).toBe(200);
    // The conversationUpdate is stored but not delivered; the watermark still moves past it.
    const ids = transcript.filter((r) => r.conversationId === c.conversationId).map((r) => r.id);
    expect(first.json.watermark).toBe(String(ids[ids.length - 1]));
    expect(first.json.activities.map((a: { text: string }) => a.text)).toEqual([`welcome (zh-CN)`, '你好', 'echo: 你好']);
    const [welcome, echo, reply] = first.json.activities;
    expect(welcome.id).toBe(`${c.conversationId}|${ids[1]}`);
    expect(echo.id).toBe(sent.json.id); // Web Chat pairs it with its pending message by clientActivityID
    expect(echo.channelData.clientActivityID).toBe('client-1');
    expect(reply.id).toBe(`${c.conversationId}|${ids[3]}`);

    const again = await poll(c.conversationId, c.token, first.json.watermark);
    expect(again.json).toEqual({ activities: [], watermark: first.json.watermark });

    await post(c.conversationId, c.token, { type: 'message', text: 'next' });
    const next = await poll(c.conversationId, c.token, first.json.watermark);
    expect(next.json.activities.map((a: { text: string }) => a.text)).toEqual(['next', 'echo: next']);
    expect(Number(next.json.watermark)).toBeGreaterThan(Number(first.json.watermark));
  });

  it('does not run a turn for typing indicators', async () => {
    const c = await create();
    processed.length = 0;
    const r = await post(c.conversationId, c.token, { type: 'typing' });
    expect(r.status).toBe(200);
    expect(processed).toHaveLength(0);
  });

  describe('tokens', () => {
    it('rejects a missing token with 403', async () => {
      const c = await create();
      for (const r of [
        await request(base, 'POST', `/v3/directline/conversations/${c.conversationId}/activities`, { body: { type: 'message', text: 'x' } }),
        await request(base, 'GET', `/v3/directline/conversations/${c.conversationId}/activities?watermark=0`),
        await request(base, 'POST', '/v3/directline/tokens/refresh'),
      ]) {
        expect(r.status).toBe(403);
        expect(r.json.error.message).toMatch(/missing Authorization/);
      }
    });

    it('issues JWTs whose user claim Web Chat adopts as its user id', async () => {
      const c = await create();
      const claims = JSON.parse(Buffer.from(c.token.split('.')[1]!, 'base64url').toString());
      expect(claims).toEqual({ conv: c.conversationId, user: `dl_${c.conversationId}`, exp: expect.any(Number) });
    });

    it('rejects forged tokens with 403', async () => {
      const c = await create();
      const [header, payload, mac] = c.token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const reencode = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const forged = [
        `${header}.${payload}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`, // tampered signature
        `${header}.${reencode({ ...claims, exp: claims.exp + 3600 })}.${mac}`, // extended expiry
        `${reencode({ alg: 'none', typ: 'JWT' })}.${payload}.`, // unsigned
        'not-a-token',
        `${header}..${mac}`,
      ];
      for (const token of forged) {
        const r = await poll(c.conversationId, token);
        expect(r.status).toBe(403);
        expect(r.json.error.code).toBe('TokenInvalid');
      }
      const basic = await request(base, 'GET', `/v3/directline/conversations/${c.conversationId}/activities`, { headers: { Authorization: `Basic ${c.token}` } });
      expect(basic.status).toBe(403);
      const onCreate = await request(base, 'POST', '/v3/directline/conversations', { headers: auth(forged[0]!) });
      expect(onCreate.status).toBe(403);
    });

    it("rejects another conversation's token with 403", async () => {
      const mine = await create();
      const theirs = await create();
      await post(theirs.conversationId, theirs.token, { type: 'message', text: 'private' });
      const read = await poll(theirs.conversationId, mine.token);
      expect(read.status).toBe(403);
      expect(read.json.error.message).toMatch(/not valid for this conversation/);
      const write = await post(theirs.conversationId, mine.token, { type: 'message', text: 'hi' });
      expect(write.status).toBe(403);
    });

    it('expires tokens, and refreshing extends them', async () => {
      const c = await create();
      clock = new Date(clock.getTime() + (TOKEN_TTL_SECONDS - 60) * 1000);
      const refreshed = await request(base, 'POST', '/v3/directline/tokens/refresh', { headers: auth(c.token) });
      expect(refreshed.status).toBe(200);
      expect(refreshed.json).toMatchObject({ conversationId: c.conversationId, expires_in: TOKEN_TTL_SECONDS });
      clock = new Date(clock.getTime() + 120 * 1000);
      expect((await poll(c.conversationId, c.token)).status).toBe(403);
      expect((await poll(c.conversationId, refreshed.json.token)).status).toBe(200);
      clock = new Date(clock.getTime() + TOKEN_TTL_SECONDS * 1000);
      const expired = await request(base, 'POST', '/v3/directline/tokens/refresh', { headers: auth(refreshed.json.token) });
      expect(expired.status).toBe(403);
      expect(expired.json.error.message).toMatch(/invalid or expired/);
    });

    it('does not accept a token signed with another secret', async () => {
      const other = createServer();
      registerDirectLine(other, { ...deps, tokenSecret: 'some-other-secret' });
      const otherBase = await listen(other);
      try {
        const r = await request(otherBase, 'POST', '/v3/directline/conversations', { body: {} });
        const c = r.json as { conversationId: string; token: string };
        expect((await poll(c.conversationId, c.token)).status).toBe(403);
      } finally {
        await new Promise<void>((resolve) => other.close(() => resolve()));
      }
    });
  });

  describe('malformed requests', () => {
    let c: { conversationId: string; token: string };
    beforeAll(async () => {
      clock = new Date('2026-11-22T02:00:00Z');
      c = await create();
    });

    it.each([
      ['no type', { text: 'hi' }, /type/],
      ['unknown type', { type: 'invoke', text: 'hi' }, /type/],
      ['a message without content', { type: 'message' }, /a message needs text, attachments or value/],
      ['non-string text', { type: 'message', text: 42 }, /text/],
      ['overlong text', { type: 'message', text: 'x'.repeat(5001) }, /text/],
      ['a bad locale', { type: 'message', text: 'hi', locale: 'zh CN; drop' }, /locale/],
      ['a bad attachment', { type: 'message', attachments: [{ contentUrl: 'data:,' }] }, /attachments\.0\.contentType/],
      ['an event without a name', { type: 'event' }, /name/],
      ['an array', [{ type: 'message', text: 'hi' }], /expected a JSON object/],
    ])('400 for %s', async (_label, body, message) => {
      const r = await post(c.conversationId, c.token, body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('BadArgument');
      expect(r.json.error.message).toMatch(message);
    });

    it('400 for invalid JSON, with a JSON error', async () => {
      const r = await request(base, 'POST', `/v3/directline/conversations/${c.conversationId}/activities`, {
        headers: auth(c.token),
        rawBody: '{"type": "message", ',
      });
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/json/);
    });

    it('400 for a bad watermark and a bad create body', async () => {
      const r = await poll(c.conversationId, c.token, 'abc');
      expect(r.status).toBe(400);
      expect(r.json.error.message).toMatch(/watermark/);
      const created = await request(base, 'POST', '/v3/directline/conversations', { body: { locale: 42 } });
      expect(created.status).toBe(400);
      expect(created.json.error.message).toMatch(/locale/);
    });

    it('502 with a JSON error when the turn fails', async () => {
      failNextTurn = true;
      const r = await post(c.conversationId, c.token, { type: 'message', text: 'hi' });
      expect(r.status).toBe(502);
      expect(r.json.error.code).toBe('BotError');
    });
  });

  it("acknowledges the bot's replies posted to its serviceUrl", async () => {
    const r = await request(base, 'POST', '/v3/directline/v3/conversations/abc/activities/abc%7C1', { body: { type: 'message', text: 'hi' } });
    expect(r.status).toBe(200);
    expect(typeof r.json.id).toBe('string');
  });
});

describe('web pages', () => {
  let server: restify.Server;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'web-pages-'));
    const root = join(dir, 'web');
    mkdirSync(join(root, 'vendor'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>还款助手</title>');
    writeFileSync(join(root, 'chat.css'), `body { color: #123; }\n${'/* padding */\n'.repeat(200)}`);
    writeFileSync(join(root, 'vendor', 'webchat.js'), 'window.WebChat = {};');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    writeFileSync(join(root, 'notes.md'), '# not a served type');
    writeFileSync(join(dir, 'secret.txt'), 'outside the web root');
    symlinkSync(dir, join(root, 'escape'));
    server = createServer();
    registerWebPages(server, root);
    base = await listen(server);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page, assets and the Web Chat bundle with their content types', async () => {
    const page = await request(base, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.raw.toString()).toContain('还款助手');
    const css = await request(base, 'GET', '/web/chat.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const js = await request(base, 'GET', '/vendor/webchat.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.raw.toString()).toBe('window.WebChat = {};');
    const head = await request(base, 'HEAD', '/web/chat.css');
    expect(head.status).toBe(200);
    expect(head.raw.length).toBe(0);
  });

  it('compresses for clients that accept gzip and answers 304 to a matching ETag', async () => {
    const gz = await request(base, 'GET', '/web/chat.css', { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.raw).toString()).toMatch(/^body \{ color: #123; \}/);
    const again = await request(base, 'GET', '/web/chat.css', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': String(gz.headers.etag) } });
    expect(again.status).toBe(304);
  });

  it.each([
    '/web/..%2f..%2fsecret.txt',
    '/web/%2e%2e/secret.txt',
    '/web/../secret.txt',
    '/web/..%5c..%5csecret.txt',
    '/web/escape/secret.txt',
    '/web/.env',
    '/web/notes.md',
    '/web/vendor',
    '/web/',
    '/web/missing.js',
    '/web/chat.css%00.js',
  ])('404 for %s', async (path) => {
    const r = await request(base, 'GET', path);
    expect(r.status).toBe(404);
    expect(r.raw.toString()).not.toContain('outside the web root');
    expect(r.raw.toString()).not.toContain('SECRET');
  });
});
