import type { FileStore } from '../proofs/fileStore';
import type { Database, Db } from './client';
import { asDate } from './sql';

/**
 * Retention: after `retentionDays`, what borrowers said and sent goes; the records the lender
 * must keep stay.
 *
 * Deleted: transcript messages; the replies kept for retried activities; conversations (their
 * machine snapshot and reference) idle since before the cutoff once none of their messages is
 * left; the last messages copied into handoff summaries; identity attempts and expired locks;
 * reminders settled (sent, skipped, given up) before the cutoff (their audit rows stay); proof files (the Proof rows keep amount, date, method, reference and the file's hash).
 * Kept: the audit log, agreements, proofs' and complaints' records, handoffs, borrowers.
 *
 * Once per interval across every instance: the whole run is one transaction that first takes a
 * PostgreSQL advisory lock (SQLite: the write lock every transaction takes) and then looks for
 * the previous run's audit row; an instance that loses either skips. Every step is idempotent, so
 * a run that dies half-way is simply done again by the next.
 */
export interface RetentionDeps {
  database: Pick<Database, 'prisma' | 'sql' | 'kind'>;
  files: FileStore;
  clock: () => Date;
  retentionDays: number;
}

export interface RetentionRun {
  cutoff: string;
  messages: number;
  processedActivities: number;
  conversations: number;
  handoffSummaries: number;
  identityAttempts: number;
  identityLocks: number;
  reminders: number;
  proofFiles: number;
  /** Files no record refers to (a turn that died after storing its file), when swept this run. */
  orphanFiles?: number;
}

export const RETENTION_ACTION = 'retention.run';
/** Its row in JobRun, the latest run. */
const RETENTION_JOB = 'retention';
/** Runs closer together than this are skipped (an instance whose timer fires just after another's). */
export const MIN_RUN_INTERVAL_MS = 55 * 60_000;
/** Files without a record are swept once a day; younger ones may belong to a turn still committing. */
const ORPHAN_SWEEP_INTERVAL_MS = 24 * 3_600_000;
const ORPHAN_GRACE_MS = 3_600_000;
/** Proof files are removed for proofs created since the previous run's cutoff, less this margin. */
const PROOF_WINDOW_MARGIN_MS = 24 * 3_600_000;
/** Arbitrary, distinct from the migrator's lock key. */
const PG_RETENTION_LOCK_KEY = 7_236_947_821;

/** Runs retention unless another instance did within `minIntervalMs`; returns what it deleted, or undefined when skipped. */
export async function runRetention(deps: RetentionDeps, options: { minIntervalMs?: number } = {}): Promise<RetentionRun | undefined> {
  const { database, files, clock } = deps;
  const minIntervalMs = options.minIntervalMs ?? MIN_RUN_INTERVAL_MS;
  const now = clock();
  const cutoff = new Date(now.getTime() - deps.retentionDays * 86_400_000);

  const ranRecently = (at: Date) => now.getTime() - at.getTime() < minIntervalMs;
  // Asked first with plain SQL, outside the transaction: a start within the hour of the last run
  // (a restart, another instance) stops here, so its first turns wait neither for the write lock
  // nor for Prisma to load (bench/FINDINGS.md). The transaction asks again, under its lock.
  const [latest] = await database.sql.all<{ at: unknown }>('SELECT "at" FROM "JobRun" WHERE "job" = ?', [RETENTION_JOB]);
  if (latest && ranRecently(asDate(latest.at))) return undefined;

  const result = await database.prisma.$transaction(
    async (tx) => {
      if (database.kind === 'postgres') {
        const [row] = await tx.$queryRawUnsafe<Array<{ locked: boolean }>>(`SELECT pg_try_advisory_xact_lock(${PG_RETENTION_LOCK_KEY}) AS locked`);
        if (!row?.locked) return undefined;
      }
      const previous = await tx.jobRun.findUnique({ where: { job: RETENTION_JOB } });
      if (previous && ranRecently(previous.at)) return undefined;
      const last = previous ? (JSON.parse(previous.details) as Partial<RetentionRun> & { sweptAt?: string }) : {};

      const proofsSince = last.cutoff ? new Date(Date.parse(last.cutoff) - PROOF_WINDOW_MARGIN_MS) : undefined;
      const oldProofs = await tx.proof.findMany({
        where: { sha256: { not: null }, createdAt: { lt: cutoff, ...(proofsSince ? { gte: proofsSince } : {}) } },
        select: { sha256: true },
      });
      // Before the commit: if the transaction fails, the next run finds the same proofs again.
      let proofFiles = 0;
      for (const p of oldProofs) if (await files.remove(p.sha256!)) proofFiles++;

      const run: RetentionRun = {
        cutoff: cutoff.toISOString(),
        messages: (await tx.message.deleteMany({ where: { createdAt: { lt: cutoff } } })).count,
        processedActivities: (await tx.processedActivity.deleteMany({ where: { at: { lt: cutoff } } })).count,
        // A proactive message after the last turn keeps its conversation until it, too, is old.
        conversations: (await tx.conversation.deleteMany({ where: { lastActivityAt: { lt: cutoff }, messages: { none: {} } } })).count,
        handoffSummaries: await scrubHandoffSummaries(tx as Db, cutoff),
        identityAttempts: (await tx.identityAttempt.deleteMany({ where: { at: { lt: cutoff } } })).count,
        identityLocks: (await tx.identityLock.deleteMany({ where: { until: { lt: cutoff } } })).count,
        reminders: (await tx.reminder.deleteMany({ where: { updatedAt: { lt: cutoff }, status: { in: ['sent', 'skipped', 'failed'] } } })).count,
        proofFiles,
      };
      const sweep = !last.sweptAt || now.getTime() - Date.parse(last.sweptAt) >= ORPHAN_SWEEP_INTERVAL_MS;
      const details = JSON.stringify({ ...run, retentionDays: deps.retentionDays, sweptAt: sweep ? now.toISOString() : last.sweptAt });
      await tx.auditLog.create({ data: { at: now, actor: 'system:retention', action: RETENTION_ACTION, borrowerId: null, conversationId: null, details } });
      await tx.jobRun.upsert({ where: { job: RETENTION_JOB }, create: { job: RETENTION_JOB, at: now, details }, update: { at: now, details } });
      return { run, sweep };
    },
    // Holds the database's write lock on SQLite: an hour's worth of rows, normally well under a second.
    { timeout: 120_000, maxWait: 30_000 },
  );
  if (!result) return undefined;
  if (result.sweep) {
    // Outside the transaction: a walk over the whole directory, with one lookup per file.
    result.run.orphanFiles = await files.removeUnreferenced(async (sha256) => (await database.prisma.proof.count({ where: { sha256 } })) > 0, ORPHAN_GRACE_MS);
  }
  return result.run;
}

/** Drops the copies of the last messages from handoffs created before the cutoff. */
async function scrubHandoffSummaries(tx: Db, cutoff: Date): Promise<number> {
  const rows = await tx.handoff.findMany({ where: { createdAt: { lt: cutoff }, summary: { contains: '"lastMessages":[{' } }, select: { id: true, summary: true } });
  for (const row of rows) {
    const summary = JSON.parse(row.summary) as Record<string, unknown>;
    await tx.handoff.update({ where: { id: row.id }, data: { summary: JSON.stringify({ ...summary, lastMessages: [] }) } });
  }
  return rows.length;
}

/**
 * Runs retention now (unless `atStart` is false) and then every `everyMs` (hourly), in the
 * background; `stop()` cancels the timer and waits for a run in progress. A failed run is logged
 * and tried again at the next tick.
 */
export function scheduleRetention(deps: RetentionDeps & { atStart?: boolean; onRun(run: RetentionRun): void; onError(err: unknown): void }, everyMs = 3_600_000) {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    running = running.then(() =>
      runRetention(deps).then(
        (run) => run && deps.onRun(run),
        (err: unknown) => deps.onError(err),
      ),
    );
  };
  const first = deps.atStart === false ? undefined : setTimeout(tick, 0);
  const timer = setInterval(tick, everyMs);
  // The timers alone must not keep a process alive that has nothing else to do.
  first?.unref();
  timer.unref();
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
