/**
 * Plain SQL on the database's own driver, for the turn path and for what a start asks before its
 * first answer: the identity key it hands the turn worker (db/identityKey.ts), whether to seed the
 * demo portfolio, the latest dialogs version and retention's last run (issue #9).
 *
 * Why not Prisma here: a Prisma statement costs 0.2–0.4 ms of CPU (query building and result
 * mapping in @prisma/client; measured on SQLite: findUnique 0.37 ms, create 0.42 ms, an empty
 * interactive transaction 0.21 ms) against 0.01–0.02 ms for a cached better-sqlite3 statement,
 * and a turn reads and writes about ten times: that was half of a turn's CPU in the profile.
 * Prisma still owns the schema, the migrations and every other query.
 *
 * Statements are written once for both databases: `?` placeholders (numbered `$n` here for
 * PostgreSQL, so a `?` never appears inside a literal) and double-quoted identifiers. Values are stored exactly as Prisma stores them, so
 * Prisma reads these rows back unchanged (test/integration/turnSql.test.ts): on SQLite a DateTime
 * is ISO text with "+00:00" and a Boolean 0/1; on PostgreSQL a DateTime is a UTC `timestamp(3)`.
 */
import { createHash } from 'node:crypto';
import type { Database as SqliteConnection, Statement } from 'better-sqlite3';
import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { createPassBatch } from './passBatch';

export type SqlArg = string | number | boolean | null | Date;
export type Row = Record<string, unknown>;

export interface Sql {
  /** The rows a statement returns. */
  all<T = Row>(sql: string, args?: readonly SqlArg[]): Promise<T[]>;
  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, args?: readonly SqlArg[]): Promise<number>;
}

/** SQL inside a transaction. */
export interface Tx extends Sql {
  /**
   * Issues a write whose result the caller does not need, without waiting for it: on PostgreSQL
   * it is pipelined behind the statements before it (one round trip for all of a turn's writes
   * and its COMMIT instead of one each). Its failure fails the transaction: nothing commits.
   */
  write(sql: string, args?: readonly SqlArg[]): void;
  /**
   * Inserts new rows (a plain INSERT … VALUES, no ON CONFLICT), as `write`. On PostgreSQL the
   * inserts a transaction issues one after another, with an `updateOne` among them, go out as ONE
   * statement (a WITH of data-modifying statements): a turn's messages, audit entry, processed
   * activity and version check were four statements, each a message of the protocol, a Query in
   * the driver and an executor start in the server. The parts of such a statement do not see each
   * other's rows, which new rows never need to; foreign keys are checked at its end. A second
   * insert into the same table starts the next statement, so a table's rows keep their order.
   */
  insert(sql: string, args?: readonly SqlArg[]): void;
  /**
   * Issues an UPDATE that must change a row, without waiting for it (as `write`): when it changes
   * none, the transaction fails with `unchanged()` and nothing commits. A turn's optimistic version
   * check, which on PostgreSQL would otherwise cost a round trip of its own.
   */
  updateOne(sql: string, args: readonly SqlArg[], unchanged: () => Error): void;
}

export interface SqlDatabase extends Sql {
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it (or a write it
   * issued) fails. `fn` may run a second time after a rollback (PostgreSQL tries the transactions
   * of a pass together first), so it does nothing but issue statements on `tx`.
   *
   * `shared` names what `fn` may write that other transactions write too (a borrower's rows, an
   * identity key's lock): on PostgreSQL a transaction takes every name it carries before its first
   * statement, always in the same order, so two of them never wait for each other in a circle.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, shared?: readonly string[]): Promise<T>;
  close(): Promise<void>;
}

/** A DateTime column's value as read back: SQLite gives the stored text, PostgreSQL a Date. */
export function asDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** A transaction asked for, waiting for the end of the pass to run with the others asked for in it. */
type Job = { fn: (tx: Tx) => Promise<unknown>; shared: readonly string[]; resolve: (value: unknown) => void; reject: (e: unknown) => void };
const jobOf = <T>(fn: (tx: Tx) => Promise<T>, shared: readonly string[], resolve: (value: T) => void, reject: (e: unknown) => void): Job => ({
  fn,
  shared,
  resolve: resolve as (value: unknown) => void,
  reject,
});

/** `n` comma-separated placeholders, for `IN (…)`. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** `rows` parenthesised lists of `columns` placeholders, for a multi-row `VALUES`. */
export const valueRows = (rows: number, columns: number): string => Array.from({ length: rows }, () => `(${placeholders(columns)})`).join(', ');

/** The table a plain INSERT (Tx.insert) writes; anything else is a mistake in the caller. */
function insertedTable(sql: string): string {
  const table = /^INSERT INTO "([^"]+)" \([^)]*\) VALUES \(/.exec(sql)?.[1];
  if (!table || /\bON CONFLICT\b/i.test(sql)) throw new Error(`Tx.insert takes a plain INSERT INTO "table" (…) VALUES (…), not: ${sql}`);
  return table;
}

// ---------------------------------------------------------------------------------------------
// SQLite

/** Serializes a process's use of one database file (see db/client.ts: the busy timeout blocks the event loop). */
export interface FileLock {
  acquire(): Promise<() => void>;
}

const sqliteArg = (a: SqlArg): string | number | null => (a instanceof Date ? a.toISOString().replace('Z', '+00:00') : typeof a === 'boolean' ? (a ? 1 : 0) : a);

/** SQL on its own better-sqlite3 connection to the file, taking turns with Prisma's on `lock`. */
export function sqliteSql(connection: SqliteConnection, lock: FileLock): SqlDatabase {
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let s = statements.get(sql);
    if (!s) statements.set(sql, (s = connection.prepare(sql)));
    return s;
  };
  // Runs at once: a failure throws into the caller, as an awaited statement's would.
  const runNow = (sql: string, args: readonly SqlArg[] = []) => void prepared(sql).run(...args.map(sqliteArg));
  // better-sqlite3 is synchronous: the promise only keeps the interface the same as PostgreSQL's.
  const on: Tx = {
    all: async <T>(sql: string, args: readonly SqlArg[] = []) => prepared(sql).all(...args.map(sqliteArg)) as T[],
    run: async (sql: string, args: readonly SqlArg[] = []) => prepared(sql).run(...args.map(sqliteArg)).changes,
    write: runNow,
    // Checked here too, so a statement PostgreSQL would refuse to hold fails on SQLite's tests as well.
    insert: (sql, args) => (insertedTable(sql), runNow(sql, args)),
    updateOne: (sql, args, unchanged) => {
      if (prepared(sql).run(...args.map(sqliteArg)).changes === 0) throw unchanged();
    },
  };
  const locked = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await lock.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  };

  /**
   * Group commit. A durable COMMIT waits for the disk (synchronous = FULL, db/client.ts) and blocks
   * the thread meanwhile, which was a third of a turn. Transactions asked for in the same pass of
   * the event loop therefore share one: each runs in a SAVEPOINT of its own (its failure rolls back
   * its writes only, and it alone rejects), then one COMMIT makes all of them durable, and only then
   * does any of them resolve. If the shared transaction itself is lost (the COMMIT fails, or an
   * error made SQLite roll it back), all of them reject: none resolved before, so none was told it
   * committed. Smaller batches cost more in commits than they gain (about 0.4 ms a COMMIT;
   * committing at half the turns in flight was measured and dropped: bench/FINDINGS.md).
   */
  const pending = createPassBatch<Job>((jobs) => void commitBatch(jobs));
  const commitBatch = async (jobs: Job[]): Promise<void> => {
    const release = await lock.acquire();
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      // IMMEDIATE: take the write lock now, so a read-then-write cannot fail with SQLITE_BUSY midway.
      prepared('BEGIN IMMEDIATE').run();
      for (const job of jobs) {
        prepared('SAVEPOINT one').run();
        try {
          outcomes.push({ ok: true, value: await job.fn(on) });
          prepared('RELEASE one').run();
        } catch (error) {
          if (!connection.inTransaction) throw error;
          prepared('ROLLBACK TO one').run();
          prepared('RELEASE one').run();
          outcomes.push({ ok: false, error });
        }
      }
      prepared('COMMIT').run();
    } catch (lost) {
      if (connection.inTransaction) prepared('ROLLBACK').run();
      for (const job of jobs) job.reject(lost);
      return;
    } finally {
      release();
    }
    outcomes.forEach((o, i) => (o.ok ? jobs[i]?.resolve(o.value) : jobs[i]?.reject(o.error)));
  };
  /**
   * The reads outside a transaction that one pass of the event loop asks for share one read
   * transaction. SQLite begins and ends one for every statement run outside a transaction (a lock
   * on the log's shared index taken and given back, `fcntl` calls: 8.8 a turn, 0.9 now), and each
   * such statement waited for `lock` on its own; the turn path alone took 0.57 ms of CPU a turn at
   * 10 conversations that way, 0.49 ms now (bench/FINDINGS.md). The pass's first read takes the
   * lock and BEGINs; the end of the pass ends the transaction and gives the lock back, so a group
   * commit asked for meanwhile waits at most for the pass, and no snapshot outlives its pass.
   */
  let readTx: Promise<void> | undefined;
  const inReadTx = async <T>(fn: () => Promise<T>): Promise<T> => {
    readTx ??= lock.acquire().then((release) => {
      const end = () => {
        readTx = undefined;
        release();
      };
      try {
        prepared('BEGIN').run();
      } catch (e) {
        end();
        throw e;
      }
      setImmediate(() => {
        try {
          prepared('COMMIT').run(); // a read-only transaction: nothing to write or sync
        } finally {
          end();
        }
      });
    });
    await readTx;
    return fn();
  };
  return {
    all: (sql, args) => inReadTx(() => on.all(sql, args)),
    run: (sql, args) => locked(() => on.run(sql, args)),
    // One writer at a time on the file: there is no order to keep among them.
    transaction: <T>(fn: (tx: Tx) => Promise<T>) => new Promise<T>((resolve, reject) => pending.add(jobOf(fn, [], resolve, reject))),
    close: async () => {
      await locked(async () => connection.close());
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const TIMESTAMP_OID = 1114;
/** SQLSTATE division_by_zero: what `updateOne`'s check raises when its UPDATE changed no row. */
const DIVISION_BY_ZERO = '22012';

const pgArg = (a: SqlArg): string | number | boolean | null => (a instanceof Date ? a.toISOString().replace('T', ' ').replace('Z', '') : a);

/**
 * Takes a transaction-level advisory lock for each name, in the order of their 64-bit keys, so
 * that transactions that write the same rows queue instead of deadlocking. The turns of a pass
 * share one transaction, and so hold all their rows' locks until one COMMIT: two such groups that
 * met the same two borrowers' rows in opposite orders waited for each other until PostgreSQL's
 * deadlock check, a second later, broke the circle by failing one (bench/FINDINGS.md).
 */
function advisoryLocks(names: readonly string[]): QueryConfig {
  const keys = [...new Set(names.map((n) => createHash('sha256').update(n).digest().readBigInt64BE(0)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    name: 'turn_advisory_locks',
    text: 'SELECT pg_advisory_xact_lock("key") FROM unnest($1::bigint[]) WITH ORDINALITY AS "k"("key", "n") ORDER BY "n"',
    values: [keys.map(String)],
  };
}

/** A statement and its arguments, `?` placeholders in order. */
export interface SqlStatement {
  sql: string;
  args: readonly SqlArg[];
}

/**
 * The inserts a transaction issued one after another, and the version check among them, as one
 * statement (Tx.insert): each a part of a WITH, the check's UPDATE counted by the main query,
 * which fails (division by zero) when it changed no row; without a check the last insert is the
 * main query. PostgreSQL runs every data-modifying part of a WITH once and to the end, whether
 * or not the main query reads it.
 */
export function combinedStatement(inserts: readonly SqlStatement[], check?: SqlStatement): SqlStatement {
  const main = check ? { sql: 'SELECT 1 / COUNT(*) FROM "changed"', args: [] } : inserts.at(-1);
  if (!main) throw new Error('combinedStatement: no statement to combine');
  const parts = check ? inserts : inserts.slice(0, -1);
  if (parts.length === 0 && !check) return main;
  const withs = [...(check ? [`"changed" AS (${check.sql} RETURNING 1)`] : []), ...parts.map((p, i) => `"i${i}" AS (${p.sql})`)];
  return { sql: `WITH ${withs.join(', ')} ${main.sql}`, args: [...(check?.args ?? []), ...parts.flatMap((p) => p.args), ...main.args] };
}

/** A PostgreSQL transaction's Tx, and the end of one job's statements in a group (commitGroup). */
type HeldTx = Tx & { endOfJob(): void };

/** SQL on the pool Prisma's adapter also uses; prepared once per connection (named statements). */
export function postgresSql(pool: Pool, textParserOf: (oid: number) => (value: string) => unknown): SqlDatabase {
  const texts = new Map<string, { name: string; text: string }>();
  // A `timestamp` (without time zone) holds UTC, as Prisma writes it; pg's default reads it as local time.
  const types = { getTypeParser: (oid: number) => (oid === TIMESTAMP_OID ? (v: string) => new Date(`${v.replace(' ', 'T')}Z`) : textParserOf(oid)) };
  const config = (sql: string, args: readonly SqlArg[]): QueryConfig => {
    let t = texts.get(sql);
    if (!t) {
      let n = 0;
      texts.set(sql, (t = { name: `turn_${texts.size}`, text: sql.replace(/\?/g, () => `$${++n}`) }));
    }
    // A literal, not a spread: the copy a spread makes gets a map of its own for the keys added after it (bench/FINDINGS.md).
    return { name: t.name, text: t.text, values: args.map(pgArg), types } as QueryConfig;
  };

  /**
   * A connection of the pool for the caller's use; `release` gives it back, or has the pool drop it
   * when it broke. A connection that ends while it is out emits 'error' on its client, which,
   * unheard, would end the process (the pool listens only while the connection is idle).
   */
  const checkout = async (): Promise<{ client: PoolClient; release: (broken: boolean) => void }> => {
    const client = await pool.connect();
    let lost = false;
    const onError = () => void (lost = true); // its queries fail with the error too
    client.on('error', onError);
    return {
      client,
      release: (broken) => {
        client.removeListener('error', onError);
        client.release(broken || lost);
      },
    };
  };

  /** One transaction on a connection of its own, holding the `shared` names' locks (advisoryLocks). */
  const transaction = async <T>(fn: (tx: HeldTx) => Promise<T>, shared: readonly string[]): Promise<T> => {
    const { client, release } = await checkout();
    // The pool's connections pipeline (db/client.ts): what is issued without waiting goes out at
    // once and is answered in order. Held in the socket's buffer until an answer is needed, the
    // commit of a pass's turns is one write to the socket, BEGIN to COMMIT (a write costs a system
    // call, and wakes a server process).
    const socket = client.connection.stream;
    let holding = false;
    const hold = () => {
      if (holding) return;
      socket.cork();
      holding = true;
    };
    const send = () => {
      if (!holding) return;
      holding = false;
      socket.uncork();
    };
    const issued: Array<Promise<unknown>> = [];
    const issue = <R>(sent: Promise<R>): Promise<R> => {
      sent.catch(() => {}); // looked at through `issued`; never an unhandled rejection meanwhile
      issued.push(sent);
      return sent;
    };
    const answered = <R>(sent: Promise<R>): Promise<R> => {
      send();
      return sent;
    };
    // Inserts and a version check held until something else is issued, the job ends or the
    // transaction commits, then sent as one statement (Tx.insert).
    let inserts: Array<SqlStatement & { table: string }> = [];
    let check: (SqlStatement & { unchanged: () => Error }) | undefined;
    const discardHeld = () => {
      inserts = [];
      check = undefined;
    };
    const issueHeld = () => {
      if (!inserts.length && !check) return;
      const held = combinedStatement(inserts, check);
      const unchanged = check?.unchanged;
      discardHeld();
      const sent = client.query(config(held.sql, held.args));
      issue(
        unchanged
          ? sent.catch((e: unknown) => {
              throw (e as { code?: unknown }).code === DIVISION_BY_ZERO ? unchanged() : e;
            })
          : sent,
      );
    };
    const tx: HeldTx = {
      all: async <T>(sql: string, args: readonly SqlArg[] = []) => {
        issueHeld();
        return (await answered(client.query(config(sql, args)))).rows as T[];
      },
      run: async (sql: string, args: readonly SqlArg[] = []) => {
        issueHeld();
        return (await answered(client.query(config(sql, args)))).rowCount ?? 0;
      },
      write: (sql, args = []) => {
        hold();
        issueHeld();
        issue(client.query(config(sql, args)));
      },
      insert: (sql, args = []) => {
        hold();
        const table = insertedTable(sql);
        // PostgreSQL runs the parts of a WITH in no promised order: one insert a table in a
        // statement keeps each table's rows (their ids: the audit log's order) in the order issued.
        if (inserts.some((i) => i.table === table)) issueHeld();
        inserts.push({ sql, args, table });
      },
      // The check needs no answer before the COMMIT: its failure aborts the transaction like any write's.
      updateOne: (sql, args, unchanged) => {
        hold();
        if (check) issueHeld();
        check = { sql, args, unchanged };
      },
      endOfJob: issueHeld,
    };
    // Answers come in order: the first failure is the cause, what followed only found the transaction aborted.
    const firstFailure = async (): Promise<{ cause: unknown } | undefined> => {
      send();
      for (const r of await Promise.allSettled(issued)) if (r.status === 'rejected') return { cause: r.reason };
      return undefined;
    };
    let broken = false;
    const rollback = () => answered(client.query('ROLLBACK')).then(() => undefined, () => void (broken = true));
    try {
      hold();
      issue(client.query('BEGIN'));
      if (shared.length) issue(client.query(advisoryLocks(shared)));
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(tx);
      } catch (e) {
        discardHeld();
        const failed = await firstFailure();
        await rollback();
        throw failed ? failed.cause : e;
      }
      issueHeld();
      const commit = issue(client.query('COMMIT'));
      const failed = await firstFailure();
      if (failed) {
        await rollback(); // PostgreSQL answered the COMMIT behind a failed write with ROLLBACK already
        throw failed.cause;
      }
      if ((await commit).command !== 'COMMIT') throw new Error('PostgreSQL rolled the transaction back instead of committing it');
      return result;
    } finally {
      send();
      // A connection that could not roll back is dropped rather than reused mid-transaction.
      release(broken);
    }
  };

  /**
   * Statements outside a transaction are sent together: those asked for in one pass of the event
   * loop (the turns the worker started together, each reading its conversation, then its loans)
   * go out on one connection in one write to the socket, pipelined, and are answered in order.
   * One at a time on the pool, each cost a write of its own and woke a server process of its own:
   * writes to the socket were a third of the turn worker's time in the profile (bench/FINDINGS.md).
   */
  type Pending = { query: QueryConfig; resolve: (result: QueryResult) => void; reject: (e: unknown) => void };
  const sendTogether = async (batch: Pending[]): Promise<void> => {
    let connection: Awaited<ReturnType<typeof checkout>>;
    try {
      connection = await checkout();
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    const { client, release } = connection;
    const socket = client.connection.stream;
    socket.cork();
    const answered = batch.map((p) => client.query(p.query).then(p.resolve, p.reject));
    socket.uncork();
    await Promise.all(answered);
    // A failed statement leaves the connection as it was; a lost connection is checkout's to drop.
    release(false);
  };
  const together = createPassBatch<Pending>((batch) => void sendTogether(batch));
  const query = (q: QueryConfig): Promise<QueryResult> => new Promise((resolve, reject) => together.add({ query: q, resolve, reject }));

  /**
   * Transactions asked for in one pass are tried as one: one connection, one write to the socket
   * and one COMMIT, so one flush of the server's log, for all of them. When any of them fails,
   * nothing committed: each then runs again in a transaction of its own, which gives each its own
   * outcome. (No savepoints, as on SQLite: with the statements pipelined, one failure aborts the
   * rest before anything could roll back to a savepoint.)
   */
  const commitGroup = async (jobs: Job[]): Promise<void> => {
    if (jobs.length > 1) {
      try {
        const values = await transaction(
          async (tx) => {
            const out: unknown[] = [];
            for (const job of jobs) {
              out.push(await job.fn(tx));
              // One statement per turn: a pass's turns in one would make a new statement text (a new
              // prepared statement on every connection) for every mix of turns.
              tx.endOfJob();
            }
            return out;
          },
          jobs.flatMap((job) => job.shared),
        );
        jobs.forEach((job, i) => job.resolve(values[i]));
        return;
      } catch {
        // each on its own, below
      }
    }
    for (const job of jobs) transaction(job.fn, job.shared).then(job.resolve, job.reject);
  };
  const grouped = createPassBatch<Job>((jobs) => void commitGroup(jobs));

  return {
    all: async <T>(sql: string, args: readonly SqlArg[] = []) => (await query(config(sql, args))).rows as T[],
    run: async (sql: string, args: readonly SqlArg[] = []) => (await query(config(sql, args))).rowCount ?? 0,
    transaction: <T>(fn: (tx: Tx) => Promise<T>, shared: readonly string[] = []) => new Promise<T>((resolve, reject) => grouped.add(jobOf(fn, shared, resolve, reject))),
    // The pool is Prisma's too: db/client.ts ends it after Prisma disconnects.
    close: async () => {},
  };
}
