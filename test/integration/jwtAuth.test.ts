import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { openDatabase, type Database } from '../../db/client';
import { startTestBot } from '../support/botServer';
import { freshDatabaseUrl } from '../support/databases';
import { ensureBuilt, startServerProcess } from '../support/serverProcess';
import { messageActivity, post } from '../support/talk';

/**
 * Bot Framework JWT validation on /api/messages against a key set served locally: the bot is
 * pointed at this test's OpenID metadata (ToBotFromChannelOpenIdMetadataUrl) and issuer, and the
 * test signs RS256 tokens as the channel would. Both in this process and as the built server runs
 * (`npm start`'s bundle, where botbuilder's async methods are rewritten as native async functions:
 * scripts/nativeAsync.ts).
 */
const APP_ID = '00000000-0000-0000-0000-0000000000a1';
const ISSUER = 'https://channel.issuer.test';
const SERVICE_URL = 'http://127.0.0.1:9/';
const KID = 'test-key-1';

const channelKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

let keys: http.Server;
let keysPort = 0;

beforeAll(async () => {
  keys = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${keysPort}`;
    // Not chained: restify, loaded in this process, replaces writeHead with one that returns nothing.
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openidconfiguration') return json({ issuer: ISSUER, jwks_uri: `${base}/keys` });
    if (req.url === '/keys') return json({ keys: [{ ...channelKey.publicKey.export({ format: 'jwk' }), kid: KID, use: 'sig' }] });
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => keys.listen(0, '127.0.0.1', r));
  keysPort = (keys.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => keys?.close(r));
});

const authEnv = () => ({
  MicrosoftAppId: APP_ID,
  MicrosoftAppPassword: 'not-used-in-this-test',
  MicrosoftAppType: 'MultiTenant',
  ToBotFromChannelOpenIdMetadataUrl: `http://127.0.0.1:${keysPort}/.well-known/openidconfiguration`,
  ToBotFromChannelTokenIssuer: ISSUER,
});

interface Target {
  url: string;
  databaseUrl: string;
  stop(): Promise<unknown>;
}

const kind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const targets: Array<[string, () => Promise<Target>]> = [
  ['in this process', () => startTestBot({ env: authEnv() })],
  [
    'the built server',
    async () => {
      await ensureBuilt();
      const db = await freshDatabaseUrl(kind);
      const server = await startServerProcess({ databaseUrl: db.url, env: authEnv() });
      return { url: server.url, databaseUrl: db.url, stop: () => server.kill().then(() => db.drop()) };
    },
  ],
];

beforeEach(() => {
  // botbuilder prints every refused token to the console; the refusals are the point here.
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function token(claims: Record<string, unknown> = {}, options: { key?: KeyObject; kid?: string; alg?: string } = {}): string {
  const header = b64({ alg: options.alg ?? 'RS256', typ: 'JWT', kid: options.kid ?? KID });
  const payload = b64({ iss: ISSUER, aud: APP_ID, serviceurl: SERVICE_URL, nbf: nowSeconds() - 60, iat: nowSeconds() - 60, exp: nowSeconds() + 3600, ...claims });
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), options.key ?? channelKey.privateKey).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

describe.each(targets)('%s', (_where, start) => {
  let target: Target;
  let database: Database;
  let n = 0;
  beforeAll(async () => {
    target = await start();
    database = await openDatabase(target.databaseUrl);
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await target?.stop();
  });

  async function send(authorization: string | undefined) {
    const conversation = `jwt-${++n}`;
    const r = await post(target.url, messageActivity(conversation, '你好', { serviceUrl: SERVICE_URL }), authorization ? { authorization } : {});
    const stored = await database.prisma.conversation.count({ where: { id: `test:${conversation}` } });
    return { ...r, stored };
  }

  test('a token signed with the channel key, for this app, unexpired: 200 with the replies', async () => {
    const r = await send(`Bearer ${token()}`);
    expect(r.status).toBe(200);
    expect(r.replies.length).toBeGreaterThan(0);
    expect(r.text).toMatch(/手机号|身份/);
    expect(r.stored).toBe(1);
  });

  test.each([
    ['no token', undefined],
    ['a token signed with another key (same key id)', `Bearer ${token({}, { key: otherKey.privateKey })}`],
    ['a key id the key set does not have', `Bearer ${token({}, { kid: 'unknown-key' })}`],
    ['an expired token', `Bearer ${token({ exp: nowSeconds() - 3600, nbf: nowSeconds() - 7200, iat: nowSeconds() - 7200 })}`],
    ['another app as audience', `Bearer ${token({ aud: '00000000-0000-0000-0000-0000000000ff' })}`],
    ['another issuer', `Bearer ${token({ iss: 'https://someone.else.test' })}`],
    ['a token for another service URL', `Bearer ${token({ serviceurl: 'https://elsewhere.test/' })}`],
    ['an unsigned token (alg none)', `Bearer ${b64({ alg: 'none', typ: 'JWT', kid: KID })}.${b64({ iss: ISSUER, aud: APP_ID, serviceurl: SERVICE_URL, exp: nowSeconds() + 3600 })}.`],
    ['not a JWT at all', 'Bearer not-a-token'],
    ['another scheme', `Basic ${Buffer.from('user:pass').toString('base64')}`],
  ])('%s: 401 with a reason, and nothing stored', async (_label, authorization) => {
    const r = await send(authorization);
    expect(r.status).toBe(401);
    expect(r.replies).toEqual([]);
    expect((r.body as { error?: string; message?: string }).error).toBe('unauthorized');
    expect((r.body as { message?: string }).message).toBeTruthy();
    expect(r.stored).toBe(0);
  });

  test('a malformed activity is refused before its token is looked at', async () => {
    expect((await post(target.url, { type: 'message' }, { authorization: `Bearer ${token()}` })).status).toBe(400);
  });
});
