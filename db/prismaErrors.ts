/** Prisma's errors that mean "another writer got there first", for the callers that recover from them. */

/** A unique constraint refused the row (P2002): someone else inserted it (a claim lost, a duplicate). */
export const isUniqueViolation = (e: unknown): boolean => (e as { code?: unknown } | undefined)?.code === 'P2002';

/**
 * A transaction lost to a concurrent one (P2034, or PostgreSQL's serialization failure or
 * deadlock as the driver reports it): retrying sees the winner's rows.
 */
export const isWriteConflict = (e: unknown): boolean =>
  (e as { code?: unknown } | undefined)?.code === 'P2034' || /could not serialize|write conflict|deadlock/i.test(e instanceof Error ? e.message : '');
