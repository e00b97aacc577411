import { DateTime } from 'luxon';

/**
 * Calendar arithmetic on local dates ('YYYY-MM-DD') in the lender's time zone. Local dates are
 * plain strings everywhere else so no code path can shift them by a time zone by accident.
 */
export type LocalDate = string;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parse(date: LocalDate): DateTime {
  const d = DateTime.fromISO(date, { zone: 'UTC' });
  if (!ISO_DATE.test(date) || !d.isValid) throw new Error(`not a calendar date (YYYY-MM-DD): ${date}`);
  return d;
}

export function isLocalDate(value: string): boolean {
  return ISO_DATE.test(value) && DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/** The local date of an instant in a time zone. */
export function localDateOf(instant: Date, timeZone: string): LocalDate {
  return DateTime.fromJSDate(instant, { zone: timeZone }).toISODate() as LocalDate;
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round(parse(to).diff(parse(from), 'days').days);
}

export function addDays(date: LocalDate, days: number): LocalDate {
  return parse(date).plus({ days }).toISODate() as LocalDate;
}

/** Same day of month `months` later, or that month's last day when it is shorter. */
export function addMonthsClamped(date: LocalDate, months: number): LocalDate {
  // luxon's month arithmetic already clamps to the end of a shorter month.
  return parse(date).plus({ months }).toISODate() as LocalDate;
}

export function compareDates(a: LocalDate, b: LocalDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
