import type { Sql } from './sql';

/** An audit entry by the bot, written in a turn's transaction. */
export function auditByBot(tx: Sql, at: Date, action: string, borrowerId: string | null | undefined, conversationId: string, details: Record<string, unknown>): Promise<number> {
  return tx.run('INSERT INTO "AuditLog" ("at", "actor", "action", "borrowerId", "conversationId", "details") VALUES (?, \'bot\', ?, ?, ?, ?)', [
    at,
    action,
    borrowerId ?? null,
    conversationId,
    JSON.stringify(details),
  ]);
}
