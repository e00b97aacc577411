
/**
 * Calendar arithmetic on local dates ('YYYY-MM-DD') in the lender's time zone. Local dates are
 * plain strings everywhere else so no code path can shift them by a time zone by accident.
 *
 * Built on Date.UTC and Intl rather than luxon: a luxon DateTime per call cost ~0.5 ms a turn in
 * the profile, and plain UTC arithmetic is exact for calendar dates (a UTC day is always 86,400,000 ms).
 * test/unit/calendar.test.ts checks the results against luxon.
 */
export type LocalDate = string;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
/** 400 Gregorian years are exactly 146,097 days. */
const FOUR_CENTURIES_MS = 146_097 * DAY_MS;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Midnight UTC of a date; Date.UTC reads years 0–99 as 1900–1999, so those go via a 400-year shift. */
function utcMidnight(year: number, month: number, day: number): number {
  return year >= 0 && year < 100 ? Date.UTC(year + 400, month - 1, day) - FOUR_CENTURIES_MS : Date.UTC(year, month - 1, day);
}

/** The date of a UTC instant, written as luxon's toISODate writes it (±YYYYYY outside 0000–9999, like toISOString). */
function dateOfUtc(ms: number): LocalDate {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, iso.length - 14); // drop 'THH:MM:SS.sssZ'
}

/** The y-m-d of a valid local date, or undefined (wrong shape, month 13, 2026-02-30 …). */
function fieldsOf(date: string): { year: number; month: number; day: number } | undefined {
  if (!ISO_DATE.test(date)) return undefined;
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const day = Number(date.slice(8, 10));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

function parseFields(date: LocalDate): { year: number; month: number; day: number } {
  const f = fieldsOf(date);
  if (!f) throw new Error(`not a calendar date (YYYY-MM-DD): ${date}`);
  return f;
}

/** Midnight UTC of the date, in ms. */
function parse(date: LocalDate): number {
  const f = parseFields(date);
  return utcMidnight(f.year, f.month, f.day);
}

export function isLocalDate(value: string): boolean {
  return fieldsOf(value) !== undefined;
}

/** Wall-clock fields of an instant in a time zone. */
export interface LocalParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  readonly weekday: number;
}

interface ZoneClock {
  format: Intl.DateTimeFormat;
  /** A turn asks about the same "now" several times (today, agents' hours …): the last answer is kept. */
  lastMs: number;
  last: LocalParts | undefined;
}

// Creating a DateTimeFormat is the costly part of Intl, so one is kept per time zone.
const clocks = new Map<string, ZoneClock>();

function clockFor(timeZone: string): ZoneClock {
  let clock = clocks.get(timeZone);
  if (!clock) {
    // Throws RangeError ("Invalid time zone specified: …") for a zone that is not IANA.
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    clock = { format, lastMs: NaN, last: undefined };
    clocks.set(timeZone, clock);
  }
  return clock;
}

/**
 * The wall clock of an instant in a time zone (the one implementation behind localDateOf, the
 * recognizer's "today" and agents' hours). Years 1583–9999: ICU counts earlier dates as Julian.
 */
export function localPartsOf(instant: Date, timeZone: string): LocalParts {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) throw new Error(`not a valid instant: ${String(instant)}`);
  const clock = clockFor(timeZone);
  if (ms === clock.lastMs && clock.last) return clock.last;
  let year = NaN;
  let month = NaN;
  let day = NaN;
  let hour = NaN;
  let minute = NaN;
  for (const part of clock.format.formatToParts(ms)) {
    switch (part.type) {
      case 'year': year = Number(part.value); break;
      case 'month': month = Number(part.value); break;
      case 'day': day = Number(part.value); break;
      case 'hour': hour = Number(part.value); break;
      case 'minute': minute = Number(part.value); break;
    }
  }
  // 1970-01-01 was a Thursday (ISO 4).
  const weekday = ((Math.floor(utcMidnight(year, month, day) / DAY_MS) + 3) % 7 + 7) % 7 + 1;
  clock.last = Object.freeze({ year, month, day, hour, minute, weekday });
  clock.lastMs = ms;
  return clock.last;
}

/** The local date of an instant in a time zone. */
export function localDateOf(instant: Date, timeZone: string): LocalDate {
  const { year, month, day } = localPartsOf(instant, timeZone);
  return dateOfUtc(utcMidnight(year, month, day));
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return (parse(to) - parse(from)) / DAY_MS;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  if (!Number.isFinite(days)) throw new Error(`not a number of days: ${days}`);
  return dateOfUtc(parse(date) + days * DAY_MS);
}

/** Same day of month `months` later, or that month's last day when it is shorter. */
export function addMonthsClamped(date: LocalDate, months: number): LocalDate {
  const f = parseFields(date);
  if (!Number.isInteger(months)) throw new Error(`not a whole number of months: ${months}`);
  const monthIndex = f.year * 12 + (f.month - 1) + months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12 + 1;
  return dateOfUtc(utcMidnight(year, month, Math.min(f.day, daysInMonth(year, month))));
}

export function compareDates(a: LocalDate, b: LocalDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
