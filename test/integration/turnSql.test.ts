import net from 'node:net';
import Sqlite from 'better-sqlite3';
import { openDatabase, sqliteFilePath, type Database } from '../../db/client';
import { ConcurrentTurnError, createConversationStore, type TurnCommit } from '../../db/conversationStore';
import { migrateDatabase } from '../../db/migrator';
import { isUniqueViolation } from '../../db/writeErrors';
import { freshDatabaseUrl } from '../support/databases';

/**
 * The turn path writes with plain SQL (db/sql.ts) and everything else reads with Prisma: every
 * kind of row a turn writes must read back through Prisma exactly as written (instants to the
 * millisecond, booleans, integers), and Prisma's date filters must see them. TEST_DATABASE=postgres
 * runs it on PostgreSQL.
 */
const kind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
let fresh: Awaited<ReturnType<typeof freshDatabaseUrl>>;
let database: Database;
beforeAll(async () => {
  fresh = await freshDatabaseUrl(kind);
  await migrateDatabase(fresh.url);
  database = await openDatabase(fresh.url);
});
afterAll(async () => {
  await database?.close();
  await fresh?.drop();
});

const NOW = new Date('2026-11-22T02:03:04.567Z');
const UNTIL = '2026-11-22T02:33:04.001Z';

function commit(fields: Partial<TurnCommit> = {}): TurnCommit {
  return {
    conversationId: 'test:sql',
    channelId: 'test',
    locale: 'zh-CN',
    reference: { user: { id: 'u1' } },
    snapshot: { value: 'idle', context: { n: 1 } },
    flowVersion: 'f1',
    borrowerId: 'B1',
    expectedVersion: null,
    expectedBorrowerId: null,
    now: NOW,
    inbound: { text: '你好', activityId: 'a1', activity: { type: 'message', text: '你好' } },
    outbound: [{ text: '您好', activity: { type: 'message', text: '您好' } }],
    records: [],
    processed: { key: 'test:sql:a1', replies: [{ type: 'message', text: '您好' }] },
    mayHaveOptedOut: false,
    ...fields,
  };
}

/** An identity lock's insert: a row the transaction tests write freely. */
const lock = (key: string) => ['INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?)', [key, NOW]] as const;
/** How many identity locks have keys starting with `prefix`. */
const lockCount = (prefix: string) => database.prisma.identityLock.count({ where: { key: { startsWith: prefix } } });
/** What a transaction failed with (its value when it did not fail). */
const failureOf = (fn: Parameters<Database['sql']['transaction']>[0]) => database.sql.transaction(fn).catch((e: unknown) => e);

test('every row a turn writes reads back through Prisma as written', async () => {
  const store = createConversationStore(database.sql);
  const quote = {
    reference: 'AG-TESTSQL1', kind: 'installments' as const, quotedAt: '2026-11-22T02:00:00.250Z', loanIds: ['L1'], amount: '3000.00', currentTotal: '3000.00',
    schedule: [{ number: 1, dueDate: '2026-12-22', amount: '1000.00' }, { number: 2, dueDate: '2027-01-22', amount: '1000.00' }, { number: 3, dueDate: '2027-02-22', amount: '1000.00' }],
  };
  const { handoffIds } = await store.commitTurn(
    commit({
      records: [
        { kind: 'identityAttempt', keys: ['phone:x'], success: true },
        { kind: 'identityLock', keys: ['conversation:test:sql'], until: UNTIL },
        { kind: 'hardship', borrowerId: 'B1', reason: 'job_loss' },
        { kind: 'agreement', borrowerId: 'B1', quote, confirmedAt: NOW.toISOString(), hardship: 'job_loss' },
        { kind: 'proof', borrowerId: 'B1', receipt: 'PP-TESTSQL1', amount: '1000.00', paidOn: '2026-11-21', method: 'wechat_pay', reference: 'wx 42', file: { sha256: 'ab'.repeat(32), fileType: 'image/png', size: 1234 } },
        { kind: 'complaint', borrowerId: 'B1', ticket: 'CP-TESTSQL1', category: 'service', description: 'd', desiredOutcome: 'o', dueDate: '2026-12-07' },
        { kind: 'contactPreference', optedOut: true, conversationId: 'test:sql', borrowerId: 'B1' },
        { kind: 'handoff', rule: 'explicitRequest', priority: 5, borrowerId: 'B1', summary: { verified: true, tried: [], agentsAvailable: true } },
      ],
    }),
  );
  const p = database.prisma;
  const conversation = await p.conversation.findUniqueOrThrow({ where: { id: 'test:sql' } });
  expect(conversation).toMatchObject({ version: 1, borrowerId: 'B1', lastActivityAt: NOW, createdAt: NOW, locale: 'zh-CN', flowVersion: 'f1' });
  expect(JSON.parse(conversation.snapshot)).toEqual({ value: 'idle', context: { n: 1 } });
  const messages = await p.message.findMany({ where: { conversationId: 'test:sql' }, orderBy: { id: 'asc' } });
  expect(messages.map((m) => [m.direction, m.text, m.activityId, m.createdAt])).toEqual([['in', '你好', 'a1', NOW], ['out', '您好', null, NOW]]);
  expect(await p.processedActivity.findUniqueOrThrow({ where: { key: 'test:sql:a1' } })).toMatchObject({ at: NOW });
  expect(await p.identityAttempt.findFirstOrThrow({ where: { key: 'phone:x' } })).toMatchObject({ success: true, at: NOW });
  expect(await p.identityLock.findUniqueOrThrow({ where: { key: 'conversation:test:sql' } })).toEqual({ key: 'conversation:test:sql', until: new Date(UNTIL) });
  expect(await p.hardshipReport.findFirstOrThrow({ where: { borrowerId: 'B1' } })).toMatchObject({ reason: 'job_loss', at: NOW });
  const agreement = await p.agreement.findUniqueOrThrow({ where: { id: 'AG-TESTSQL1' }, include: { payments: { orderBy: { number: 'asc' } } } });
  expect(agreement).toMatchObject({ status: 'active', amountFen: 300000, shownAt: new Date(quote.quotedAt), confirmedAt: NOW, hardshipReason: 'job_loss' });
  expect(agreement.payments.map((x) => [x.number, x.dueDate, x.amountFen])).toEqual([[1, '2026-12-22', 100000], [2, '2027-01-22', 100000], [3, '2027-02-22', 100000]]);
  expect(await p.proof.findUniqueOrThrow({ where: { id: 'PP-TESTSQL1' } })).toMatchObject({ status: 'pending_review', amountFen: 100000, fileSize: 1234, reference: 'WX42', createdAt: NOW, outcomeNotifiedAt: null });
  const complaint = await p.complaint.findUniqueOrThrow({ where: { id: 'CP-TESTSQL1' }, include: { updates: true } });
  expect(complaint).toMatchObject({ status: 'received', severity: 'normal', createdAt: NOW });
  expect(complaint.updates).toMatchObject([{ status: 'received', by: 'bot', at: NOW }]);
  expect(await p.contactPreference.findMany({ where: { optedOut: true }, orderBy: { key: 'asc' } })).toMatchObject([{ key: 'borrower:B1', changedAt: NOW }, { key: 'conversation:test:sql', changedAt: NOW }]);
  expect(handoffIds).toHaveLength(1);
  const handoff = await p.handoff.findUniqueOrThrow({ where: { id: handoffIds[0] } });
  expect(handoff).toMatchObject({ status: 'queued', priority: 5, createdAt: NOW });
  expect(JSON.parse(handoff.summary).lastMessages).toEqual([{ direction: 'in', text: '你好' }, { direction: 'out', text: '您好' }]);
  const audits = await p.auditLog.findMany({ where: { conversationId: 'test:sql' }, orderBy: { id: 'asc' } });
  expect(audits.map((a) => a.action)).toEqual(['hardship.recorded', 'agreement.confirmed', 'proof.received', 'complaint.filed', 'contact.optedOut', 'handoff.queued']);
  expect(audits.every((a) => a.actor === 'bot' && a.at.getTime() === NOW.getTime())).toBe(true);

  // Prisma's date comparisons see the instants the SQL path wrote (same stored format).
  expect(await p.conversation.count({ where: { id: 'test:sql', lastActivityAt: { gte: NOW, lte: NOW } } })).toBe(1);
  expect(await p.identityLock.count({ where: { until: { gt: new Date(new Date(UNTIL).getTime() - 1) } } })).toBe(1);

  // The store reads back what it wrote, with the opt-out; the next turn opts the borrower back in and notes the outcomes.
  const start = await store.start('test:sql', 'test:sql:a1');
  expect(start).toMatchObject({ optedOut: true, earlier: [{ type: 'message', text: '您好' }], stored: { version: 1, borrowerId: 'B1', lastActivityAt: NOW, reference: { user: { id: 'u1' } } } });
  expect(await store.start('test:new', undefined)).toEqual({ stored: null, optedOut: false });
  const later = new Date(NOW.getTime() + 60_000);
  const next = { expectedVersion: 1, now: later, processed: { key: 'test:sql:a2', replies: [] }, inbound: { text: 'hi', activity: {} } };
  await store.commitTurn(commit({ ...next, records: [{ kind: 'outcomesNotified', ids: ['PP-TESTSQL1', 'CP-TESTSQL1'] }], mayHaveOptedOut: start.optedOut }));
  expect(await p.contactPreference.count({ where: { optedOut: true } })).toBe(0);
  expect(await store.start('test:sql', undefined)).toMatchObject({ optedOut: false });
  expect(await p.proof.findUniqueOrThrow({ where: { id: 'PP-TESTSQL1' } })).toMatchObject({ outcomeNotifiedAt: later });
  expect(await p.complaint.findUniqueOrThrow({ where: { id: 'CP-TESTSQL1' } })).toMatchObject({ outcomeNotifiedAt: later });
  expect(await store.openHandoff('test:sql')).toBe(handoffIds[0]);
  expect((await store.activitiesAfter('test:sql', 0)).map((a) => a.activity)).toEqual([
    { type: 'message', text: '你好' },
    { type: 'message', text: '您好' },
    {},
    { type: 'message', text: '您好' },
  ]);
});

test('a turn sets the borrower when it changes and keeps it otherwise, version-checked either way', async () => {
  const store = createConversationStore(database.sql);
  const turn = (version: number | null, from: string | null, to: string | null) =>
    store.commitTurn(commit({ conversationId: 'test:who', expectedVersion: version, expectedBorrowerId: from, borrowerId: to, inbound: null, processed: undefined }));
  const who = () => database.prisma.conversation.findUniqueOrThrow({ where: { id: 'test:who' } }).then((c) => [c.version, c.borrowerId]);
  await turn(null, null, null);
  await turn(1, null, 'B2'); // verified
  expect(await who()).toEqual([2, 'B2']);
  await turn(2, 'B2', 'B2');
  expect(await who()).toEqual([3, 'B2']);
  await expect(turn(2, 'B2', 'B2')).rejects.toBeInstanceOf(ConcurrentTurnError);
  await turn(3, 'B2', null); // the session ended
  expect(await who()).toEqual([4, null]);
});

test('a turn on a version another turn moved past commits nothing, and its check waits for no answer', async () => {
  const store = createConversationStore(database.sql);
  const turn = (version: number | null, n: number) =>
    store.commitTurn(commit({ conversationId: 'test:stale', expectedVersion: version, expectedBorrowerId: 'B1', processed: { key: `stale:${n}`, replies: [] }, records: [{ kind: 'audit', action: `stale.turn${n}`, details: {} }] }));
  await turn(null, 1);
  const writes = socketWrites();
  try {
    await turn(1, 2);
    // On PostgreSQL the version check, the turn's writes and the COMMIT go out together.
    if (kind === 'postgres') expect(writes.count()).toBe(1);
  } finally {
    writes.restore();
  }
  await expect(turn(1, 3)).rejects.toBeInstanceOf(ConcurrentTurnError);
  expect(await database.prisma.message.count({ where: { conversationId: 'test:stale' } })).toBe(4);
  expect(await database.prisma.processedActivity.count({ where: { key: 'stale:3' } })).toBe(0);
  expect(await database.prisma.auditLog.count({ where: { action: 'stale.turn3' } })).toBe(0);
  expect(await database.prisma.conversation.findUniqueOrThrow({ where: { id: 'test:stale' } })).toMatchObject({ version: 2 });
});

(kind === 'sqlite' ? test : test.skip)('on SQLite the reads of a pass share one read transaction, which ends with the pass', async () => {
  const read = () => database.sql.all<{ n: number }>('SELECT COUNT(*) AS "n" FROM "IdentityLock" WHERE "key" LIKE \'r1:%\'');
  let outcomes: Array<PromiseSettledResult<unknown>> = [];
  expect(
    await runsDuring('BEGIN', async () => {
      outcomes = await Promise.allSettled([read(), database.sql.all('SELECT "nothing" FROM "NoSuchTable"'), read()]);
    }),
  ).toBe(1);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  // A transaction asked for in the same pass as reads waits for the pass's end, then commits.
  const [, committed] = await Promise.all([read(), database.sql.transaction(async (tx) => tx.run('INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?)', ['r1:a', NOW]))]);
  expect(committed).toBe(1);
  // Another connection's commit is seen by the next pass's reads: no snapshot outlives its pass.
  const other = new Sqlite(sqliteFilePath(fresh.url));
  try {
    other.prepare('INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?)').run('r1:b', UNTIL);
  } finally {
    other.close();
  }
  expect(await read()).toEqual([{ n: 2 }]);
});

(kind === 'postgres' ? test : test.skip)('on PostgreSQL statements asked for together go out together on one connection, each with its own outcome', async () => {
  await database.sql.all('SELECT 1'); // a connection is open already (opening one writes to the socket too)
  const writes = socketWrites();
  let outcomes: Array<PromiseSettledResult<Array<Record<string, unknown>>>>;
  try {
    outcomes = await Promise.allSettled([
      database.sql.all('SELECT pg_backend_pid() AS "pid"'),
      database.sql.all('SELECT "nothing" FROM "NoSuchTable"'),
      database.sql.all('SELECT pg_backend_pid() AS "pid"'),
    ]);
    expect(writes.count()).toBe(1);
  } finally {
    writes.restore();
  }
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  const pids = outcomes.flatMap((o) => (o.status === 'fulfilled' ? o.value.map((r) => r.pid) : []));
  expect(new Set(pids).size).toBe(1);
  // The connection is still usable.
  expect(await database.sql.all('SELECT 2 AS "two"')).toEqual([{ two: 2 }]);
});

(kind === 'postgres' ? test : test.skip)('on PostgreSQL a connection lost under statements fails them, and the next ones get a new connection', async () => {
  const [before] = await database.sql.all<{ pid: number }>('SELECT pg_backend_pid() AS "pid"');
  // The server ends the connection the statement came on (as a restart or a failover would).
  const outcomes = await Promise.allSettled([database.sql.all('SELECT pg_terminate_backend(pg_backend_pid())'), database.sql.all('SELECT 1 AS "one"')]);
  // The statement behind it never runs (the first may or may not have answered before the end).
  expect(outcomes[1]?.status).toBe('rejected');
  const [after] = await database.sql.all<{ pid: number }>('SELECT pg_backend_pid() AS "pid"');
  expect(after?.pid).not.toBe(before?.pid);
  // The same inside a transaction.
  await expect(database.sql.transaction(async (tx) => void (await tx.all('SELECT pg_terminate_backend(pg_backend_pid())')))).rejects.toThrow();
  expect(await database.sql.transaction(async (tx) => tx.all('SELECT 2 AS "two"'))).toEqual([{ two: 2 }]);
});

/** Counts the writes to any socket (PostgreSQL's connections) from now until restore(). */
function socketWrites() {
  const spies = [jest.spyOn(net.Socket.prototype as unknown as { _write: () => void }, '_write'), jest.spyOn(net.Socket.prototype as unknown as { _writev: () => void }, '_writev')];
  return {
    count: () => spies.reduce((n, spy) => n + spy.mock.calls.length, 0),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

test('a failed statement rolls the whole transaction back, and a duplicate key is recognised', async () => {
  const before = await database.prisma.auditLog.count();
  const failure = await database.sql
    .transaction(async (tx) => {
      await tx.run('INSERT INTO "AuditLog" ("at", "actor", "action", "details") VALUES (?, ?, ?, ?)', [NOW, 'bot', 'x', '{}']);
      await tx.run('INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?)', ['dup', NOW]);
      await tx.run('INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?)', ['dup', NOW]);
    })
    .catch((e: unknown) => e);
  expect(isUniqueViolation(failure)).toBe(true);
  expect(await database.prisma.auditLog.count()).toBe(before);
  expect(await database.prisma.identityLock.count({ where: { key: 'dup' } })).toBe(0);
  // The connection is usable afterwards (rolled back, not left inside the transaction).
  expect(await database.sql.run('INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?)', ['dup', NOW])).toBe(1);
});

/** How many times `source` (COMMIT, BEGIN…) ran while `fn` ran (a spy on better-sqlite3's Statement#run). */
async function runsDuring(source: string, fn: () => Promise<unknown>): Promise<number> {
  const scratch = new Sqlite(':memory:');
  const statementProto = Object.getPrototypeOf(scratch.prepare('SELECT 1')) as { run: (...args: unknown[]) => unknown };
  scratch.close();
  const run = jest.spyOn(statementProto, 'run');
  try {
    await fn();
    return run.mock.contexts.filter((statement) => (statement as { source: string }).source === source).length;
  } finally {
    run.mockRestore();
  }
}

describe('transactions asked for together (one COMMIT on SQLite)', () => {
  const locks = (prefix: string) => database.prisma.identityLock.findMany({ where: { key: { startsWith: prefix } }, orderBy: { key: 'asc' } }).then((rows) => rows.map((r) => r.key));

  test('each commits or rolls back on its own: a failing one takes only its own writes with it', async () => {
    const outcomes = await Promise.allSettled([
      database.sql.transaction(async (tx) => (await tx.run(...lock('g1:a'))) + 10),
      database.sql.transaction(async (tx) => {
        await tx.run(...lock('g1:b'));
        await tx.run(...lock('g1:a')); // taken by the first
      }),
      database.sql.transaction(async (tx) => {
        tx.write(...lock('g1:c'));
        return 'third';
      }),
    ]);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 11 });
    expect(outcomes[1]?.status === 'rejected' && isUniqueViolation(outcomes[1].reason)).toBe(true);
    expect(outcomes[2]).toEqual({ status: 'fulfilled', value: 'third' });
    expect(await locks('g1:')).toEqual(['g1:a', 'g1:c']);
  });

  (kind === 'postgres' ? test : test.skip)('on PostgreSQL they run as one transaction when none fails, and each again on its own when one does', async () => {
    const txids = await Promise.all([1, 2, 3].map(() => database.sql.transaction(async (tx) => (await tx.all<{ id: string }>('SELECT txid_current()::text AS "id"'))[0]?.id)));
    expect(new Set(txids).size).toBe(1);
    // Above, the group failed on the duplicate and each ran again; here the runs are counted.
    const runs = [0, 0];
    const outcomes = await Promise.allSettled([
      database.sql.transaction(async (tx) => {
        runs[0]! += 1;
        tx.write(...lock('g4:a'));
      }),
      database.sql.transaction(async (tx) => {
        runs[1]! += 1;
        tx.write(...lock('g4:a'));
      }),
    ]);
    expect(runs).toEqual([2, 2]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await locks('g4:')).toEqual(['g4:a']);
  });

  /**
   * Two groups, each of two transactions, in consecutive passes. The first transaction of each
   * group writes one of two rows, then waits (half a second at most) until the other group's first
   * has written the other row; the second transaction of each group writes the row the other group
   * took. Unnamed, the groups wait for each other in a circle until PostgreSQL's deadlock check
   * fails one of them (a second later), whose transactions then run again on their own. Named as
   * `shared`, the second group waits for the first to commit, and every transaction runs once.
   */
  (kind === 'postgres' ? test.each([
    ['unnamed, the rows deadlock the groups', false],
    ['named as shared, the groups queue', true],
  ]) : test.skip.each([['', false]]))('on PostgreSQL, groups that write the same rows in opposite orders: %s', async (_, named) => {
    await database.sql.transaction(async (tx) => {
      tx.write('DELETE FROM "IdentityLock" WHERE "key" LIKE ?', ['g5:%']);
      tx.write(...lock('g5:x'));
      tx.write(...lock('g5:y'));
    });
    const touch = (key: string) => ['UPDATE "IdentityLock" SET "until" = ? WHERE "key" = ?', [new Date(), key]] as const;
    const signal = () => {
      let done = () => {};
      const wrote = new Promise<void>((resolve) => (done = resolve));
      return { wrote, done, orAfterHalfASecond: () => Promise.race([wrote, new Promise((resolve) => setTimeout(resolve, 500))]) };
    };
    const [first, second] = [signal(), signal()];
    const runs = { a: 0, b: 0, c: 0, d: 0 };
    const shared = (key: string) => (named ? [key] : []);
    /** A group: `one` writes `row`, says so, and waits for the other group's word; `two` writes `then`. */
    const group = (one: 'a' | 'c', two: 'b' | 'd', row: string, then: string, mine: typeof first, theirs: typeof first) => [
      database.sql.transaction(async (tx) => {
        runs[one] += 1;
        await tx.run(...touch(row));
        mine.done();
        await theirs.orAfterHalfASecond();
      }, shared(row)),
      database.sql.transaction(async (tx) => {
        runs[two] += 1;
        await tx.run(...touch(then));
      }, shared(then)),
    ];
    const group1 = group('a', 'b', 'g5:x', 'g5:y', first, second);
    await new Promise(setImmediate); // the first group has set off; what follows is a group of its own
    const group2 = group('c', 'd', 'g5:y', 'g5:x', second, first);
    expect((await Promise.allSettled([...group1, ...group2])).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    if (named) expect(runs).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    else expect([{ a: 2, b: 2, c: 1, d: 1 }, { a: 1, b: 1, c: 2, d: 2 }]).toContainEqual(runs); // one group ran again, each of its two on its own
  });

  (kind === 'sqlite' ? test : test.skip)('on SQLite they share one durable COMMIT', async () => {
    // Every connection runs with synchronous = FULL: a COMMIT returns once it is on disk.
    expect(await database.sql.all('PRAGMA synchronous')).toEqual([{ synchronous: 2 }]);
    expect(await database.prisma.$queryRawUnsafe('PRAGMA synchronous')).toEqual([{ synchronous: 2n }]);
    // The turns' savepoint journal stays in memory (db/client.ts): no temporary file a transaction.
    expect(await database.sql.all('PRAGMA temp_store')).toEqual([{ temp_store: 2 }]);
    await new Promise(setImmediate); // the reads' transaction ends with their pass (its COMMIT is not the group's)
    expect(await runsDuring('COMMIT', () => Promise.all(['g2:a', 'g2:b', 'g2:c'].map((key) => database.sql.transaction(async (tx) => void (await tx.run(...lock(key)))))))).toBe(1);
    expect(await locks('g2:')).toEqual(['g2:a', 'g2:b', 'g2:c']);
  });

  (kind === 'sqlite' ? test : test.skip)('when the shared transaction is lost, every one of them rejects and nothing commits', async () => {
    const outcomes = await Promise.allSettled([
      database.sql.transaction(async (tx) => void (await tx.run(...lock('g3:a')))),
      // Ends the shared transaction under the others' feet (as an I/O error would make SQLite do).
      database.sql.transaction(async (tx) => void (await tx.run('ROLLBACK'))),
      database.sql.transaction(async (tx) => void (await tx.run(...lock('g3:c')))),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await locks('g3:')).toEqual([]);
    // The connection is usable afterwards.
    await database.sql.transaction(async (tx) => void (await tx.run(...lock('g3:after'))));
    expect(await locks('g3:')).toEqual(['g3:after']);
  });
});

test('a turn names what it writes that other conversations write too, and nothing else', async () => {
  const named: Array<readonly string[] | undefined> = [];
  const store = createConversationStore({
    ...database.sql,
    transaction: async (_fn, shared) => {
      named.push(shared);
      throw new Error('not run');
    },
  });
  const quote = {
    reference: 'AG-NAMES2', kind: 'extension' as const, quotedAt: '2026-11-22T02:00:00.250Z', loanIds: ['L1'], amount: '3000.00', currentTotal: '3000.00',
    schedule: [{ number: 1, dueDate: '2026-12-22', amount: '3000.00' }],
  };
  const shares = (fields: Partial<TurnCommit>) => expect(store.commitTurn(commit({ conversationId: 'test:names', ...fields }))).rejects.toThrow('not run');
  await shares({
    records: [
      { kind: 'identityLock', keys: ['phone:x', 'id:y'], until: UNTIL },
      { kind: 'agreement', borrowerId: 'B1', quote: { ...quote, replaces: ['AG-NAMES1'] }, confirmedAt: NOW.toISOString() },
      { kind: 'proof', borrowerId: 'B1', receipt: 'PP-NAMES1', amount: '1.00', paidOn: '2026-11-21', method: 'wechat_pay', reference: 'wx 42', file: { sha256: 'cd'.repeat(32), fileType: 'image/png', size: 1 } },
      { kind: 'outcomesNotified', ids: ['PP-NAMES0'] },
      { kind: 'contactPreference', optedOut: true, conversationId: 'test:names', borrowerId: 'B1' },
    ],
    mayHaveOptedOut: true, // the opt-out record itself says what happens: no opting back in
  });
  // New rows, the conversation's own rows and a plan that replaces nothing share nothing.
  await shares({
    records: [
      { kind: 'identityAttempt', keys: ['phone:x'], success: false },
      { kind: 'agreement', borrowerId: 'B1', quote, confirmedAt: NOW.toISOString() },
      { kind: 'proof', borrowerId: 'B1', receipt: 'PP-NAMES2', amount: '1.00', paidOn: '2026-11-21', method: 'alipay' },
      { kind: 'hardship', borrowerId: 'B1', reason: 'illness' },
      { kind: 'complaint', borrowerId: 'B1', ticket: 'CP-NAMES1', category: 'service', description: 'd', desiredOutcome: 'o', dueDate: '2026-12-07' },
      { kind: 'audit', action: 'x', details: {} },
    ],
  });
  // A borrower who may have opted out and writes again is opted back in: their preferences are shared.
  await shares({ records: [], mayHaveOptedOut: true });
  expect(named).toEqual([
    ['IdentityLock:phone:x', 'IdentityLock:id:y', 'Agreement:B1', `Proof:${'cd'.repeat(32)}`, 'Proof:wechat_pay:WX42', 'outcomes:B1', 'ContactPreference:borrower:B1'],
    [],
    ['ContactPreference:borrower:B1'],
  ]);
});

describe('inserts held together (one statement on PostgreSQL)', () => {
  const store = () => createConversationStore(database.sql);

  /** The statements handed to PostgreSQL's driver while `fn` runs (none on SQLite). */
  async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
    const pg = (await import('pg')).default;
    const query = jest.spyOn(pg.Client.prototype, 'query');
    try {
      await fn();
      return query.mock.calls.map(([q]) => (typeof q === 'string' ? q : (q as { text: string }).text));
    } finally {
      query.mockRestore();
    }
  }

  test("a turn's version check, messages, audit entry and processed activity are one statement, a new conversation's rows too", async () => {
    const turn = (version: number | null, n: number) =>
      store().commitTurn(
        commit({
          conversationId: 'test:held',
          expectedVersion: version,
          expectedBorrowerId: version === null ? null : 'B1',
          outbound: [1, 2, 3].map((i) => ({ text: `答${n}.${i}`, activity: { type: 'message', text: `答${n}.${i}` } })),
          processed: { key: `held:${n}`, replies: [] },
          records: [{ kind: 'audit', action: `held.turn${n}`, details: {} }],
        }),
      );
    // The first turn inserts the conversation and, in the same statement, its messages (their foreign key is checked at the statement's end).
    const first = await statementsDuring(() => turn(null, 1));
    const second = await statementsDuring(() => turn(1, 2));
    if (kind === 'postgres') {
      expect(first).toEqual(['BEGIN', expect.stringMatching(/^WITH "i0" AS \(INSERT INTO "Conversation" .*\) INSERT INTO "ProcessedActivity"/), 'COMMIT']);
      expect(second).toEqual(['BEGIN', expect.stringMatching(/^WITH "changed" AS \(UPDATE "Conversation" .* SELECT 1 \/ COUNT\(\*\) FROM "changed"$/), 'COMMIT']);
    }
    const messages = await database.prisma.message.findMany({ where: { conversationId: 'test:held' }, orderBy: { id: 'asc' } });
    // Ids follow the messages' order within a turn, and the turns' order.
    expect(messages.map((m) => m.text)).toEqual(['你好', '答1.1', '答1.2', '答1.3', '你好', '答2.1', '答2.2', '答2.3']);
    expect(await database.prisma.auditLog.count({ where: { action: { startsWith: 'held.turn' } } })).toBe(2);
    expect(await database.prisma.processedActivity.count({ where: { key: { startsWith: 'held:' } } })).toBe(2);
    expect(await database.prisma.conversation.findUniqueOrThrow({ where: { id: 'test:held' } })).toMatchObject({ version: 2 });
  });

  test('held inserts go out before anything else the transaction asks, which sees them', async () => {
    const seen = await database.sql.transaction(async (tx) => {
      tx.insert(...lock('h1:a'));
      tx.insert(...lock('h1:b'));
      const rows = await tx.all<{ key: string }>('SELECT "key" FROM "IdentityLock" WHERE "key" LIKE ? ORDER BY "key"', ['h1:%']);
      tx.insert(...lock('h1:c'));
      tx.write('UPDATE "IdentityLock" SET "until" = ? WHERE "key" = ?', [UNTIL, 'h1:c']);
      return rows.map((r) => r.key);
    });
    expect(seen).toEqual(['h1:a', 'h1:b']);
    expect(await lockCount('h1:')).toBe(3);
    // The UPDATE issued after the third insert found it.
    expect((await database.prisma.identityLock.findUniqueOrThrow({ where: { key: 'h1:c' } })).until.toISOString()).toBe(UNTIL);
  });

  test('a duplicate among held inserts fails the transaction as a duplicate key, and nothing lands', async () => {
    const failure = await failureOf(async (tx) => {
      tx.insert(...lock('h2:a'));
      tx.insert(...lock('h2:dup'));
      tx.insert(...lock('h2:dup'));
    });
    expect(isUniqueViolation(failure)).toBe(true);
    expect(await lockCount('h2:')).toBe(0);
  });

  test('anything but a plain INSERT … VALUES is refused by name, and nothing lands', async () => {
    for (const statement of [
      'INSERT INTO "IdentityLock" ("key", "until") VALUES (?, ?) ON CONFLICT ("key") DO NOTHING',
      'UPDATE "IdentityLock" SET "until" = ? WHERE "key" = ?',
      'INSERT INTO "IdentityLock" SELECT ?, ?',
    ]) {
      const failure = await failureOf(async (tx) => tx.insert(statement, ['h4:a', NOW]));
      expect(String(failure)).toContain(`Tx.insert takes a plain INSERT INTO "table" (…) VALUES (…), not: ${statement}`);
    }
    expect(await lockCount('h4:')).toBe(0);
  });

  test('inserts held when the function throws are never sent', async () => {
    const sent = await statementsDuring(async () => {
      const failure = await failureOf(async (tx) => {
        tx.insert(...lock('h3:a'));
        throw new Error('changed my mind');
      });
      expect(failure).toEqual(new Error('changed my mind'));
    });
    if (kind === 'postgres') expect(sent).toEqual(['BEGIN', 'ROLLBACK']);
    expect(await lockCount('h3:')).toBe(0);
  });

  test('turns committed together keep a statement each, and a stale one fails alone', async () => {
    await store().commitTurn(commit({ conversationId: 'test:held2', processed: { key: 'held2:1', replies: [] } }));
    await store().commitTurn(commit({ conversationId: 'test:held3', processed: { key: 'held3:1', replies: [] } }));
    const turn = (id: string, version: number, n: number) =>
      store().commitTurn(commit({ conversationId: id, expectedVersion: version, expectedBorrowerId: 'B1', processed: { key: `${id}:${n}`, replies: [] } }));
    let outcomes: Array<PromiseSettledResult<unknown>> = [];
    const sent = await statementsDuring(async () => {
      outcomes = await Promise.allSettled([turn('test:held2', 1, 2), turn('test:held3', 1, 2)]);
    });
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    // One transaction for both, one statement for each turn: a statement for every mix of turns would be a new prepared statement every time.
    if (kind === 'postgres') expect(sent.filter((q) => q.startsWith('WITH "changed"'))).toHaveLength(2);
    if (kind === 'postgres') expect(sent.filter((q) => q === 'COMMIT')).toHaveLength(1);
    const stale = await Promise.allSettled([turn('test:held2', 2, 3), turn('test:held3', 1, 3)]);
    expect(stale.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(stale[1]?.status === 'rejected' && stale[1].reason).toBeInstanceOf(ConcurrentTurnError);
    expect(await database.prisma.processedActivity.count({ where: { key: { in: ['test:held2:3', 'test:held3:3'] } } })).toBe(1);
  });
});

describe('writes issued without waiting (pipelined on PostgreSQL)', () => {

  test('they land, in the order issued, with the statements awaited between them', async () => {
    const seen = await database.sql.transaction(async (tx) => {
      tx.write(...lock('w1:a'));
      tx.write(...lock('w1:b'));
      // An awaited read sees the writes issued before it.
      const rows = await tx.all<{ key: string }>('SELECT "key" FROM "IdentityLock" WHERE "key" LIKE ? ORDER BY "key"', ['w1:%']);
      tx.write(...lock('w1:c'));
      return rows.map((r) => r.key);
    });
    expect(seen).toEqual(['w1:a', 'w1:b']);
    expect(await lockCount('w1:')).toBe(3);
  });

  test('a failed write rolls back everything, and its own error is the one thrown', async () => {
    const failure = await failureOf(async (tx) => {
      tx.write(...lock('w2:a'));
      tx.write(...lock('w2:dup'));
      tx.write(...lock('w2:dup'));
      tx.write(...lock('w2:b'));
    });
    expect(isUniqueViolation(failure)).toBe(true);
    expect(await lockCount('w2:')).toBe(0);
  });

  test('a failed write is still the cause when a later awaited statement fails on the aborted transaction', async () => {
    const failure = await failureOf(async (tx) => {
      tx.write(...lock('w3:dup'));
      tx.write(...lock('w3:dup'));
      await tx.all('SELECT "key" FROM "IdentityLock" WHERE "key" = ?', ['w3:dup']);
    });
    expect(isUniqueViolation(failure)).toBe(true);
    expect(await lockCount('w3:')).toBe(0);
  });

  test('writes issued before the function throws are rolled back', async () => {
    const failure = await failureOf(async (tx) => {
      tx.write(...lock('w4:a'));
      throw new Error('changed my mind');
    });
    expect(failure).toEqual(new Error('changed my mind'));
    expect(await lockCount('w4:')).toBe(0);
    // The connection is usable afterwards.
    await database.sql.transaction(async (tx) => tx.write(...lock('w4:b')));
    expect(await lockCount('w4:')).toBe(1);
  });

  (kind === 'postgres' ? test : test.skip)('on PostgreSQL a commit with many writes is two writes to the socket, not one per statement', async () => {
    // The connection is open already (opening one writes to the socket too).
    await database.sql.transaction(async (tx) => void (await tx.all('SELECT 1')));
    const writes = socketWrites();
    try {
      await database.sql.transaction(async (tx) => {
        expect(await tx.run('UPDATE "IdentityLock" SET "until" = ? WHERE "key" = ?', [NOW, 'none'])).toBe(0);
        for (let i = 0; i < 20; i++) tx.write(...lock(`w6:${i}`));
      });
      // BEGIN with the awaited UPDATE, then the 20 writes with the COMMIT (one call each, or fewer
      // when the socket was still busy); statement by statement it would be 23.
      expect(writes.count()).toBeLessThanOrEqual(2);
    } finally {
      writes.restore();
    }
    expect(await lockCount('w6:')).toBe(20);
  });

  test('a turn that loses the race for a new conversation commits nothing', async () => {
    const store = createConversationStore(database.sql);
    await store.commitTurn(commit({ conversationId: 'test:race', processed: { key: 'race:1', replies: [] } }));
    const second = await store.commitTurn(commit({ conversationId: 'test:race', processed: { key: 'race:2', replies: [] } })).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(Error);
    expect((second as Error).constructor.name).toBe('ConcurrentTurnError');
    expect(await database.prisma.message.count({ where: { conversationId: 'test:race' } })).toBe(2);
    expect(await database.prisma.processedActivity.count({ where: { key: 'race:2' } })).toBe(0);
  });
});
