/** Errors that mean "another writer got there first", for the callers that recover from them. */

/**
 * A unique constraint refused the row: someone else inserted it (a claim lost, a duplicate).
 * Through Prisma P2002; through the drivers (./sql) SQLite's constraint codes or PostgreSQL's 23505.
 */
export const isUniqueViolation = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === 'P2002' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
};

/**
 * A transaction lost to a concurrent one (P2034, or PostgreSQL's serialization failure or
 * deadlock as the driver reports it): retrying sees the winner's rows.
 */
export const isWriteConflict = (e: unknown): boolean =>
  (e as { code?: unknown } | undefined)?.code === 'P2034' || /could not serialize|write conflict|deadlock/i.test(e instanceof Error ? e.message : '');
