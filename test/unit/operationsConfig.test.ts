import { loadConfig } from '../../bot/config';

/** The operational settings (docs/operations.md): defaults, overrides, and refusals that name the variable. */
test('defaults: a year of retention, limits on, no trusted proxy, 25 s to shut down, Azure Bot Service endpoints', () => {
  const c = loadConfig({});
  expect(c.retentionDays).toBe(365);
  expect(c.rateLimits).toEqual({ perConversation: 60, perAddress: 600, login: 10 });
  expect(c.trustProxyHops).toBe(0);
  expect(c.shutdownTimeoutMs).toBe(25_000);
  expect(c.microsoftApp).toMatchObject({ openIdMetadataUrl: undefined, tokenIssuer: undefined });
});

test('overrides, blanks taking the default', () => {
  const c = loadConfig({
    RETENTION_DAYS: '30',
    RATE_LIMIT_PER_CONVERSATION: '0',
    RATE_LIMIT_PER_ADDRESS: '',
    TRUST_PROXY_HOPS: '1',
    SHUTDOWN_TIMEOUT_SECONDS: '10',
    ToBotFromChannelOpenIdMetadataUrl: 'https://login.example.test/.well-known/openidconfiguration',
    ToBotFromChannelTokenIssuer: 'https://issuer.example.test',
  });
  expect(c).toMatchObject({ retentionDays: 30, rateLimits: { perConversation: 0, perAddress: 600 }, trustProxyHops: 1, shutdownTimeoutMs: 10_000 });
  expect(c.microsoftApp).toMatchObject({ openIdMetadataUrl: 'https://login.example.test/.well-known/openidconfiguration', tokenIssuer: 'https://issuer.example.test' });
});

test.each([
  [{ RETENTION_DAYS: '0' }, /RETENTION_DAYS: must be at least 1/],
  [{ RATE_LIMIT_LOGIN: 'ten' }, /RATE_LIMIT_LOGIN: must be a whole number/],
  [{ TRUST_PROXY_HOPS: '-1' }, /TRUST_PROXY_HOPS: must be at least 0/],
  [{ SHUTDOWN_TIMEOUT_SECONDS: '1.5' }, /SHUTDOWN_TIMEOUT_SECONDS: must be a whole number/],
  [{ ToBotFromChannelOpenIdMetadataUrl: 'file:///etc/keys' }, /ToBotFromChannelOpenIdMetadataUrl/],
])('%o is refused, naming the variable', (env, message) => {
  expect(() => loadConfig(env)).toThrow(message);
});

test('production takes a strong identity secret or none (then the database keeps a generated one)', () => {
  expect(loadConfig({ NODE_ENV: 'production' }).identitySecret).toBeUndefined();
  expect(() => loadConfig({ NODE_ENV: 'production', IDENTITY_SECRET: 'short' })).toThrow(/IDENTITY_SECRET: must be a random value of at least 32 characters/);
  expect(loadConfig({ NODE_ENV: 'production', IDENTITY_SECRET: 'x'.repeat(32) }).production).toBe(true);
});
