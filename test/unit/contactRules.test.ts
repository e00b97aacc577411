import { decideContact, inQuietHours, quietHoursEnd, type ContactPolicy } from '../../machines/domain/contactRules';
import { loadDialogs } from '../../dialogs/loadDialogs';

/**
 * The contact rules with the clock moved through nights, weekends and month ends, in Shanghai
 * (no daylight saving) and New York (with it). Every expected instant is written out by hand.
 */
const policy: ContactPolicy = { quietHours: { start: '22:00', end: '08:00' }, maxPerDay: 2, maxPer7Days: 5 };
const SH = 'Asia/Shanghai';
const at = (iso: string) => new Date(iso);
const decide = (now: string, sent: string[] = [], opts: { optedOut?: boolean; timeZone?: string; policy?: ContactPolicy } = {}) =>
  decideContact({ now: at(now), timeZone: opts.timeZone ?? SH, optedOut: opts.optedOut ?? false, sentAt: sent.map(at), policy: opts.policy ?? policy });

test('the shipped policy: quiet 22:00–08:00, caps per day and per 7 days', () => {
  const contact = loadDialogs().contact;
  expect(contact.quietHours).toEqual({ start: '22:00', end: '08:00' });
  expect(contact.maxPerDay).toBeGreaterThanOrEqual(1);
  expect(contact.maxPer7Days).toBeGreaterThanOrEqual(contact.maxPerDay);
});

describe('nights', () => {
  test.each([
    ['2026-11-23T21:59:00+08:00', { action: 'send' }],
    ['2026-11-23T22:00:00+08:00', { action: 'hold', reason: 'quietHours', until: at('2026-11-24T08:00:00+08:00') }],
    ['2026-11-23T23:59:59+08:00', { action: 'hold', reason: 'quietHours', until: at('2026-11-24T08:00:00+08:00') }],
    ['2026-11-24T00:00:00+08:00', { action: 'hold', reason: 'quietHours', until: at('2026-11-24T08:00:00+08:00') }],
    ['2026-11-24T07:59:00+08:00', { action: 'hold', reason: 'quietHours', until: at('2026-11-24T08:00:00+08:00') }],
    ['2026-11-24T08:00:00+08:00', { action: 'send' }],
  ])('%s', (now, expected) => expect(decide(now)).toEqual(expected));

  test('moving the clock minute by minute through a night: nothing is sent in quiet hours', () => {
    let t = at('2026-11-23T20:00:00+08:00').getTime();
    const end = at('2026-11-24T10:00:00+08:00').getTime();
    for (; t <= end; t += 60_000) {
      const d = decideContact({ now: new Date(t), timeZone: SH, optedOut: false, sentAt: [], policy });
      const hour = (new Date(t).getUTCHours() + 8) % 24;
      expect(d.action).toBe(hour >= 22 || hour < 8 ? 'hold' : 'send');
      if (d.action === 'hold') expect(d.until).toEqual(at('2026-11-24T08:00:00+08:00'));
    }
  });

  test('quiet hours are the borrower’s local time, not UTC: 23:00 in Shanghai is 15:00 UTC', () => {
    expect(decide('2026-11-23T15:00:00Z')).toMatchObject({ action: 'hold', until: at('2026-11-24T00:00:00Z') });
    expect(decide('2026-11-23T15:00:00Z', [], { timeZone: 'UTC' })).toEqual({ action: 'send' });
  });
});

describe('weekends and month ends', () => {
  test('Friday night is held until Saturday 08:00, Sunday night until Monday 08:00 (no business-day rule)', () => {
    // 2026-11-27 is a Friday.
    expect(decide('2026-11-27T22:30:00+08:00')).toMatchObject({ until: at('2026-11-28T08:00:00+08:00') });
    expect(decide('2026-11-28T12:00:00+08:00')).toEqual({ action: 'send' });
    expect(decide('2026-11-29T23:00:00+08:00')).toMatchObject({ until: at('2026-11-30T08:00:00+08:00') });
  });

  test.each([
    ['2026-11-30T22:00:00+08:00', '2026-12-01T08:00:00+08:00'],
    ['2026-12-31T23:30:00+08:00', '2027-01-01T08:00:00+08:00'],
    ['2027-01-31T22:01:00+08:00', '2027-02-01T08:00:00+08:00'],
    ['2027-02-28T23:59:00+08:00', '2027-03-01T08:00:00+08:00'],
    ['2028-02-28T23:00:00+08:00', '2028-02-29T08:00:00+08:00'],
  ])('held at %s until %s', (now, until) => expect(decide(now)).toEqual({ action: 'hold', reason: 'quietHours', until: at(until) }));

  test('daylight saving: New York’s 08:00 after the clocks go back (2026-11-01) is 13:00 UTC, before it 12:00 UTC', () => {
    expect(decide('2026-10-31T23:00:00-04:00', [], { timeZone: 'America/New_York' })).toMatchObject({ until: at('2026-11-01T13:00:00Z') });
    expect(decide('2026-03-07T23:00:00-05:00', [], { timeZone: 'America/New_York' })).toMatchObject({ until: at('2026-03-08T12:00:00Z') });
  });
});

describe('caps across kinds', () => {
  test('the daily cap counts the local day: two today, the third waits for tomorrow 08:00', () => {
    const sent = ['2026-11-24T08:00:00+08:00', '2026-11-24T09:00:00+08:00'];
    expect(decide('2026-11-24T12:00:00+08:00', sent)).toEqual({ action: 'skip', reason: 'dailyCap', sentInWindow: 2, limit: 2, nextAllowedAt: at('2026-11-25T08:00:00+08:00') });
    expect(decide('2026-11-25T08:00:00+08:00', sent)).toEqual({ action: 'send' });
  });

  test('the day is local: sent at 07:30 Shanghai (23:30 UTC the day before) counts for that Shanghai day', () => {
    const sent = ['2026-11-23T23:30:00Z', '2026-11-24T01:00:00Z']; // 07:30 and 09:00 on the 24th, Shanghai
    expect(decide('2026-11-24T10:00:00+08:00', sent)).toMatchObject({ action: 'skip', reason: 'dailyCap' });
    // 2026-11-23 16:00 UTC is already the 24th in Shanghai; yesterday's do not count.
    expect(decide('2026-11-24T10:00:00+08:00', ['2026-11-23T13:00:00Z', '2026-11-23T14:00:00Z'])).toEqual({ action: 'send' });
  });

  test('the 7-day cap is rolling: five in the last 7 × 24 h hold the sixth until the oldest leaves', () => {
    const sent = ['2026-11-18T09:00:00+08:00', '2026-11-19T09:00:00+08:00', '2026-11-20T09:00:00+08:00', '2026-11-21T09:00:00+08:00', '2026-11-22T09:00:00+08:00'];
    expect(decide('2026-11-24T10:00:00+08:00', sent)).toEqual({ action: 'skip', reason: 'weeklyCap', sentInWindow: 5, limit: 5, nextAllowedAt: at('2026-11-25T09:00:00+08:00') });
    expect(decide('2026-11-25T09:00:00+08:00', sent)).toEqual({ action: 'send' });
  });

  test('month end does not reset the 7-day cap', () => {
    const sent = ['2026-11-27T10:00:00+08:00', '2026-11-28T10:00:00+08:00', '2026-11-29T10:00:00+08:00', '2026-11-30T10:00:00+08:00', '2026-11-30T11:00:00+08:00'];
    expect(decide('2026-12-01T10:00:00+08:00', sent)).toMatchObject({ action: 'skip', reason: 'weeklyCap', nextAllowedAt: at('2026-12-04T10:00:00+08:00') });
  });

  test('quiet hours come first: a capped day at night is held, and decided again at 08:00', () => {
    const sent = ['2026-11-24T08:00:00+08:00', '2026-11-24T09:00:00+08:00'];
    expect(decide('2026-11-24T23:00:00+08:00', sent)).toMatchObject({ action: 'hold', until: at('2026-11-25T08:00:00+08:00') });
    expect(decide('2026-11-25T08:00:00+08:00', sent)).toEqual({ action: 'send' });
  });
});

test('opted out: skipped whatever the time or history', () => {
  for (const now of ['2026-11-24T12:00:00+08:00', '2026-11-24T23:00:00+08:00']) expect(decide(now, [], { optedOut: true })).toEqual({ action: 'skip', reason: 'optedOut' });
});

test('quiet hours that do not wrap midnight, and none at all', () => {
  expect(inQuietHours(12 * 60 + 30, { start: '12:00', end: '13:00' })).toBe(true);
  expect(inQuietHours(13 * 60, { start: '12:00', end: '13:00' })).toBe(false);
  expect(inQuietHours(3 * 60, { start: '00:00', end: '00:00' })).toBe(false);
  expect(quietHoursEnd(at('2026-11-24T12:30:00+08:00'), SH, { start: '12:00', end: '13:00' })).toEqual(at('2026-11-24T13:00:00+08:00'));
});
