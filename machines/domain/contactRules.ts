import { DateTime } from 'luxon';

/**
 * When the bot may send a borrower a proactive message (a reminder), by the contact rules in
 * dialogs/policy/contact.json. Pure: given the borrower's sent history (every kind of proactive
 * message counts), whether they opted out, and the time, it answers send now, hold until the quiet
 * hours end, or skip, and why. The caller audits the decision and, when held, asks again then.
 */
export interface ContactPolicy {
  /** No messages from `start` until `end` (local "HH:MM"); may wrap midnight, e.g. 22:00 → 08:00. */
  quietHours: { start: string; end: string };
  /** At most this many proactive messages per local calendar day, all kinds together. */
  maxPerDay: number;
  /** At most this many in any 7 × 24 hours, all kinds together. */
  maxPer7Days: number;
}

export interface ContactInput {
  now: Date;
  /** The borrower's time zone (the lender's when the borrower's is unknown). */
  timeZone: string;
  /** Opted out ("退订", "stop") and not written since. */
  optedOut: boolean;
  /** When proactive messages were sent to this borrower (any kind, any conversation). */
  sentAt: readonly Date[];
  policy: ContactPolicy;
}

export type ContactDecision =
  | { action: 'send' }
  | { action: 'hold'; reason: 'quietHours'; until: Date }
  | { action: 'skip'; reason: 'optedOut' }
  | { action: 'skip'; reason: 'dailyCap' | 'weeklyCap'; sentInWindow: number; limit: number; nextAllowedAt: Date };

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

function minutesOf(hhmm: string): number {
  const m = HHMM.exec(hhmm);
  if (!m) throw new Error(`not a time of day (HH:MM): ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Whether a local time (minutes after midnight) falls in the quiet hours. */
export function inQuietHours(minute: number, quiet: ContactPolicy['quietHours']): boolean {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** The first instant at or after `now` that is outside the quiet hours, in the time zone. */
export function quietHoursEnd(now: Date, timeZone: string, quiet: ContactPolicy['quietHours']): Date {
  const local = DateTime.fromJSDate(now, { zone: timeZone });
  const end = minutesOf(quiet.end);
  let candidate = local.startOf('day').set({ hour: Math.floor(end / 60), minute: end % 60 });
  if (candidate <= local) candidate = candidate.plus({ days: 1 });
  return candidate.toJSDate();
}

export function decideContact(input: ContactInput): ContactDecision {
  const { now, timeZone, policy } = input;
  if (input.optedOut) return { action: 'skip', reason: 'optedOut' };

  const local = DateTime.fromJSDate(now, { zone: timeZone });
  if (!local.isValid) throw new Error(`unknown time zone: ${timeZone}`);
  if (inQuietHours(local.hour * 60 + local.minute, policy.quietHours)) {
    return { action: 'hold', reason: 'quietHours', until: quietHoursEnd(now, timeZone, policy.quietHours) };
  }

  const past = input.sentAt.filter((t) => t.getTime() <= now.getTime());
  const dayStart = local.startOf('day');
  const today = past.filter((t) => DateTime.fromJSDate(t, { zone: timeZone }) >= dayStart);
  if (today.length >= policy.maxPerDay) {
    // Tomorrow, once the quiet hours (if any) are over.
    const tomorrow = dayStart.plus({ days: 1 }).toJSDate();
    const next = inQuietHours(0, policy.quietHours) ? quietHoursEnd(tomorrow, timeZone, policy.quietHours) : tomorrow;
    return { action: 'skip', reason: 'dailyCap', sentInWindow: today.length, limit: policy.maxPerDay, nextAllowedAt: next };
  }

  const weekAgo = now.getTime() - 7 * 24 * 60 * 60 * 1000;
  const week = past.filter((t) => t.getTime() > weekAgo).sort((a, b) => a.getTime() - b.getTime());
  if (week.length >= policy.maxPer7Days) {
    // When enough of them have left the window to allow one more.
    const leaving = week[week.length - policy.maxPer7Days]!;
    return { action: 'skip', reason: 'weeklyCap', sentInWindow: week.length, limit: policy.maxPer7Days, nextAllowedAt: new Date(leaving.getTime() + 7 * 24 * 60 * 60 * 1000) };
  }
  return { action: 'send' };
}
