import { combinedStatement } from '../../db/sql';

/** The one statement PostgreSQL gets for a transaction's held inserts and version check (db/sql.ts, Tx.insert). */
describe('combinedStatement', () => {
  const a = { sql: 'INSERT INTO "A" ("x") VALUES (?)', args: [1] };
  const b = { sql: 'INSERT INTO "B" ("x", "y") VALUES (?, ?), (?, ?)', args: ['b1', 'b2', 'b3', 'b4'] };
  const c = { sql: 'INSERT INTO "C" ("x") VALUES (?)', args: [true] };
  const check = { sql: 'UPDATE "T" SET "v" = ? WHERE "id" = ? AND "v" = ?', args: [2, 't', 1] };

  test('one insert is sent as it is', () => {
    expect(combinedStatement([a])).toBe(a);
  });

  test('inserts alone: each but the last a part of the WITH, the last the main statement, arguments in the order of the text', () => {
    expect(combinedStatement([a, b, c])).toEqual({
      sql: 'WITH "i0" AS (INSERT INTO "A" ("x") VALUES (?)), "i1" AS (INSERT INTO "B" ("x", "y") VALUES (?, ?), (?, ?)) INSERT INTO "C" ("x") VALUES (?)',
      args: [1, 'b1', 'b2', 'b3', 'b4', true],
    });
  });

  test('with a check: the UPDATE first, every insert a part, and a main query that fails when the UPDATE changed no row', () => {
    expect(combinedStatement([a, b], check)).toEqual({
      sql: 'WITH "changed" AS (UPDATE "T" SET "v" = ? WHERE "id" = ? AND "v" = ? RETURNING 1), "i0" AS (INSERT INTO "A" ("x") VALUES (?)), "i1" AS (INSERT INTO "B" ("x", "y") VALUES (?, ?), (?, ?)) SELECT 1 / COUNT(*) FROM "changed"',
      args: [2, 't', 1, 1, 'b1', 'b2', 'b3', 'b4'],
    });
    expect(combinedStatement([], check)).toEqual({
      sql: 'WITH "changed" AS (UPDATE "T" SET "v" = ? WHERE "id" = ? AND "v" = ? RETURNING 1) SELECT 1 / COUNT(*) FROM "changed"',
      args: [2, 't', 1],
    });
  });

  test('nothing to combine is a mistake, not an empty statement', () => {
    expect(() => combinedStatement([])).toThrow(/no statement/);
  });
});
