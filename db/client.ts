/**
 * Opens the database: SQLite (better-sqlite3 adapter) or PostgreSQL (pg adapter), picked from the
 * URL scheme. Does not migrate: call `migrateDatabase(url)` from ./migrator first.
 *
 * Two Prisma clients are generated (scripts/generate-prisma.mjs, after every npm install) into
 * db/generated/{sqlite,postgres} from prisma/{sqlite,postgres}/schema.prisma + the shared
 * prisma/models.prisma: a client generated for one provider refuses the other's adapter. Import
 * them as `./generated/<kind>/client` (extensionless: the generator is set to
 * `importFileExtension = ""` so tsc's node16/CommonJS build and @swc/jest both resolve them).
 * Both have the same model API; the PostgreSQL one is cast to the SQLite one's type (`Db`).
 *
 * SQLite: the file must exist (the migrator creates it); WAL + a 5 s busy timeout let several
 * connections/processes share the file. One connection per client, so interactive transactions
 * are serialized (see serializedSqlite below): inside `prisma.$transaction(async (tx) => …)`
 * use `tx`, never `prisma`, or the outer query waits for the transaction (and times it out).
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as SqliteAdapter from '@prisma/adapter-better-sqlite3';
import type * as PgAdapter from '@prisma/adapter-pg';
import type BetterSqlite3 from 'better-sqlite3';
import type Pg from 'pg';
import {
  DriverAdapterError,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from '@prisma/driver-adapter-utils';
import type { PrismaClient as SqlitePrismaClient } from './generated/sqlite/client';
import type * as PostgresClient from './generated/postgres/client';
import { postgresSql, sqliteSql, type SqlDatabase } from './sql';

// Each module is loaded when first used: a process uses one provider, and the turn path needs its
// driver alone, not Prisma's client (issue #9: cold start).
const sqliteModules = {
  get PrismaClient() {
    return (require('./generated/sqlite/client') as { PrismaClient: typeof SqlitePrismaClient }).PrismaClient;
  },
  get PrismaBetterSqlite3() {
    return (require('@prisma/adapter-better-sqlite3') as typeof SqliteAdapter).PrismaBetterSqlite3;
  },
  get BetterSqlite3() {
    return require('better-sqlite3') as typeof BetterSqlite3;
  },
};
const postgresModules = {
  get PrismaClient() {
    return (require('./generated/postgres/client') as typeof PostgresClient).PrismaClient;
  },
  get PrismaPg() {
    return (require('@prisma/adapter-pg') as typeof PgAdapter).PrismaPg;
  },
  get pg() {
    return require('pg') as typeof Pg;
  },
};

export type DatabaseKind = 'sqlite' | 'postgres';
export type Db = SqlitePrismaClient;
export type Provider = 'sqlite' | 'postgresql';

/**
 * Which SQL dialect a client speaks. Prisma's own field (on the client and on a transaction
 * client alike); both generated clients set it.
 */
export function providerOf(db: unknown): Provider {
  const provider = (db as { _activeProvider?: string })._activeProvider;
  if (provider === 'sqlite' || provider === 'postgresql') return provider;
  throw new Error(`unsupported database provider ${JSON.stringify(provider)} (expected sqlite or postgresql)`);
}
export interface Database {
  /**
   * Made when first used: the turn path runs on `sql` alone, so the turn worker (and a start)
   * loads Prisma's client and query compiler only when something asks for them
   * (bench/FINDINGS.md). Until then nothing is connected.
   */
  readonly prisma: Db;
  /** Plain SQL on the same database, for the turn path (see ./sql). */
  sql: SqlDatabase;
  kind: DatabaseKind;
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_DATABASE_URL = 'file:./data/bot.db';
/** Milliseconds a SQLite connection waits for another connection's write lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** Connections per PostgreSQL pool (per process). */
export const POSTGRES_POOL_SIZE = 5;

export function databaseKind(url: string): DatabaseKind {
  if (url.startsWith('file:')) return 'sqlite';
  if (url.startsWith('postgresql://') || url.startsWith('postgres://')) return 'postgres';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new Error(
    `Unsupported database URL ${scheme ? `scheme "${scheme}:"` : `"${url}"`}: expected file:<path> (SQLite) or postgresql://… (PostgreSQL)`,
  );
}

/** Absolute path of a `file:` URL's database, relative paths taken from the process cwd. */
export function sqliteFilePath(url: string): string {
  if (databaseKind(url) !== 'sqlite') throw new Error(`Not a SQLite URL: ${url}`);
  const file = decodeURIComponent(url.slice('file:'.length).replace(/\?.*$/, '').replace(/^\/\/(?=\/)/, ''));
  if (!file || file === ':memory:') throw new Error(`SQLite URL needs a file path: ${url}`);
  return path.resolve(file);
}

/**
 * Per connection: a commit is on disk before it returns, so a confirmed agreement survives a power
 * cut, as on PostgreSQL. better-sqlite3 builds SQLite with NORMAL as WAL's default, under which the
 * last commits can roll back after a power loss.
 */
const DURABLE_COMMITS = 'PRAGMA synchronous = FULL';

/**
 * The turn path's connection keeps its savepoint journal in memory. Each turn of a group commit
 * runs in a savepoint (./sql), which journals the first change to every page; past 64 KiB that
 * journal spills to a temporary file, created and removed in every transaction, and every page
 * then costs a write system call: 14 of a turn's 23 `pwrite`s, 6% of the turn worker's CPU at 50
 * conversations (bench/FINDINGS.md). A group's journal is at most a few hundred KiB and is gone
 * at its COMMIT; nothing durable depends on it.
 */
const TURN_CONNECTION = `${DURABLE_COMMITS}; PRAGMA temp_store = MEMORY`;

export async function openDatabase(url: string): Promise<Database> {
  const kind = databaseKind(url);
  if (kind === 'sqlite') {
    const file = sqliteFilePath(url);
    // The migrator creates the file: a path without one fails here, not at the first query.
    if (!fs.existsSync(file)) throw new Error(`SQLite database ${file} does not exist: migrate it first (npm run db:migrate)`);
    const connection = new sqliteModules.BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS, fileMustExist: true });
    connection.exec(TURN_CONNECTION);
    const sql = sqliteSql(connection, fileLock(file));
    return databaseOf(kind, url, sql, () => sql.close(), () => {
      // Transactions queue for the file's one lock (see fileLocks), so allow a longer wait to start.
      return new sqliteModules.PrismaClient({ adapter: serializedSqlite(file), transactionOptions: { maxWait: 10_000 } });
    });
  }
  const { pg } = postgresModules;
  // One pool for Prisma and the turn path's SQL (the turns of a pass share one connection for
  // their reads and one for their commit: ./sql).
  // Pipelining changes nothing for a caller that awaits each statement (as Prisma does); the turn's
  // transaction (db/sql.ts) uses it to send its writes without waiting for each answer.
  const pool = new pg.Pool({ connectionString: url, max: POSTGRES_POOL_SIZE, idleTimeoutMillis: 10_000, pipeline: true });
  // An idle connection the server closed (restart, failover, a dropped database) is taken out of
  // the pool, and the next query opens a new one; unhandled, the event would end the process.
  // (A connection in use is watched by whoever holds it: ./sql's checkout, Prisma's adapter.)
  pool.on('error', () => {});
  const sql = postgresSql(pool, (oid) => pg.types.getTypeParser(oid));
  return databaseOf(kind, url, sql, () => pool.end(), () => {
    const { PrismaClient, PrismaPg } = postgresModules;
    // Same model API, different generated module: the cast is the one place the two meet.
    // A burst of turns queues for the pool's few connections: wait for one as long as SQLite does.
    return new PrismaClient({ adapter: new PrismaPg(pool), transactionOptions: { maxWait: 10_000 } }) as unknown as Db;
  });
}

/**
 * The open database around its SQL connection (or pool), which `closeConnection` closes, with its
 * Prisma client made by `makePrisma` when first used.
 */
function databaseOf(kind: DatabaseKind, url: string, sql: SqlDatabase, closeConnection: () => Promise<void>, makePrisma: () => Db): Database {
  let prisma: Db | undefined;
  return {
    get prisma() {
      return (prisma ??= makePrisma());
    },
    sql,
    kind,
    url,
    async close() {
      // Prisma first: on PostgreSQL it uses the pool that closeConnection() ends.
      await prisma?.$disconnect();
      await closeConnection();
    },
  };
}

/**
 * better-sqlite3 adapter with two changes:
 * - transactions start with BEGIN IMMEDIATE (the stock adapter sends a deferred BEGIN), so a
 *   transaction that reads then writes cannot fail with SQLITE_BUSY when another process wrote
 *   in between; the busy timeout makes it wait for the other writer instead;
 * - every statement outside a transaction waits while one is open (see fileLocks). The stock
 *   adapter runs them on the same (only) connection, i.e. inside the open transaction: they
 *   would see its uncommitted rows and be rolled back with it.
 */
function serializedSqlite(file: string): SqlDriverAdapterFactory {
  const factory = new sqliteModules.PrismaBetterSqlite3({ url: `file:${file}`, timeout: SQLITE_BUSY_TIMEOUT_MS });
  return {
    provider: 'sqlite',
    adapterName: factory.adapterName,
    async connect() {
      const inner = await factory.connect();
      // WAL is stored in the file (readers no longer block the writer); a no-op when already set.
      await inner.queryRaw(rawQuery('PRAGMA journal_mode = WAL'));
      await inner.executeScript(DURABLE_COMMITS);
      return new SerializedSqliteAdapter(inner, file);
    },
  };
}

function rawQuery(sql: string): SqlQuery {
  return { sql, args: [], argTypes: [] };
}

/** A FIFO lock: `acquire()` resolves with the function that releases it. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * One lock per database file for the whole thread (module state: the turn worker's thread has its
 * own). better-sqlite3 waits for a busy file synchronously, blocking the event loop: a connection
 * waiting for another connection of the same thread would block the very code that could finish
 * the other's transaction (a 5 s stall, then SQLITE_BUSY). So connections of one thread take turns
 * here, and the busy timeout only ever waits for other threads or processes, which finish their
 * transactions on their own event loops.
 */
const fileLocks = new Map<string, Mutex>();
const fileLock = (file: string): Mutex => {
  let lock = fileLocks.get(file);
  if (!lock) fileLocks.set(file, (lock = new Mutex()));
  return lock;
};

class SerializedSqliteAdapter implements SqlDriverAdapter {
  readonly provider = 'sqlite';
  readonly adapterName: string;
  readonly #inner: SqlDriverAdapter;
  readonly #lock: Mutex;

  constructor(inner: SqlDriverAdapter, file: string) {
    this.#inner = inner;
    this.adapterName = inner.adapterName;
    this.#lock = fileLock(file);
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.#lock.run(() => this.#inner.queryRaw(query));
  }
  executeRaw(query: SqlQuery): Promise<number> {
    return this.#lock.run(() => this.#inner.executeRaw(query));
  }
  executeScript(script: string): Promise<void> {
    return this.#lock.run(() => this.#inner.executeScript(script));
  }

  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    // SQLite transactions are always serializable; refuse the rest, as the stock adapter does.
    if (isolationLevel && isolationLevel !== 'SERIALIZABLE') {
      throw new DriverAdapterError({ kind: 'InvalidIsolationLevel', level: isolationLevel });
    }
    const release = await this.#lock.acquire();
    try {
      await this.#inner.executeRaw(rawQuery('BEGIN IMMEDIATE'));
    } catch (e) {
      release();
      throw e;
    }
    return new SqliteTransaction(this.#inner, release);
  }

  getConnectionInfo() {
    return this.#inner.getConnectionInfo?.() ?? { supportsRelationJoins: false };
  }

  async dispose(): Promise<void> {
    // Let a running transaction finish (or time out) rather than closing under it.
    await this.#lock.run(() => this.#inner.dispose());
  }
}

/**
 * Runs on the connection directly (its adapter holds the lock). Prisma sends COMMIT/ROLLBACK
 * itself through executeRaw, then calls commit()/rollback(), which only release the lock.
 */
class SqliteTransaction implements Transaction {
  readonly provider = 'sqlite';
  readonly adapterName: string;
  readonly options = { usePhantomQuery: false };
  readonly #conn: SqlDriverAdapter;
  #release: (() => void) | undefined;

  constructor(conn: SqlDriverAdapter, release: () => void) {
    this.#conn = conn;
    this.#release = release;
    this.adapterName = conn.adapterName;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.#conn.queryRaw(query);
  }
  executeRaw(query: SqlQuery): Promise<number> {
    return this.#conn.executeRaw(query);
  }
  commit(): Promise<void> {
    return this.#end();
  }
  rollback(): Promise<void> {
    return this.#end();
  }
  async createSavepoint(name: string): Promise<void> {
    await this.#conn.executeRaw(rawQuery(`SAVEPOINT ${name}`));
  }
  async rollbackToSavepoint(name: string): Promise<void> {
    await this.#conn.executeRaw(rawQuery(`ROLLBACK TO ${name}`));
  }
  async releaseSavepoint(name: string): Promise<void> {
    await this.#conn.executeRaw(rawQuery(`RELEASE SAVEPOINT ${name}`));
  }

  async #end(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}
