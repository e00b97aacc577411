import { DateTime } from 'luxon';
import { z } from 'zod';
import { daysBetween, isLocalDate, localDateOf, type LocalDate } from '../machines/domain/calendar';
import { isBreached } from '../machines/domain/deadlines';
import type { Db } from './client';

/**
 * What the bot achieved over a range of local dates (both inclusive, in the lender's time zone):
 * pure aggregation over the database, read only. Counted by when each thing happened: conversations
 * by their start, identity attempts, disclosures, agreements (confirmation), proofs, handoffs and
 * complaints by their creation. Money in integer fen.
 */
export interface ReportRange {
  from: LocalDate;
  to: LocalDate;
}

export interface Report {
  range: ReportRange;
  timeZone: string;
  generatedAt: string;
  conversations: {
    total: number;
    verified: number;
    /** Conversations that never went to a person (no Handoff row). */
    contained: number;
    withHandoff: number;
    /** contained / total, 0 when there are none. */
    containmentRate: number;
  };
  verification: { attempts: number; success: number; failure: number; successRate: number };
  options: {
    /** How many times the repayment options were shown. */
    presentations: number;
    /** Per kind: how often it was offered in those presentations, and agreements confirmed. */
    byKind: Array<{ kind: string; offered: number; accepted: number; amountFen: number }>;
  };
  promises: { count: number; amountFen: number };
  proofs: { count: number; amountFen: number; byStatus: Array<{ status: string; count: number; amountFen: number }> };
  handoffs: {
    total: number;
    byRule: Array<{ rule: string; count: number; claimed: number; avgWaitSeconds: number | null; maxWaitSeconds: number | null }>;
    claimed: number;
    unclaimed: number;
    avgWaitSeconds: number | null;
    medianWaitSeconds: number | null;
    maxWaitSeconds: number | null;
  };
  complaints: {
    total: number;
    byCategory: Array<{ category: string; count: number; resolved: number; onTime: number; breached: number }>;
    resolved: number;
    onTime: number;
    breached: number;
  };
  /**
   * Proactive reminders (db/reminderScheduler.ts), from their audit rows: sent; held for the quiet
   * hours (each reminder once, however often held); opt-outs ("退订", "stop") recorded.
   */
  reminders: { sent: number; held: number; optedOut: number };
}

export const OPTION_KINDS = ['installments', 'extension', 'waiver', 'promise'] as const;

const localDate = (what: string) =>
  z.string({ error: `${what} must be a date (YYYY-MM-DD)` }).refine(isLocalDate, { message: `${what} must be a date (YYYY-MM-DD)` });

const bothDates = (r: { from: string; to: string }) => isLocalDate(r.from) && isLocalDate(r.to);

/** `from` and `to` (inclusive, at most ~3 years apart, `from` not after `to`). */
export const reportRangeSchema = z
  .object({ from: localDate('from'), to: localDate('to') })
  .refine((r) => !bothDates(r) || r.from <= r.to, { message: 'from must not be after to', path: ['from'] })
  .refine((r) => !bothDates(r) || r.from > r.to || daysBetween(r.from, r.to) <= 1100, { message: 'the range must be at most 1100 days', path: ['to'] });

/** The instants [start, end) covering the local dates from..to in the time zone. */
export function rangeInstants(range: ReportRange, timeZone: string): { gte: Date; lt: Date } {
  const start = DateTime.fromISO(range.from, { zone: timeZone }).startOf('day');
  const end = DateTime.fromISO(range.to, { zone: timeZone }).startOf('day').plus({ days: 1 });
  return { gte: start.toJSDate(), lt: end.toJSDate() };
}

const seconds = (ms: number) => Math.round(ms / 1000);
const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);
const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
};
const rate = (part: number, whole: number) => (whole ? Math.round((part / whole) * 10_000) / 10_000 : 0);

/** Distinct reminders among `reminder.held` audit rows (a row without a readable id counts on its own). */
function heldReminders(rows: Array<{ details: string }>): number {
  const ids = new Set<string>();
  let unnamed = 0;
  for (const r of rows) {
    try {
      const id = (JSON.parse(r.details) as { reminderId?: unknown }).reminderId;
      if (typeof id === 'string') ids.add(id);
      else unnamed++;
    } catch {
      unnamed++;
    }
  }
  return ids.size + unnamed;
}

function offeredKinds(details: string): string[] {
  try {
    const parsed = JSON.parse(details) as { offered?: unknown };
    return Array.isArray(parsed.offered) ? parsed.offered.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return [];
  }
}

export async function buildReport(db: Db, range: ReportRange, opts: { timeZone: string; now: Date }): Promise<Report> {
  const { timeZone, now } = opts;
  const at = rangeInstants(range, timeZone);
  const today = localDateOf(now, timeZone);

  const [conversations, attempts, disclosures, agreements, proofs, handoffs, complaints, optedOut, remindersSent, remindersHeld] = await Promise.all([
    db.conversation.findMany({ where: { createdAt: at }, select: { id: true, borrowerId: true } }),
    db.identityAttempt.findMany({ where: { at }, select: { conversationId: true, at: true, success: true } }),
    db.auditLog.findMany({ where: { at, action: 'disclosure.repaymentOptions' }, select: { details: true } }),
    db.agreement.findMany({ where: { confirmedAt: at }, select: { kind: true, amountFen: true } }),
    db.proof.findMany({ where: { createdAt: at }, select: { status: true, amountFen: true } }),
    db.handoff.findMany({ where: { createdAt: at }, select: { rule: true, createdAt: true, claimedAt: true } }),
    db.complaint.findMany({ where: { createdAt: at }, select: { category: true, status: true, dueDate: true, resolvedAt: true } }),
    db.auditLog.count({ where: { at, action: 'contact.optedOut' } }),
    db.auditLog.count({ where: { at, action: 'reminder.sent' } }),
    db.auditLog.findMany({ where: { at, action: 'reminder.held' }, select: { details: true } }),
  ]);

  // Containment: of the conversations started in the range, those that never had a handoff (at any time).
  const ids = conversations.map((c) => c.id);
  const handedOff = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.handoff.findMany({ where: { conversationId: { in: ids.slice(i, i + 500) } }, select: { conversationId: true }, distinct: ['conversationId'] });
    for (const r of rows) handedOff.add(r.conversationId);
  }
  const contained = conversations.length - handedOff.size;

  // One attempt is stored once per key it counts against (the phone's and the conversation's).
  const attemptRows = new Map<string, boolean>();
  for (const a of attempts) attemptRows.set(`${a.conversationId}|${a.at.getTime()}`, a.success);
  const success = [...attemptRows.values()].filter(Boolean).length;

  const kinds = new Map<string, { kind: string; offered: number; accepted: number; amountFen: number }>(OPTION_KINDS.map((k) => [k, { kind: k, offered: 0, accepted: 0, amountFen: 0 }]));
  const kindRow = (k: string) => {
    let row = kinds.get(k);
    if (!row) kinds.set(k, (row = { kind: k, offered: 0, accepted: 0, amountFen: 0 }));
    return row;
  };
  for (const d of disclosures) for (const k of offeredKinds(d.details)) kindRow(k).offered += 1;
  for (const a of agreements) {
    const row = kindRow(a.kind);
    row.accepted += 1;
    row.amountFen += a.amountFen;
  }
  const promises = agreements.filter((a) => a.kind === 'promise');

  const proofStatuses = new Map<string, { status: string; count: number; amountFen: number }>(['pending_review', 'verified', 'rejected'].map((s) => [s, { status: s, count: 0, amountFen: 0 }]));
  for (const p of proofs) {
    const row = proofStatuses.get(p.status) ?? { status: p.status, count: 0, amountFen: 0 };
    row.count += 1;
    row.amountFen += p.amountFen;
    proofStatuses.set(p.status, row);
  }

  const waits: number[] = [];
  const rules = new Map<string, { rule: string; count: number; waits: number[] }>();
  for (const h of handoffs) {
    const row = rules.get(h.rule) ?? { rule: h.rule, count: 0, waits: [] };
    row.count += 1;
    if (h.claimedAt) {
      const w = seconds(h.claimedAt.getTime() - h.createdAt.getTime());
      row.waits.push(w);
      waits.push(w);
    }
    rules.set(h.rule, row);
  }

  const categories = new Map<string, { category: string; count: number; resolved: number; onTime: number; breached: number }>();
  let resolved = 0;
  let breached = 0;
  for (const c of complaints) {
    const row = categories.get(c.category) ?? { category: c.category, count: 0, resolved: 0, onTime: 0, breached: 0 };
    row.count += 1;
    const isResolved = c.status === 'resolved';
    if (isResolved) {
      row.resolved += 1;
      resolved += 1;
    }
    const late = isBreached(c.dueDate, today, c.status, c.resolvedAt ? localDateOf(c.resolvedAt, timeZone) : undefined);
    if (late) {
      row.breached += 1;
      breached += 1;
    } else if (isResolved) row.onTime += 1;
    categories.set(c.category, row);
  }
  const byName = <T>(key: (x: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));

  return {
    range,
    timeZone,
    generatedAt: now.toISOString(),
    conversations: {
      total: conversations.length,
      verified: conversations.filter((c) => c.borrowerId !== null).length,
      contained,
      withHandoff: handedOff.size,
      containmentRate: rate(contained, conversations.length),
    },
    verification: { attempts: attemptRows.size, success, failure: attemptRows.size - success, successRate: rate(success, attemptRows.size) },
    options: { presentations: disclosures.length, byKind: [...kinds.values()] },
    promises: { count: promises.length, amountFen: promises.reduce((s, a) => s + a.amountFen, 0) },
    proofs: { count: proofs.length, amountFen: proofs.reduce((s, p) => s + p.amountFen, 0), byStatus: [...proofStatuses.values()] },
    handoffs: {
      total: handoffs.length,
      byRule: [...rules.values()]
        .sort(byName((r) => r.rule))
        .map((r) => ({ rule: r.rule, count: r.count, claimed: r.waits.length, avgWaitSeconds: mean(r.waits), maxWaitSeconds: r.waits.length ? Math.max(...r.waits) : null })),
      claimed: waits.length,
      unclaimed: handoffs.length - waits.length,
      avgWaitSeconds: mean(waits),
      medianWaitSeconds: median(waits),
      maxWaitSeconds: waits.length ? Math.max(...waits) : null,
    },
    complaints: {
      total: complaints.length,
      byCategory: [...categories.values()].sort(byName((r) => r.category)),
      resolved,
      onTime: [...categories.values()].reduce((s, c) => s + c.onTime, 0),
      breached,
    },
    reminders: { sent: remindersSent, held: heldReminders(remindersHeld), optedOut },
  };
}

const csvCell = (v: string | number | null) => {
  const s = v === null ? '' : String(v);
  // Quoted when needed; a leading formula character is defused for spreadsheets.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** The report as CSV rows: section, metric, key, value (amounts in yuan with two decimals as well as fen). */
export function reportToCsv(r: Report): string {
  const rows: Array<[string, string, string, string | number | null]> = [];
  const add = (section: string, metric: string, key: string, value: string | number | null) => rows.push([section, metric, key, value]);
  add('range', 'from', '', r.range.from);
  add('range', 'to', '', r.range.to);
  add('range', 'timeZone', '', r.timeZone);
  for (const [k, v] of Object.entries(r.conversations)) add('conversations', k, '', v);
  for (const [k, v] of Object.entries(r.verification)) add('verification', k, '', v);
  add('options', 'presentations', '', r.options.presentations);
  for (const o of r.options.byKind) {
    add('options', 'offered', o.kind, o.offered);
    add('options', 'accepted', o.kind, o.accepted);
    add('options', 'amountFen', o.kind, o.amountFen);
  }
  add('promises', 'count', '', r.promises.count);
  add('promises', 'amountFen', '', r.promises.amountFen);
  add('proofs', 'count', '', r.proofs.count);
  add('proofs', 'amountFen', '', r.proofs.amountFen);
  for (const p of r.proofs.byStatus) {
    add('proofs', 'count', p.status, p.count);
    add('proofs', 'amountFen', p.status, p.amountFen);
  }
  for (const k of ['total', 'claimed', 'unclaimed', 'avgWaitSeconds', 'medianWaitSeconds', 'maxWaitSeconds'] as const) add('handoffs', k, '', r.handoffs[k]);
  for (const h of r.handoffs.byRule) {
    add('handoffs', 'count', h.rule, h.count);
    add('handoffs', 'claimed', h.rule, h.claimed);
    add('handoffs', 'avgWaitSeconds', h.rule, h.avgWaitSeconds);
    add('handoffs', 'maxWaitSeconds', h.rule, h.maxWaitSeconds);
  }
  for (const k of ['total', 'resolved', 'onTime', 'breached'] as const) add('complaints', k, '', r.complaints[k]);
  for (const c of r.complaints.byCategory) {
    add('complaints', 'count', c.category, c.count);
    add('complaints', 'resolved', c.category, c.resolved);
    add('complaints', 'onTime', c.category, c.onTime);
    add('complaints', 'breached', c.category, c.breached);
  }
  for (const [k, v] of Object.entries(r.reminders)) add('reminders', k, '', v);
  return ['section,metric,key,value', ...rows.map((row) => row.map(csvCell).join(','))].join('\r\n') + '\r\n';
}
