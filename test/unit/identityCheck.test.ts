import { checkIdentity } from '../../db/identityCheck';
import { identityDigest } from '../../db/identityDigest';
import type { Row, Sql, SqlArg } from '../../db/sql';

const SECRET = 'test-secret';
const POLICY = { maxFailedAttempts: 5, attemptWindowMinutes: 30, lockMinutes: 30 };
const INPUT = { phone: '13800138001', idLast4: '123X', birthDate: '1990-01-01', conversationId: 'web:c1', now: '2026-11-22T02:00:00.000Z' };
const BORROWER = { id: 'B1', name: '张三', locale: 'zh-CN', idLast4Digest: identityDigest(SECRET, 'idLast4', '123X'), birthDateDigest: identityDigest(SECRET, 'birthDate', '1990-01-01') };

/** Answers each statement by its table, only when the test says so; notes what was asked. */
function heldSql(rowsOf: (sql: string) => Row[]) {
  const asked: string[] = [];
  const waiting: Array<() => void> = [];
  const sql: Sql = {
    all: <T>(text: string, _args?: readonly SqlArg[]) =>
      new Promise<T[]>((resolve) => {
        asked.push(text);
        waiting.push(() => resolve(rowsOf(text) as T[]));
      }),
    run: async () => 0,
  };
  const answerAll = () => waiting.splice(0).forEach((answer) => answer());
  return { sql, asked, answerAll };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('the lock and the borrower are asked for together, before either is answered (one round trip on PostgreSQL)', async () => {
  const db = heldSql((text) => (text.includes('"Borrower"') ? [BORROWER] : []));
  const result = checkIdentity({ sql: db.sql, identitySecret: SECRET, policy: POLICY, timeZone: 'Asia/Shanghai' }, INPUT);
  await settle();
  expect(db.asked.map((text) => text.match(/FROM "(\w+)"/)?.[1])).toEqual(['IdentityLock', 'Borrower']);
  db.answerAll();
  await expect(result).resolves.toMatchObject({ outcome: 'verified', borrower: { id: 'B1' } });
});

test('a lock decides, even when the details match the borrower read beside it', async () => {
  const db = heldSql((text) => (text.includes('"Borrower"') ? [BORROWER] : text.includes('"IdentityLock"') ? [{ until: '2026-11-22T02:30:00.000+00:00' }] : []));
  const result = checkIdentity({ sql: db.sql, identitySecret: SECRET, policy: POLICY, timeZone: 'Asia/Shanghai' }, INPUT);
  await settle();
  db.answerAll();
  await expect(result).resolves.toEqual({ outcome: 'locked', until: '2026-11-22T02:30:00.000Z', untilLocal: '2026-11-22 10:30' });
  expect(db.asked).toHaveLength(2);
});
