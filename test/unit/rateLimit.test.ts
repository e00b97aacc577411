import type { Request } from 'restify';
import { clientAddress, createRateLimiter } from '../../bot/rateLimit';

describe('token bucket', () => {
  test('a burst of the limit, then one every 60/limit seconds, with the wait until the next', () => {
    let now = 0;
    const limiter = createRateLimiter(6, { now: () => now });
    for (let i = 0; i < 6; i++) expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')).toBe(10);
    now += 5_000;
    expect(limiter.take('a')).toBe(5);
    now += 5_000;
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')).toBe(10);
    // Other keys are counted apart.
    expect(limiter.take('b')).toBeUndefined();
  });

  test('an idle key refills to the limit and no further', () => {
    let now = 0;
    const limiter = createRateLimiter(2, { now: () => now });
    limiter.take('a');
    limiter.take('a');
    now += 3_600_000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([undefined, undefined, 30]);
  });

  test('0 means no limit, and keeps nothing', () => {
    const limiter = createRateLimiter(0);
    for (let i = 0; i < 1000; i++) expect(limiter.take(`k${i}`)).toBeUndefined();
    expect(limiter.size).toBe(0);
  });

  test('memory is bounded: past maxKeys the least recently used key goes', () => {
    let now = 0;
    const limiter = createRateLimiter(1, { now: () => now, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) limiter.take(k);
    now += 1;
    expect(limiter.take('a')).toBeGreaterThan(0); // refused, and now the most recently used
    limiter.take('d'); // evicts b
    expect(limiter.size).toBe(3);
    expect(limiter.take('b')).toBeUndefined(); // forgotten, so a full bucket again (evicts c)
    expect(limiter.take('a')).toBeGreaterThan(0); // still remembered
  });
});

describe('client address', () => {
  const req = (remoteAddress: string, forwarded?: string) => ({ socket: { remoteAddress }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as Request;

  test('without trusted proxies: the TCP peer, whatever X-Forwarded-For claims', () => {
    expect(clientAddress(req('10.0.0.5', '1.2.3.4'), 0)).toBe('10.0.0.5');
  });

  test('with one trusted proxy: the address it received from, not what the client wrote before it', () => {
    expect(clientAddress(req('10.0.0.5', '6.6.6.6, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(req('10.0.0.5', '203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(req('10.0.0.5'), 1)).toBe('10.0.0.5');
  });

  test('with two: the entry the first proxy appended', () => {
    expect(clientAddress(req('10.0.0.5', '6.6.6.6, 203.0.113.9, 10.0.0.4'), 2)).toBe('203.0.113.9');
  });
});
