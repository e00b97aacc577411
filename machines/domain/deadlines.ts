import { addDays, compareDates, daysBetween, localDateOf, type LocalDate } from './calendar';

/**
 * Complaint deadlines (CONTRACT.md §6): answered within 15 calendar days of the day the complaint
 * was made, counted on the lender's calendar. The day of creation is the local date in the
 * lender's time zone, not in UTC: a complaint at 23:30 UTC on 31 January was made on 1 February
 * in Shanghai, and is due on 16 February.
 */
export const COMPLAINT_DAYS = 15;

export function complaintDueDate(createdAt: Date, timeZone: string, days: number = COMPLAINT_DAYS): LocalDate {
  return addDays(localDateOf(createdAt, timeZone), days);
}

/** Calendar days until the due date: 0 on the due date itself, negative once it has passed. */
export function daysLeft(dueDate: LocalDate, today: LocalDate): number {
  return daysBetween(today, dueDate);
}

/**
 * Whether the deadline was missed. An open complaint is breached from the day after its due date;
 * a resolved one only if it was resolved after that (`resolvedOn`, its local resolution date), so
 * a late answer stays visible as late once it is given.
 */
export function isBreached(dueDate: LocalDate, today: LocalDate, status: string, resolvedOn?: LocalDate): boolean {
  const until = status === 'resolved' ? resolvedOn : today;
  return until !== undefined && compareDates(until, dueDate) > 0;
}
