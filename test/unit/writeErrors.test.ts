import { DriverAdapterError } from '@prisma/driver-adapter-utils';
import { isUniqueViolation, isWriteConflict } from '../../db/writeErrors';

/** How each path reports "another writer got there first" (db/writeErrors.ts). */
const withCode = (code: string, message = 'error') => Object.assign(new Error(message), { code });

test('a lost transaction, however it is reported, is a write conflict', () => {
  expect(isWriteConflict(withCode('P2034'))).toBe(true);
  // PostgreSQL refusing the COMMIT of a serializable transaction, through Prisma's pg adapter.
  expect(isWriteConflict(new DriverAdapterError({ kind: 'TransactionWriteConflict' }))).toBe(true);
  expect(isWriteConflict(withCode('40001', 'could not serialize access due to read/write dependencies among transactions'))).toBe(true);
  expect(isWriteConflict(withCode('40P01', 'deadlock detected'))).toBe(true);
});

test('other failures are not', () => {
  expect(isWriteConflict(new DriverAdapterError({ kind: 'UniqueConstraintViolation', constraint: { fields: ['id'] } }))).toBe(false);
  expect(isWriteConflict(withCode('23505'))).toBe(false);
  expect(isWriteConflict(new Error('connection refused'))).toBe(false);
  expect(isWriteConflict(undefined)).toBe(false);
  expect(isUniqueViolation(withCode('23505'))).toBe(true);
  expect(isUniqueViolation(withCode('SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(true);
  expect(isUniqueViolation(withCode('40001'))).toBe(false);
});
