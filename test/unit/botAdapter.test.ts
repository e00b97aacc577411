import type { Activity } from 'botbuilder';
import type { AuthenticateRequestResult } from 'botframework-connector';
import { createBotAuthentication } from '../../bot/adapter';
import { loadConfig } from '../../bot/config';

/** bot/adapter.ts keeps the outbound clients botbuilder would build for every activity. */
const auth = () => createBotAuthentication(loadConfig({}));
/** The client a turn's connector factory gives for a service URL (and audience, the turn's by default). */
async function clientFor(r: AuthenticateRequestResult, serviceUrl: string, audience = r.audience) {
  if (!r.connectorFactory) throw new Error('authentication gave no connector factory');
  return r.connectorFactory.create(serviceUrl, audience);
}
const activity = (serviceUrl: string) =>
  ({ type: 'message', channelId: 'test', serviceUrl, conversation: { id: 'c' }, from: { id: 'u' }, recipient: { id: 'b' } }) as unknown as Activity;

test('the same service URL gets the same connector client, turn after turn', async () => {
  const a = auth();
  const first = await a.authenticateRequest(activity('http://one.test/'), '');
  const second = await a.authenticateRequest(activity('http://one.test/'), '');
  const client = await clientFor(first, 'http://one.test/');
  expect(await clientFor(second, 'http://one.test/')).toBe(client);
  expect(await a.createUserTokenClient(second.claimsIdentity)).toBe(await a.createUserTokenClient(first.claimsIdentity));
  // Proactive messages ask for a factory themselves: they get the same clients.
  expect(await a.createConnectorFactory(first.claimsIdentity).create('http://one.test/', first.audience)).toBe(client);
});

test('another service URL or audience gets its own client; another authentication shares nothing', async () => {
  const a = auth();
  const r = await a.authenticateRequest(activity('http://one.test/'), '');
  const one = await clientFor(r, 'http://one.test/');
  expect(await clientFor(r, 'http://two.test/')).not.toBe(one);
  expect(await clientFor(r, 'http://one.test/', 'https://another.audience.test')).not.toBe(one);
  const b = auth();
  const other = await b.authenticateRequest(activity('http://one.test/'), '');
  expect(await clientFor(other, 'http://one.test/')).not.toBe(one);
});

test('the kept clients are bounded: anyone may send activities naming new service URLs while authentication is off', async () => {
  const a = auth();
  const r = await a.authenticateRequest(activity('http://first.test/'), '');
  const first = await clientFor(r, 'http://first.test/');
  for (let i = 0; i < 150; i++) await clientFor(r, `http://spoofed-${i}.test/`);
  expect(await clientFor(r, 'http://first.test/')).not.toBe(first);
});
