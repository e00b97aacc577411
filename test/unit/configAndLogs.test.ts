import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../../bot/config';
import { createLogger, scrub } from '../../bot/logger';
import { afterFailure, countingFailures } from '../../machines/domain/lockout';

describe('configuration', () => {
  test('defaults follow the contract', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3978, databaseUrl: 'file:./data/bot.db', timeZone: 'Asia/Shanghai', seedDemo: true, attachmentHosts: [] });
    expect(c.microsoftApp.appId).toBeUndefined();
  });

  test('every bad variable is named with its reason', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', APP_TIMEZONE: 'Mars/Base', APP_NOW: 'yesterday', SEED_DEMO: 'maybe' });
      throw new Error('should have failed');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      for (const v of ['PORT', 'DATABASE_URL', 'APP_TIMEZONE', 'APP_NOW', 'SEED_DEMO']) expect(msg).toContain(`${v}:`);
    }
  });

  test('lists of hosts and booleans are parsed', () => {
    expect(loadConfig({ ATTACHMENT_HOSTS: 'files.example.com, cdn.example.com:8443', SEED_DEMO: 'false' })).toMatchObject({
      attachmentHosts: ['files.example.com', 'cdn.example.com:8443'],
      seedDemo: false,
    });
  });
});

describe('logs carry no identity details', () => {
  test('scrub masks phones, ID numbers and dates of birth', () => {
    const out = scrub('phone 13800138000 / +86 138 0013 8000, id 11010119850505448X, born 1990-01-01 or 19900101 or 1990年1月1日');
    expect(out).not.toMatch(/13800138000|138 0013|448X|1990/);
  });

  test('the logger scrubs messages and redacts known fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const log = createLogger('info', sink as never);
    log.info({ text: '13800138000 1234 1990-01-01', phone: '13800138000', nested: { birthDate: '1990-01-01' } }, 'turn for 13800138000');
    log.error(new Error('lookup of 110101199001011234 failed'));
    const all = lines.join('');
    expect(all).not.toMatch(/13800138000|1990-01-01|110101199001011234/);
    expect(all).toContain('[redacted]');
  });
});

describe('lockout arithmetic', () => {
  const policy = { maxFailedAttempts: 3, attemptWindowMinutes: 30, lockMinutes: 30 };
  const now = new Date('2026-11-22T02:00:00Z');
  const ago = (m: number, success = false) => ({ at: new Date(now.getTime() - m * 60_000), success });

  test('the third failure within the window locks for 30 minutes', () => {
    expect(afterFailure([{ attempts: [ago(20), ago(10)] }], now, policy)).toEqual({ attemptsLeft: 0, lockUntil: new Date('2026-11-22T02:30:00Z') });
    expect(afterFailure([{ attempts: [ago(40), ago(10)] }], now, policy)).toEqual({ attemptsLeft: 1 });
  });

  test('the worst key decides: a phone tried from several conversations', () => {
    expect(afterFailure([{ attempts: [] }, { attempts: [ago(5), ago(3)] }], now, policy).attemptsLeft).toBe(0);
  });

  test('a success resets the count', () => {
    expect(countingFailures({ attempts: [ago(20), ago(15), ago(10, true), ago(5)] }, now, policy)).toBe(1);
  });
});
