import { startTestBot, type TestBot } from '../support/botServer';
import { messageActivity, post } from '../support/talk';

/** With MicrosoftAppId set, /api/messages requires a Bot Framework JWT. */
let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot({ env: { MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-a-real-secret', MicrosoftAppType: 'MultiTenant' } });
});
afterAll(async () => {
  await bot?.stop();
});

test('a request without a token is refused and nothing is stored', async () => {
  const r = await post(bot.url, messageActivity('jwt-1', '你好'));
  expect(r.status).toBe(401);
  expect(r.replies).toEqual([]);
});

// Validating a token's signature needs Bot Framework's signing keys, which this offline machine
// cannot fetch: here the forged token must simply not get through. (Tokens signed against a local
// key set are the production-hardening issue's test.)
test('a forged token does not get through', async () => {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'forged', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ iss: 'https://api.botframework.com', aud: '00000000-0000-0000-0000-000000000001', exp: 4102444800 })).toString('base64url');
  const r = await post(bot.url, messageActivity('jwt-2', '你好'), { authorization: `Bearer ${header}.${payload}.c2lnbmF0dXJl` });
  expect(r.status).toBeGreaterThanOrEqual(400);
  expect(r.replies).toEqual([]);
});

test('a malformed activity is still a 400, before authentication', async () => {
  expect((await post(bot.url, '{"type":')).status).toBe(400);
});
