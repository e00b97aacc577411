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
 * A transaction lost to a concurrent one: retrying sees the winner's rows. Prisma reports it as
 * P2034 from a statement, but as the adapter's own DriverAdapterError (kind
 * TransactionWriteConflict) when PostgreSQL refuses the COMMIT; the drivers (./sql) give
 * PostgreSQL's serialization failure (40001) or deadlock (40P01) codes.
 */
export const isWriteConflict = (e: unknown): boolean => {
  const { code, cause } = (e ?? {}) as { code?: unknown; cause?: { kind?: unknown } };
  return code === 'P2034' || code === '40001' || code === '40P01' || cause?.kind === 'TransactionWriteConflict' || /could not serialize|deadlock/i.test(e instanceof Error ? e.message : '');
};
