import type { Activity } from 'botbuilder';
import { createBotAuthentication } from '../../bot/adapter';
import { loadConfig } from '../../bot/config';

/** bot/adapter.ts keeps the outbound clients botbuilder would build for every activity. */
const auth = () => createBotAuthentication(loadConfig({}));
const activity = (serviceUrl: string) =>
  ({ type: 'message', channelId: 'test', serviceUrl, conversation: { id: 'c' }, from: { id: 'u' }, recipient: { id: 'b' } }) as unknown as Activity;

test('the same service URL gets the same connector client, turn after turn', async () => {
  const a = auth();
  const first = await a.authenticateRequest(activity('http://one.test/'), '');
  const second = await a.authenticateRequest(activity('http://one.test/'), '');
  const client = await first.connectorFactory.create('http://one.test/', first.audience);
  expect(await second.connectorFactory.create('http://one.test/', second.audience)).toBe(client);
  expect(await a.createUserTokenClient(second.claimsIdentity)).toBe(await a.createUserTokenClient(first.claimsIdentity));
  // Proactive messages ask for a factory themselves: they get the same clients.
  expect(await a.createConnectorFactory(first.claimsIdentity).create('http://one.test/', first.audience)).toBe(client);
});

test('another service URL or audience gets its own client; another authentication shares nothing', async () => {
  const a = auth();
  const r = await a.authenticateRequest(activity('http://one.test/'), '');
  const one = await r.connectorFactory.create('http://one.test/', r.audience);
  expect(await r.connectorFactory.create('http://two.test/', r.audience)).not.toBe(one);
  expect(await r.connectorFactory.create('http://one.test/', 'https://another.audience.test')).not.toBe(one);
  const b = auth();
  const other = await b.authenticateRequest(activity('http://one.test/'), '');
  expect(await other.connectorFactory.create('http://one.test/', other.audience)).not.toBe(one);
});

test('the kept clients are bounded: anyone may send activities naming new service URLs while authentication is off', async () => {
  const a = auth();
  const r = await a.authenticateRequest(activity('http://first.test/'), '');
  const first = await r.connectorFactory.create('http://first.test/', r.audience);
  for (let i = 0; i < 150; i++) await r.connectorFactory.create(`http://spoofed-${i}.test/`, r.audience);
  expect(await r.connectorFactory.create('http://first.test/', r.audience)).not.toBe(first);
});
