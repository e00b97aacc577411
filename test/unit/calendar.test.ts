import fc from 'fast-check';
import { DateTime } from 'luxon';
import { agentsWorking } from '../../machines/domain/agentHours';
import { addDays, addMonthsClamped, daysBetween, isLocalDate, localDateOf, localPartsOf } from '../../machines/domain/calendar';
import { extractDates } from '../../machines/recognition/entities/dates';

/**
 * calendar.ts does its arithmetic with Date.UTC and Intl instead of luxon (for speed). These
 * properties check it against luxon, which it replaced, so the equivalence is tested, not assumed.
 */
const ZONES = ['Asia/Shanghai', 'America/New_York', 'UTC'] as const;
const MIN_MS = Date.UTC(1900, 0, 1);
const MAX_MS = Date.UTC(2200, 11, 31, 23, 59, 59, 999);
const RUNS = { numRuns: 2000 };

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const luxonDate = (s: string) => DateTime.fromISO(s, { zone: 'UTC' });

/** A valid date 1900–2200 (every day equally likely). */
const localDate = fc.integer({ min: Date.UTC(1900, 0, 1) / 86_400_000, max: Date.UTC(2200, 11, 31) / 86_400_000 }).map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));
/** Month-end days are where clamping happens, so they are drawn often. */
const monthEnd = fc
  .record({ y: fc.integer({ min: 1900, max: 2200 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 28, max: 31 }) })
  .map(({ y, m, d }) => `${y}-${pad(m, 2)}-${pad(d, 2)}`)
  .filter((s) => luxonDate(s).isValid);
const anyDate = fc.oneof(localDate, monthEnd);

/** Any instant 1900–2200, plus instants in the DST-change months (March/April, October/November). */
const instant = fc.oneof(
  fc.integer({ min: MIN_MS, max: MAX_MS }),
  fc
    .record({ y: fc.integer({ min: 1900, max: 2200 }), m: fc.constantFrom(2, 3, 9, 10), ms: fc.integer({ min: 0, max: 31 * 86_400_000 - 1 }) })
    .map(({ y, m, ms }) => Date.UTC(y, m, 1) + ms),
).map((ms) => new Date(ms));
const zone = fc.constantFrom(...ZONES);

describe('calendar arithmetic matches luxon', () => {
  test('daysBetween', () => {
    fc.assert(
      fc.property(anyDate, anyDate, (a, b) => {
        expect(daysBetween(a, b)).toBe(Math.round(luxonDate(b).diff(luxonDate(a), 'days').days));
      }),
      RUNS,
    );
  });

  test('addDays', () => {
    fc.assert(
      fc.property(anyDate, fc.oneof(fc.integer({ min: -400, max: 400 }), fc.integer({ min: -100_000, max: 100_000 })), (d, n) => {
        expect(addDays(d, n)).toBe(luxonDate(d).plus({ days: n }).toISODate());
      }),
      RUNS,
    );
  });

  test('addMonthsClamped', () => {
    fc.assert(
      fc.property(anyDate, fc.oneof(fc.integer({ min: -25, max: 25 }), fc.integer({ min: -3000, max: 3000 })), (d, n) => {
        expect(addMonthsClamped(d, n)).toBe(luxonDate(d).plus({ months: n }).toISODate());
      }),
      RUNS,
    );
  });

  test('years 0000–0099 and 9999 (Date.UTC reads 0–99 as 19xx)', () => {
    for (const d of ['0000-01-01', '0000-02-29', '0004-02-29', '0099-12-31', '0100-03-01', '9999-12-31']) {
      expect(addDays(d, 1)).toBe(luxonDate(d).plus({ days: 1 }).toISODate());
      expect(addDays(d, -1)).toBe(luxonDate(d).plus({ days: -1 }).toISODate());
      expect(addMonthsClamped(d, 1)).toBe(luxonDate(d).plus({ months: 1 }).toISODate());
      expect(addMonthsClamped(d, -13)).toBe(luxonDate(d).plus({ months: -13 }).toISODate());
      expect(daysBetween('2026-01-01', d)).toBe(Math.round(luxonDate(d).diff(luxonDate('2026-01-01'), 'days').days));
    }
  });

  test('isLocalDate and the error for a non-date agree with luxon on every month 00–99 and day 00–99', () => {
    const thrown = (s: string) => {
      try {
        daysBetween(s, '2026-01-01');
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    };
    const disagreements: string[] = [];
    for (const year of ['0000', '1900', '2000', '2024', '2026', '2100', '9999']) {
      for (let m = 0; m < 100; m++) {
        for (let d = 0; d < 100; d++) {
          const s = `${year}-${pad(m, 2)}-${pad(d, 2)}`;
          const valid = luxonDate(s).isValid;
          const error = valid ? undefined : `not a calendar date (YYYY-MM-DD): ${s}`;
          if (isLocalDate(s) !== valid || thrown(s) !== error) disagreements.push(s);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  test('strings that are not YYYY-MM-DD are rejected', () => {
    for (const s of ['2026-2-03', '2026-02-3', '26-02-03', '20260203', '2026/02/03', '2026-02-03T00:00', '2026-02-03\n', ' 2026-02-03', '+02026-02-03', '２０２６-02-03', '']) {
      expect(isLocalDate(s)).toBe(false);
      expect(() => addDays(s, 1)).toThrow(`not a calendar date (YYYY-MM-DD): ${s}`);
      expect(() => addMonthsClamped(s, 1)).toThrow('not a calendar date');
    }
    expect(isLocalDate('2026-02-28')).toBe(true);
    expect(isLocalDate('2026-02-29')).toBe(false);
    expect(isLocalDate('2026-02-30')).toBe(false);
    expect(isLocalDate('2028-02-29')).toBe(true);
  });
});

describe('wall clock in a time zone matches luxon', () => {
  test('localDateOf and localPartsOf', () => {
    fc.assert(
      fc.property(instant, zone, (at, tz) => {
        const l = DateTime.fromJSDate(at, { zone: tz });
        expect(localDateOf(at, tz)).toBe(l.toISODate());
        expect(localPartsOf(at, tz)).toEqual({ year: l.year, month: l.month, day: l.day, hour: l.hour, minute: l.minute, weekday: l.weekday });
      }),
      { numRuns: 5000 },
    );
  });

  test('every 15 minutes around New York’s DST changes, 2020–2030', () => {
    const tz = 'America/New_York';
    const disagreements: string[] = [];
    for (let y = 2020; y <= 2030; y++) {
      for (const [m, from, to] of [[2, 7, 15], [10, 0, 8]] as const) {
        for (let ms = Date.UTC(y, m, from); ms < Date.UTC(y, m, to); ms += 15 * 60_000) {
          const at = new Date(ms);
          const l = DateTime.fromJSDate(at, { zone: tz });
          const p = localPartsOf(at, tz);
          if (p.year !== l.year || p.month !== l.month || p.day !== l.day || p.hour !== l.hour || p.minute !== l.minute || p.weekday !== l.weekday) {
            disagreements.push(at.toISOString());
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  test('the recognizer’s "today" is luxon’s local date', () => {
    fc.assert(
      fc.property(instant, zone, (now, tz) => {
        expect(extractDates('今天', { now, timeZone: tz }).map((e) => e.date)).toEqual([DateTime.fromJSDate(now, { zone: tz }).toISODate()]);
      }),
      { numRuns: 500 },
    );
  });

  test('agents work on their days, from the start up to (not including) the end, in the lender\'s zone; a shift may pass midnight', () => {
    // 2026-11-23 is a Monday; 01:00Z is 09:00 in Shanghai.
    const at = (iso: string) => new Date(iso);
    const weekdays = { start: '09:00', end: '18:00', days: [1, 2, 3, 4, 5] };
    expect(agentsWorking(at('2026-11-23T01:00:00Z'), 'Asia/Shanghai', weekdays)).toBe(true);
    expect(agentsWorking(at('2026-11-23T00:59:00Z'), 'Asia/Shanghai', weekdays)).toBe(false);
    expect(agentsWorking(at('2026-11-23T09:59:00Z'), 'Asia/Shanghai', weekdays)).toBe(true);
    expect(agentsWorking(at('2026-11-23T10:00:00Z'), 'Asia/Shanghai', weekdays)).toBe(false);
    // Sunday 2026-11-22, 10:00 local.
    expect(agentsWorking(at('2026-11-22T02:00:00Z'), 'Asia/Shanghai', weekdays)).toBe(false);
    // Monday 10:00 local in New York is 15:00Z (EST, UTC−5).
    expect(agentsWorking(at('2026-11-23T15:00:00Z'), 'America/New_York', { start: '10:00', end: '10:01', days: [1] })).toBe(true);
    const night = { start: '20:00', end: '02:00', days: [1, 2, 3, 4, 5, 6, 7] };
    expect(agentsWorking(at('2026-11-23T17:30:00Z'), 'Asia/Shanghai', night)).toBe(true); // 01:30
    expect(agentsWorking(at('2026-11-23T18:00:00Z'), 'Asia/Shanghai', night)).toBe(false); // 02:00
    expect(agentsWorking(at('2026-11-23T11:59:00Z'), 'Asia/Shanghai', night)).toBe(false); // 19:59
  });

  test('a time zone that does not exist, or an invalid instant, is an error', () => {
    expect(() => localDateOf(new Date(), 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => agentsWorking(new Date(), 'Mars/Olympus_Mons', { start: '09:00', end: '18:00', days: [1] })).toThrow(RangeError);
    expect(() => localDateOf(new Date(NaN), 'UTC')).toThrow('not a valid instant');
    expect(() => extractDates('今天', { now: new Date(), timeZone: 'Mars/Olympus_Mons' })).toThrow('cannot read the date');
    expect(() => extractDates('今天', { now: new Date(NaN), timeZone: 'UTC' })).toThrow('cannot read the date');
  });
});
