/**
 * Migrations without Prisma's native schema engine (which the CLI downloads and this machine
 * cannot): the same Rust engine compiled to Wasm (@prisma/schema-engine-wasm), driven through
 * the driver adapters. Same folder layout (prisma/<kind>/migrations/<timestamp>_<name>/migration.sql,
 * migration_lock.toml) and the same `_prisma_migrations` table as `prisma migrate`, so the
 * official CLI still works on a machine that has its engine.
 *
 * Covers what the engine/adapters of 7.10.0 get wrong (see /work/shared/notes/prisma-offline.md):
 * - SQLite shadow (`:memory:`): migration files arrive as one multi-statement `executeRaw`,
 *   which better-sqlite3 refuses → routed to `executeScript` (sqliteSession).
 * - SQLite fresh file: status-type calls fail with P1014 → we only call `applyMigrations`, which
 *   creates `_prisma_migrations`; createMigration applies the history to its scratch file first.
 * - PostgreSQL inspection: adapter-pg rejects the internal `"char"` type → reported as text
 *   (CharAsTextClient).
 * - PostgreSQL shadow: the stock one reuses the main database (connectionString wins over
 *   `database`) → we create and drop our own uniquely named database (pgSession).
 * - PostgreSQL executeScript splits on every `;` (even inside literals) → the whole script is sent
 *   as one simple query, which PostgreSQL runs as one implicit transaction.
 * - Exit: pools, connections and engine timers kept processes alive → everything is disposed, the
 *   engine freed, leftover engine timers cleared.
 * - New migration folders always sort after the existing ones.
 * - An empty database gets the scripts and the engine's rows for them without the engine, which
 *   is three times slower at it (./emptyDatabase).
 * Concurrency: applying holds a PostgreSQL advisory lock / an exclusive lock on a SQLite lock file.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Sqlite from 'better-sqlite3';
import type * as Pg from 'pg';
import type * as SqliteAdapter from '@prisma/adapter-better-sqlite3';
import type * as PgAdapter from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  isDriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
} from '@prisma/driver-adapter-utils';
import type {
  MigrationList,
  SchemaContainer,
  SchemaEngine,
  SchemaFilter,
} from '@prisma/schema-engine-wasm/schema_engine_bg' with { 'resolution-mode': 'import' };
import { databaseKind, sqliteFilePath, SQLITE_BUSY_TIMEOUT_MS, type DatabaseKind } from './client';
import { applyToEmptyPostgres, applyToEmptySqlite } from './emptyDatabase';

export type Log = (msg: string) => void;

/** Server used for scratch/shadow databases when no URL is given (createMigration, drift check). */
export const DEFAULT_POSTGRES_DEV_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Key of the session-level advisory lock held while applying (not the engine's own 72707369). */
const PG_MIGRATE_LOCK_KEY = 727073691;
const NO_FILTERS: SchemaFilter = { externalTables: [], externalEnums: [] };
const LOCKFILE = 'migration_lock.toml';
const MIGRATION_FILE = 'migration.sql';

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Applies the committed migrations of the URL's provider that the database lacks. Idempotent and
 * safe at every start, also from several processes at once. Creates a missing SQLite file/dir.
 */
export async function migrateDatabase(url: string, log: Log = () => {}): Promise<{ applied: string[] }> {
  const kind = databaseKind(url);
  const migrationsList = readMigrations(kind);
  const apply = async (session: Session): Promise<string[]> =>
    (await withEngine(kind, session, (engine) => engine.applyMigrations({ migrationsList, filters: NO_FILTERS })))
      .appliedMigrationNames;

  let applied: string[];
  if (kind === 'sqlite') {
    const file = sqliteFilePath(url);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    applied = await withSqliteLock(file, log, async () => {
      // The engine locks the file exclusively (PRAGMA locking_mode=EXCLUSIVE, as `prisma migrate`
      // does), which waits for every other open connection, e.g. another running server. So it
      // only runs when something is pending.
      return prepareSqliteFile(file, migrationsList) ?? apply(sqliteSession(file));
    }).catch((e: unknown) => {
      // The engine reports SQLITE_BUSY as P1008 "Socket timeout", which misleads for a file.
      if (!/P1008|Socket timeout/.test(message(e))) throw e;
      throw new Error(
        `${file} has pending migrations, which need it to themselves, but other connections kept it open for more than ${SQLITE_BUSY_TIMEOUT_MS} ms (stop the other processes using it, then migrate)`,
        { cause: e },
      );
    });
  } else {
    // As for SQLite, the engine (Wasm, slow to load) only runs when something is pending.
    applied = await withPgLock(url, log, async (client) => (await withoutEngine(client, migrationsList)) ?? apply(pgSession(url, url)));
  }
  for (const name of applied) log(`applied migration ${name}`);
  if (applied.length === 0) log(`${kind} database is up to date (${migrationsList.migrationDirectories.length} migrations)`);
  return { applied };
}

/**
 * Writes prisma/<kind>/migrations/<timestamp>_<name>/migration.sql with what models.prisma needs
 * beyond the committed migrations (nothing written when nothing changed), then checks that the
 * whole history applies. Works on scratch databases only: a temp file for SQLite; for PostgreSQL,
 * databases created and dropped on the server of `url` (default TEST_POSTGRES_URL, else
 * DEFAULT_POSTGRES_DEV_URL).
 */
export async function createMigration(
  kind: DatabaseKind,
  name: string,
  url?: string,
  log: Log = () => {},
): Promise<{ name: string | null; dir?: string; script?: string }> {
  const slug = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 200);
  if (!slug) throw new Error(`Migration name "${name}" has no letters or digits`);
  const baseDir = migrationsDir(kind);
  const before = readMigrations(kind);

  return withScratchDatabase(kind, url, async (scratchUrl, session) => {
    const result = await withEngine(kind, session(), async (engine) => {
      await engine.applyMigrations({ migrationsList: before, filters: NO_FILTERS });
      // evaluateDataLoss/createMigration get no shadow database of their own: they read the
      // history's schema from a per-engine cache that devDiagnostic fills (as in `migrate dev`).
      const { action } = await engine.devDiagnostic({ migrationsList: before, filters: NO_FILTERS });
      if (action.tag === 'reset') throw new Error(`The committed migrations are inconsistent: ${action.reason}`);
      const schema = { files: schemaFiles(kind) };
      const loss = await engine.evaluateDataLoss({ migrationsList: before, schema, filters: NO_FILTERS });
      for (const w of loss.warnings) log(`warning: ${w.message}`);
      for (const u of loss.unexecutableSteps) log(`cannot be applied to a database with data: ${u.message}`);
      return engine.createMigration({ draft: false, migrationName: slug, migrationsList: before, schema, filters: NO_FILTERS });
    });
    if (result.migrationScript === null) {
      log(`${kind}: models.prisma matches the migrations; nothing to create`);
      return { name: null };
    }
    const folder = sortLast(result.generatedMigrationName, before.migrationDirectories.map((d) => d.path));
    const dir = path.join(baseDir, folder);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `migration.${result.extension}`), result.migrationScript);
    fs.writeFileSync(
      path.join(baseDir, LOCKFILE),
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${result.connectorType}"\n`,
    );
    try {
      // The new history must apply on top of the old one (the scratch database holds the old).
      const after = readMigrations(kind);
      await withEngine(kind, session(), (engine) => engine.applyMigrations({ migrationsList: after, filters: NO_FILTERS }));
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`The generated migration did not apply on ${redact(scratchUrl)}, so it was removed: ${message(e)}`);
    }
    log(`${kind}: created ${path.relative(process.cwd(), dir)}`);
    return { name: folder, dir, script: result.migrationScript };
  });
}

/**
 * True when replaying the committed migrations gives exactly models.prisma; otherwise `script`
 * is the SQL that is missing. PostgreSQL replays into a scratch database on the server of `url`
 * (default TEST_POSTGRES_URL, else DEFAULT_POSTGRES_DEV_URL).
 */
export async function checkMigrationsMatchSchema(kind: DatabaseKind, url?: string): Promise<{ ok: boolean; script?: string }> {
  const migrationsList = readMigrations(kind);
  // The diff only reads the main connection's provider; the migrations replay in the shadow.
  const session = kind === 'sqlite' ? sqliteSession(':memory:') : pgSession(devServerUrl(url), devServerUrl(url));
  const result = await withEngine(kind, session, (engine) =>
    engine.diff({
      from: { tag: 'migrations', ...migrationsList },
      to: { tag: 'schemaDatamodel', files: schemaFiles(kind) },
      script: true,
      exitCode: true,
      filters: NO_FILTERS,
    }),
  );
  return result.exitCode === 0 ? { ok: true } : { ok: false, script: result.stdout ?? '' };
}

// ---------------------------------------------------------------------------------------------
// Files

let rootDir: string | undefined;
/** The repository root: the source lives in db/, the build in dist/db/. */
function projectRoot(): string {
  if (rootDir) return rootDir;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'prisma', 'models.prisma'))) return (rootDir = dir);
    if (path.dirname(dir) === dir) throw new Error(`prisma/models.prisma not found above ${__dirname}`);
  }
}

function migrationsDir(kind: DatabaseKind): string {
  return path.join(projectRoot(), 'prisma', kind, 'migrations');
}

function schemaFiles(kind: DatabaseKind): SchemaContainer[] {
  const dir = path.join(projectRoot(), 'prisma', kind);
  return ['schema.prisma', 'models.prisma'].map((f) => ({ path: path.join(dir, f), content: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

/** As the CLI reads them: every subfolder, sorted by name, with its migration.sql. */
function readMigrations(kind: DatabaseKind): MigrationList {
  const baseDir = migrationsDir(kind);
  const lockPath = path.join(baseDir, LOCKFILE);
  const entries = fs.existsSync(baseDir) ? fs.readdirSync(baseDir, { withFileTypes: true }) : [];
  return {
    baseDir,
    lockfile: { path: LOCKFILE, content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort((a, b) => a.localeCompare(b))
      .map((name) => {
        const file = path.join(baseDir, name, MIGRATION_FILE);
        const content = fs.existsSync(file)
          ? { tag: 'ok' as const, value: fs.readFileSync(file, 'utf8') }
          : { tag: 'error' as const, value: `${file} is missing` };
        return { path: name, migrationFile: { path: MIGRATION_FILE, content } };
      }),
  };
}

/** `generated` (<yyyymmddhhmmss>_<name>), re-stamped one second after the last existing folder if it would not sort last. */
function sortLast(generated: string, existing: string[]): string {
  const last = [...existing].sort((a, b) => a.localeCompare(b)).at(-1);
  const m = /^(\d{14})_(.*)$/.exec(generated);
  if (!last || !m || last.localeCompare(generated) < 0) return generated;
  const prev = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})/.exec(last);
  if (!prev) throw new Error(`Cannot order a new migration after "${last}"`);
  const [, y, mo, d, h, mi, s] = prev.map(Number) as [number, number, number, number, number, number, number];
  const next = new Date(Date.UTC(y, mo - 1, d, h, mi, s) + 1000).toISOString().replace(/\D/g, '').slice(0, 14);
  return `${next}_${m[2]}`;
}

// ---------------------------------------------------------------------------------------------
// The Wasm engine

/** The glue module's exports that we use. */
interface EngineRuntime {
  SchemaEngine: typeof SchemaEngine;
  __wbg_set_wasm(exports: WasmExports): void;
}
type WasmExports = Record<string, unknown>;
/** The bit of the WebAssembly global we use (lib ES2023 + @types/node 20 do not declare it). */
const { WebAssembly: Wasm } = globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: WasmExports } }> };
};

let runtime: Promise<EngineRuntime> | undefined;
let activeEngines = 0;
const engineTimers = new Set<NodeJS.Timeout>();

/**
 * The package's entry imports the .wasm as an ES module (needs --experimental-wasm-modules), and
 * jest cannot load its ESM glue either. The glue is plain `export function|class` declarations
 * without imports, so it is evaluated as a function body that returns them, then given the
 * instantiated .wasm. The glue is untyped JavaScript: this function is the one place that trusts it.
 */
function loadRuntime(): Promise<EngineRuntime> {
  return (runtime ??= (async () => {
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const source = fs.readFileSync(gluePath, 'utf8');
    const names: string[] = [];
    const body = source.replace(/^export (function|class) ([A-Za-z_$][\w$]*)/gm, (_m, what: string, name: string) => {
      names.push(name);
      return `${what} ${name}`;
    });
    if (/^(export|import)\b/m.test(body) || !names.includes('SchemaEngine')) {
      throw new Error(`${gluePath} is not shaped as db/migrator.ts expects (was @prisma/schema-engine-wasm upgraded?)`);
    }
    // `setTimeout` is ours so that timers left by a freed engine can be cleared (they kept the
    // process alive for up to a minute); `module` is undefined as in an ES module.
    const evaluate = new Function('setTimeout', 'module', `${body}\nreturn { ${names.join(', ')} };\n//# sourceURL=${pathToFileURL(gluePath).href}`);
    const glue = evaluate(trackedSetTimeout, undefined) as EngineRuntime;
    const wasm = fs.readFileSync(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
    const { instance } = await Wasm.instantiate(wasm, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })());
}

function trackedSetTimeout(fn: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(() => {
    engineTimers.delete(timer);
    fn();
  }, ms);
  engineTimers.add(timer);
  return timer;
}

/** Runs `fn` with an engine on `session`'s connections, then frees the engine and disposes them. */
async function withEngine<T>(kind: DatabaseKind, session: Session, fn: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  activeEngines += 1;
  let engine: SchemaEngine | undefined;
  let failed = false;
  try {
    const rt = await loadRuntime();
    const datamodels = schemaFiles(kind).map((f): [string, string] => [f.path, f.content]);
    engine = await rt.SchemaEngine.new({ datamodels }, engineLog, bindMigrationAwareSqlAdapterFactory(session.factory));
    return await fn(engine);
  } catch (e) {
    failed = true;
    throw engineError(e);
  } finally {
    engine?.free();
    activeEngines -= 1;
    if (activeEngines === 0) {
      for (const t of engineTimers) clearTimeout(t);
      engineTimers.clear();
    }
    // A cleanup failure must not hide the error that matters.
    await session.dispose().catch((e: unknown) => {
      if (!failed) throw e;
    });
  }
}

function engineLog(line: string): void {
  if (process.env.MIGRATOR_DEBUG) process.stderr.write(`[schema-engine] ${line}\n`);
}

/** Engine failures arrive as plain objects or JSON strings; make them Errors with the Prisma code. */
function engineError(e: unknown): Error {
  if (e instanceof Error) return e;
  let value = e;
  if (typeof e === 'string') {
    try {
      value = JSON.parse(e);
    } catch {
      return new Error(e);
    }
  }
  if (value && typeof value === 'object') {
    const { error_code: code, message: msg } = value as { error_code?: unknown; message?: unknown };
    if (typeof msg === 'string') return Object.assign(new Error(typeof code === 'string' ? `${code}: ${msg}` : msg), { code });
  }
  return new Error(JSON.stringify(value));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------
// Connections handed to the engine

interface Session {
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** Closes every connection it opened and drops the databases it created. Idempotent. */
  dispose(): Promise<void>;
}

function rawQuery(sql: string): SqlQuery {
  return { sql, args: [], argTypes: [] };
}

function once<T>(fn: () => T): () => T {
  let done: { value: T } | undefined;
  return () => (done ??= { value: fn() }).value;
}

/** A delegating adapter with some methods replaced. */
function overrideAdapter(
  inner: SqlDriverAdapter,
  o: Partial<Pick<SqlDriverAdapter, 'queryRaw' | 'executeRaw' | 'executeScript' | 'dispose'>>,
): SqlDriverAdapter {
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: o.queryRaw ?? ((q) => inner.queryRaw(q)),
    executeRaw: o.executeRaw ?? ((q) => inner.executeRaw(q)),
    executeScript: o.executeScript ?? ((s) => inner.executeScript(s)),
    startTransaction: (level) => inner.startTransaction(level),
    ...(inner.getConnectionInfo ? { getConnectionInfo: () => inner.getConnectionInfo!() } : {}),
    dispose: o.dispose ?? (() => inner.dispose()),
  };
}

/** `file` is an absolute path or ':memory:'. The shadow is always a fresh `:memory:` database. */
function sqliteSession(file: string): Session {
  const base = new (require('@prisma/adapter-better-sqlite3') as typeof SqliteAdapter).PrismaBetterSqlite3({ url: file === ':memory:' ? file : `file:${file}`, timeout: SQLITE_BUSY_TIMEOUT_MS });
  const opened: Array<() => Promise<void>> = [];
  const track = (a: SqlDriverAdapter): SqlDriverAdapter => {
    const adapter = overrideAdapter(a, {
      queryRaw: (q) => busyAsSqliteError(() => a.queryRaw(q)),
      executeRaw: (q) => busyAsSqliteError(() => a.executeRaw(q)),
      executeScript: (script) => busyAsSqliteError(() => a.executeScript(script)),
      dispose: once(() => a.dispose()),
    });
    opened.push(adapter.dispose);
    return adapter;
  };
  return {
    factory: {
      provider: 'sqlite',
      adapterName: base.adapterName,
      connect: async () => track(await base.connect()),
      connectToShadowDb: async () => {
        const shadow = track(await base.connectToShadowDb());
        // The engine replays each migration file as one argument-less executeRaw.
        return overrideAdapter(shadow, {
          executeRaw: async (q) => (q.args.length === 0 ? (await shadow.executeScript(q.sql), 0) : shadow.executeRaw(q)),
        });
      },
    },
    dispose: async () => {
      await Promise.all(opened.map((d) => d()));
    },
  };
}

/**
 * The adapter reports SQLITE_BUSY as kind "SocketTimeout", which the engine cannot decode ("unknown
 * variant `SocketTimeout`"); pass it on as the plain SQLite error it is.
 */
async function busyAsSqliteError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isDriverAdapterError(e) && e.cause.kind === 'SocketTimeout') {
      throw new DriverAdapterError({
        kind: 'sqlite',
        extendedCode: 5,
        message: `database is locked: another connection kept it busy for more than ${SQLITE_BUSY_TIMEOUT_MS} ms`,
      });
    }
    throw e;
  }
}

interface RowDescription {
  fields: Array<{ dataTypeID: number }>;
}
const PG_CHAR_OID = 18; // the internal one-byte "char" (e.g. pg_constraint.contype)
const PG_TEXT_OID = 25;

// PostgreSQL's modules are loaded when a PostgreSQL database is migrated: a process on SQLite
// never needs them, and loading them cost start-up time (issue #9: cold start).
const pgModule = () => require('pg') as typeof Pg;

/** Reports `"char"` columns as text, which adapter-pg knows (its value is already a string). */
const charAsTextClient = once(() => {
  const pg = pgModule();
  return class CharAsTextClient extends pg.Client {
    // pg's internal hook for RowDescription messages, bound when the client connects; @types/pg omits it.
    _handleRowDescription(msg: RowDescription): void {
      for (const field of msg.fields) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
      (pg.Client.prototype as unknown as { _handleRowDescription(m: RowDescription): void })._handleRowDescription.call(this, msg);
    }
  };
});

/**
 * `url`: the main database; `serverUrl`: a database on the same server to run CREATE/DROP DATABASE
 * from (for the shadow, created on demand and dropped by dispose()).
 */
function pgSession(url: string, serverUrl: string): Session {
  const cleanups: Array<() => Promise<void>> = [];
  const connectTo = async (connectionString: string): Promise<SqlDriverAdapter> => {
    const pool = new (pgModule().Pool)({ connectionString, max: 2, Client: charAsTextClient() });
    const inner = await new (require('@prisma/adapter-pg') as typeof PgAdapter).PrismaPg(pool).connect();
    const adapter = overrideAdapter(inner, {
      // One simple query (no parameters), so the server parses it: ';' inside literals is safe,
      // and a failure leaves nothing half-applied.
      executeScript: async (script) => void (await inner.executeRaw(rawQuery(script))),
      dispose: once(async () => {
        await inner.dispose();
        await pool.end();
      }),
    });
    cleanups.push(adapter.dispose);
    return adapter;
  };
  return {
    factory: {
      provider: 'postgres',
      adapterName: '@prisma/adapter-pg',
      connect: () => connectTo(url),
      connectToShadowDb: async () => {
        const name = uniqueDatabaseName('prisma_shadow');
        await pgAdmin(serverUrl, `CREATE DATABASE "${name}"`);
        const drop = () => pgAdmin(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        try {
          const adapter = await connectTo(withDatabase(url, name));
          cleanups.push(drop); // after the adapter's own cleanup: close its pool, then drop
          return adapter;
        } catch (e) {
          await drop();
          throw e;
        }
      },
    },
    dispose: async () => {
      // In creation order (a shadow's pool closes before the shadow is dropped); all of them, even
      // after a failure, so no scratch database is left behind.
      let failure: unknown;
      for (const c of cleanups) await c().catch((e: unknown) => (failure ??= e));
      if (failure !== undefined) throw failure;
    },
  };
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function pgAdmin(serverUrl: string, sql: string): Promise<void> {
  const client = new (pgModule().Client)({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function devServerUrl(url?: string): string {
  return url ?? process.env.TEST_POSTGRES_URL ?? DEFAULT_POSTGRES_DEV_URL;
}

/** Runs `fn` against an empty database that is removed afterwards. */
async function withScratchDatabase<T>(
  kind: DatabaseKind,
  url: string | undefined,
  fn: (scratchUrl: string, session: () => Session) => Promise<T>,
): Promise<T> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prisma-scratch-'));
    const file = path.join(dir, 'scratch.db');
    try {
      return await fn(`file:${file}`, () => sqliteSession(file));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const server = devServerUrl(url);
  const name = uniqueDatabaseName('prisma_scratch');
  await pgAdmin(server, `CREATE DATABASE "${name}"`);
  try {
    const scratch = withDatabase(server, name);
    return await fn(scratch, () => pgSession(scratch, server));
  } finally {
    await pgAdmin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Locks around applying

/**
 * Creates the file if missing and puts it in WAL mode (a property of the file, set while we hold
 * the migration lock). What it applied when there is nothing for the engine to do (nothing when
 * every migration folder is recorded as applied, all of them when the file was empty); undefined
 * when the engine is needed.
 */
function prepareSqliteFile(file: string, migrations: MigrationList): string[] | undefined {
  const db = new Sqlite(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`).get();
    if (!table) return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table'`).get() ? undefined : applyToEmptySqlite(db, migrations);
    const rows = db.prepare(APPLIED_MIGRATIONS_SQL).all() as AppliedMigration[];
    return allApplied(rows, migrations) ? [] : undefined;
  } finally {
    db.close();
  }
}

type AppliedMigration = { name: string; finished: unknown; rolledBack: unknown };
const APPLIED_MIGRATIONS_SQL = 'SELECT migration_name AS "name", finished_at AS "finished", rolled_back_at AS "rolledBack" FROM _prisma_migrations';

/** Every local migration applied, and none failed (a failed one is the engine's to report). */
function allApplied(rows: AppliedMigration[], migrations: MigrationList): boolean {
  if (rows.some((r) => r.finished === null && r.rolledBack === null)) return false;
  const applied = new Set(rows.filter((r) => r.finished !== null && r.rolledBack === null).map((r) => r.name));
  return migrations.migrationDirectories.every((d) => applied.has(d.path));
}

/** The PostgreSQL side of prepareSqliteFile: what was applied without the engine, or undefined when it is needed. */
async function withoutEngine(client: Pg.Client, migrations: MigrationList): Promise<string[] | undefined> {
  const { rows } = await client.query<{ present: boolean; tables: string }>(
    `SELECT to_regclass('_prisma_migrations') IS NOT NULL AS "present", (SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()) AS "tables"`,
  );
  if (!rows[0]?.present) return Number(rows[0]?.tables) === 0 ? applyToEmptyPostgres(client, migrations) : undefined;
  return allApplied((await client.query<AppliedMigration>(APPLIED_MIGRATIONS_SQL)).rows, migrations) ? [] : undefined;
}

const localSqliteLocks = new Map<string, Promise<unknown>>();

/**
 * An exclusive transaction on a side file (<db>.migrate-lock) is the cross-process lock: the OS
 * drops it if the holder dies. Polled, never a blocking wait, so the event loop keeps running;
 * callers in the same process queue on a promise first.
 */
async function withSqliteLock<T>(file: string, log: Log, fn: () => Promise<T>): Promise<T> {
  const previous = localSqliteLocks.get(file) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(async () => {
    const lock = new Sqlite(`${file}.migrate-lock`, { timeout: 0 });
    try {
      for (let waited = 0; ; waited += 100) {
        try {
          lock.exec('BEGIN EXCLUSIVE');
          break;
        } catch (e) {
          if ((e as { code?: unknown }).code !== 'SQLITE_BUSY') throw e;
          if (waited === 0) log('waiting for another process to finish migrating…');
          if (waited > 10 * 60_000) throw new Error(`Timed out waiting for the migration lock ${file}.migrate-lock`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      try {
        return await fn();
      } finally {
        lock.exec('ROLLBACK');
      }
    } finally {
      lock.close();
    }
  });
  localSqliteLocks.set(file, run);
  try {
    return await run;
  } finally {
    if (localSqliteLocks.get(file) === run) localSqliteLocks.delete(file);
  }
}

/** A session-level advisory lock on its own connection; released by PostgreSQL if we die. */
async function withPgLock<T>(url: string, log: Log, fn: (client: Pg.Client) => Promise<T>): Promise<T> {
  const client = new (pgModule().Client)({ connectionString: url });
  // An idle client whose connection drops emits 'error', fatal without a listener; the next
  // query (or the unlock) reports the failure instead.
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [PG_MIGRATE_LOCK_KEY]);
    if (!rows[0]?.locked) {
      log('waiting for another process to finish migrating…');
      await client.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_KEY]);
    }
    try {
      return await fn(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}
