import type { Db } from '../db/client';
import type { HubConversationEvent } from '../machines/conversationTypes';
import type { Logger } from './logger';

/**
 * Tells a borrower once when no agent took their handoff within the configured wait. Each
 * handoff is claimed with a conditional update, so with several instances only one tells.
 */
export function watchHandoffWaits(deps: {
  db: Db;
  clock: () => Date;
  logger: Logger;
  /** Read at every check, so a limit published in the studio applies without a restart. */
  waitLimitMinutes: () => number | Promise<number>;
  deliver: (conversationId: string, event: HubConversationEvent) => Promise<void>;
  everyMs?: number;
}): { check(): Promise<number>; stop(): void } {
  const { db, clock, logger } = deps;
  async function check(): Promise<number> {
    const now = clock();
    const limitMinutes = await deps.waitLimitMinutes();
    const overdue = await db.handoff.findMany({
      where: { status: 'queued', waitNoticeAt: null, createdAt: { lte: new Date(now.getTime() - limitMinutes * 60_000) } },
      take: 50,
    });
    let told = 0;
    for (const h of overdue) {
      const { count } = await db.handoff.updateMany({ where: { id: h.id, status: 'queued', waitNoticeAt: null }, data: { waitNoticeAt: now } });
      if (count !== 1) continue; // another instance has it
      try {
        await deps.deliver(h.conversationId, { type: 'HANDOFF_WAIT_EXCEEDED' });
        told++;
      } catch (err) {
        logger.warn({ err, handoffId: h.id }, 'could not tell the borrower that no agent was free');
      }
    }
    return told;
  }
  const timer = setInterval(() => void check().catch((err) => logger.error({ err }, 'handoff wait check failed')), deps.everyMs ?? 30_000);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
