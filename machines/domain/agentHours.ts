import { localPartsOf } from './calendar';

/** Agents' working hours in the lender's time zone (dialogs/policy/handoff.json). */
export interface AgentHours {
  start: string; // HH:MM
  end: string; // HH:MM, exclusive
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
}

export function agentsWorking(now: Date, timeZone: string, hours: AgentHours): boolean {
  // Intl (cached per zone) rather than a luxon DateTime per turn: see calendar.ts.
  const local = localPartsOf(now, timeZone);
  if (!hours.days.includes(local.weekday)) return false;
  const minutes = local.hour * 60 + local.minute;
  const at = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const start = at(hours.start);
  const end = at(hours.end);
  // A shift may run past midnight (e.g. 20:00–02:00).
  return start <= end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}
