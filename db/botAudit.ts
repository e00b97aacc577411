import type { Tx } from './sql';

/** An audit entry by the bot, written in a turn's transaction. */
export function auditByBot(tx: Tx, at: Date, action: string, borrowerId: string | null | undefined, conversationId: string, details: Record<string, unknown>): void {
  tx.insert('INSERT INTO "AuditLog" ("at", "actor", "action", "borrowerId", "conversationId", "details") VALUES (?, \'bot\', ?, ?, ?, ?)', [
    at,
    action,
    borrowerId ?? null,
    conversationId,
    JSON.stringify(details),
  ]);
}
