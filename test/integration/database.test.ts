/**
 * The database layer on both providers: migrations (fresh, idempotent, concurrent), the model
 * API, interactive transactions, and that the committed migrations match models.prisma.
 * PostgreSQL tests use throwaway databases on TEST_POSTGRES_URL's server (see ../support/databases).
 */
import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { openDatabase, sqliteFilePath, type Database, type DatabaseKind } from '../../db/client';
import { checkMigrationsMatchSchema, migrateDatabase } from '../../db/migrator';
import { freshDatabaseUrl, TEST_POSTGRES_URL } from '../support/databases';

const committedMigrations = (kind: DatabaseKind): string[] =>
  fs
    .readdirSync(path.join(__dirname, '../../prisma', kind, 'migrations'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

const borrower = (id: string, phone: string) => ({
  id,
  name: '张三',
  phone,
  idLast4Digest: 'digest-id',
  birthDateDigest: 'digest-birth',
  locale: 'zh-CN',
});

describe.each<DatabaseKind>(['sqlite', 'postgres'])('%s', (kind) => {
  let url: string;
  let drop: () => Promise<void>;
  let db: Database;

  beforeAll(async () => {
    ({ url, drop } = await freshDatabaseUrl(kind));
    if (kind === 'sqlite') url = url.replace(/bot\.db$/, 'nested/dir/bot.db'); // directory created on demand
  });
  afterAll(async () => {
    await db?.close();
    await drop();
  });

  test('migrates a fresh database, then has nothing left to apply', async () => {
    const log: string[] = [];
    expect(await migrateDatabase(url, (m) => log.push(m))).toEqual({ applied: committedMigrations(kind) });
    expect(log).toEqual(committedMigrations(kind).map((m) => `applied migration ${m}`));
    expect(await migrateDatabase(url)).toEqual({ applied: [] });
    if (kind === 'sqlite') expect(fs.existsSync(sqliteFilePath(url))).toBe(true);
  });

  test('writes and reads a borrower with a loan and installments', async () => {
    db = await openDatabase(url);
    expect(db.kind).toBe(kind);
    await db.prisma.borrower.create({
      data: {
        ...borrower('B1', '13800000001'),
        loans: {
          create: {
            id: 'L1',
            product: 'cash',
            annualRate: '0.18',
            installments: {
              create: [1, 2].map((number) => ({
                number,
                dueDate: `2025-0${number}-15`,
                principalDueFen: 100_00,
                interestDueFen: 1_50,
                principalPaidFen: number === 1 ? 100_00 : 0,
                interestPaidFen: number === 1 ? 1_50 : 0,
              })),
            },
          },
        },
      },
    });
    const read = await db.prisma.borrower.findUniqueOrThrow({
      where: { phone: '13800000001' },
      include: { loans: { include: { installments: { orderBy: { number: 'asc' } } } } },
    });
    expect(read.name).toBe('张三');
    expect(read.createdAt).toBeInstanceOf(Date);
    expect(read.loans).toHaveLength(1);
    expect(read.loans[0]?.annualRate).toBe('0.18');
    expect(read.loans[0]?.installments.map((i) => [i.number, i.dueDate, i.principalPaidFen])).toEqual([
      [1, '2025-01-15', 100_00],
      [2, '2025-02-15', 0],
    ]);
  });

  test('a failing interactive transaction leaves nothing behind', async () => {
    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.borrower.create({ data: borrower('B2', '13800000002') });
        await tx.loan.create({ data: { id: 'L2', borrowerId: 'B2', product: 'cash', annualRate: '0.2' } });
        expect(await tx.borrower.count()).toBe(2);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.prisma.borrower.count()).toBe(1);
    expect(await db.prisma.loan.findUnique({ where: { id: 'L2' } })).toBeNull();
  });

  test('a query outside an open transaction does not see (or join) its writes', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
    const tx = db.prisma.$transaction(async (t) => {
      await t.borrower.create({ data: borrower('B3', '13800000003') });
      inserted();
      await gate;
      throw new Error('rollback');
    });
    await insertedSignal;
    // Prisma's query promises are lazy: `.then` sends them now, while the transaction is open.
    const outsideRead = db.prisma.borrower.findUnique({ where: { id: 'B3' } }).then((r) => r);
    const outsideWrite = db.prisma.borrower.create({ data: borrower('B4', '13800000004') }).then((r) => r);
    await new Promise((r) => setTimeout(r, 50)); // let them run (or queue)
    finish();
    await expect(tx).rejects.toThrow('rollback');
    expect(await outsideRead).toBeNull();
    await outsideWrite;
    expect((await db.prisma.borrower.findMany({ orderBy: { id: 'asc' } })).map((b) => b.id)).toEqual(['B1', 'B4']);
  });

  test('a foreign key violation is refused', async () => {
    await expect(
      db.prisma.loan.create({ data: { id: 'L9', borrowerId: 'nobody', product: 'cash', annualRate: '0.1' } }),
    ).rejects.toThrow();
  });
});

describe('sqlite across connections', () => {
  let url: string;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ url, drop } = await freshDatabaseUrl('sqlite'));
    await migrateDatabase(url);
  });
  afterAll(() => drop());

  test('opening a file that was never migrated fails, saying so, and creates nothing', async () => {
    const missing = url.replace(/bot\.db$/, 'never-migrated/bot.db');
    await expect(openDatabase(missing)).rejects.toThrow(`SQLite database ${sqliteFilePath(missing)} does not exist: migrate it first (npm run db:migrate)`);
    expect(fs.existsSync(path.dirname(sqliteFilePath(missing)))).toBe(false);
  });

  test('a database closes whether or not its Prisma client (made when first used) was used', async () => {
    const unused = await openDatabase(url);
    expect(await unused.sql.all('SELECT 1 AS "one"')).toEqual([{ one: 1 }]);
    await unused.close();
    const used = await openDatabase(url);
    expect(await used.prisma.borrower.count()).toBe(0);
    await used.close();
  });

  test('uses WAL', () => {
    const raw = new Sqlite(sqliteFilePath(url), { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  test('read-modify-write transactions on two connections do not lose updates', async () => {
    const [a, b] = await Promise.all([openDatabase(url), openDatabase(url)]);
    try {
      await a.prisma.conversation.create({
        data: { id: 'c1', channelId: 'test', locale: 'en', reference: '{}', snapshot: '{}', flowVersion: '1', lastActivityAt: new Date() },
      });
      const bump = (d: Database) =>
        d.prisma.$transaction(async (tx) => {
          const { version } = await tx.conversation.findUniqueOrThrow({ where: { id: 'c1' } });
          await new Promise((r) => setTimeout(r, 2));
          await tx.conversation.update({ where: { id: 'c1' }, data: { version: version + 1 } });
        });
      await Promise.all([a, b].flatMap((d) => Array.from({ length: 10 }, () => bump(d))));
      expect((await a.prisma.conversation.findUniqueOrThrow({ where: { id: 'c1' } })).version).toBe(20);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('migrating waits while another process holds the migration lock', async () => {
    const file = sqliteFilePath(url);
    const other = new Sqlite(`${file}.migrate-lock`); // stands in for another process
    other.exec('BEGIN EXCLUSIVE');
    const log: string[] = [];
    let done = false;
    const migrating = migrateDatabase(url, (m) => log.push(m)).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    expect(log).toContain('waiting for another process to finish migrating…');
    other.exec('ROLLBACK');
    other.close();
    expect(await migrating).toEqual({ applied: [] });
  });
});

/**
 * An empty database gets its migrations without the engine (db/emptyDatabase.ts). Applied by the
 * engine instead (the same migrator with that module taken out), it must end the same: the same
 * schema, and the engine's own table of applied migrations with the same rows but for ids and
 * times, so that the engine and `prisma migrate` read either as theirs.
 */
describe.each<DatabaseKind>(['sqlite', 'postgres'])('%s: an empty database migrated without the engine', (kind) => {
  type EmptyDatabase = typeof import('../../db/emptyDatabase');
  type Migrator = typeof import('../../db/migrator');
  /** A copy of the migrator whose ./emptyDatabase is `replaced`. */
  const migratorWith = (replaced: EmptyDatabase): Migrator => {
    const loaded: { migrator?: Migrator } = {};
    jest.isolateModules(() => {
      jest.doMock('../../db/emptyDatabase', () => replaced);
      loaded.migrator = jest.requireActual<Migrator>('../../db/migrator');
    });
    if (!loaded.migrator) throw new Error('the migrator did not load');
    return loaded.migrator;
  };
  const actual = jest.requireActual<EmptyDatabase>('../../db/emptyDatabase');
  /** The shortcut taken out: the engine applies everything. */
  const engineOnly = migratorWith({ applyToEmptySqlite: () => undefined, applyToEmptyPostgres: async () => undefined });
  /** The shortcut as it is, with what it applied noted. */
  const shortcutApplied: unknown[] = [];
  const watched = migratorWith({
    applyToEmptySqlite: (...args) => {
      const applied = actual.applyToEmptySqlite(...args);
      shortcutApplied.push(applied);
      return applied;
    },
    applyToEmptyPostgres: async (...args) => {
      const applied = await actual.applyToEmptyPostgres(...args);
      shortcutApplied.push(applied);
      return applied;
    },
  });
  /** Every table, column, index, constraint and type, and the applied migrations' rows without ids and times. */
  async function described(url: string): Promise<unknown> {
    const db = await openDatabase(url);
    try {
      const migrations = await db.sql.all('SELECT "checksum", "migration_name", "logs", "rolled_back_at", "applied_steps_count", "finished_at" IS NOT NULL AS "finished", "started_at" IS NOT NULL AS "started" FROM "_prisma_migrations" ORDER BY "migration_name"');
      const catalog =
        kind === 'sqlite'
          ? await db.sql.all('SELECT "type", "name", "tbl_name", "sql" FROM sqlite_master ORDER BY "name"')
          : [
              await db.sql.all('SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length, is_nullable, column_default FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position'),
              await db.sql.all('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname'),
              await db.sql.all("SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() ORDER BY c.conname"),
              await db.sql.all("SELECT t.typname, e.enumlabel, e.enumsortorder FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.typname, e.enumsortorder"),
            ];
      return { migrations, catalog };
    } finally {
      await db.close();
    }
  }

  test('ends as the engine leaves it, and the engine then finds nothing to apply', async () => {
    const [direct, byEngine] = [await freshDatabaseUrl(kind), await freshDatabaseUrl(kind)];
    try {
      expect(await watched.migrateDatabase(direct.url)).toEqual({ applied: committedMigrations(kind) });
      expect(shortcutApplied).toEqual([committedMigrations(kind)]); // the shortcut applied them, not the engine
      expect(await engineOnly.migrateDatabase(byEngine.url)).toEqual({ applied: committedMigrations(kind) });
      const [directly, engines] = [await described(direct.url), await described(byEngine.url)];
      expect((directly as { catalog: unknown[] }).catalog.length).toBeGreaterThan(0);
      expect(directly).toEqual(engines);
      expect(await migrateDatabase(direct.url)).toEqual({ applied: [] });
    } finally {
      await Promise.all([direct.drop(), byEngine.drop()]);
    }
  });
});

describe('postgres concurrency', () => {
  test('two migrators starting together apply each migration once', async () => {
    const { url, drop } = await freshDatabaseUrl('postgres');
    try {
      const results = await Promise.all([migrateDatabase(url), migrateDatabase(url)]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(committedMigrations('postgres'));
    } finally {
      await drop();
    }
  });
});

// A bot on the database's own host connects over its Unix socket (README, Configuration). Needs
// TEST_POSTGRES_URL's server to be this machine's, with its socket where Debian puts it.
const SOCKET_DIR = '/var/run/postgresql';
const localServer = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(TEST_POSTGRES_URL).hostname) && fs.existsSync(path.join(SOCKET_DIR, '.s.PGSQL.5432'));
(localServer ? describe : describe.skip)('postgres over its Unix socket', () => {
  test('migrates, then reads and writes through Prisma, plain SQL and a transaction', async () => {
    const { url: tcpUrl, drop } = await freshDatabaseUrl('postgres');
    const url = new URL(tcpUrl);
    url.hostname = 'localhost';
    url.port = '';
    url.searchParams.set('host', SOCKET_DIR);
    let socketDb: Database | undefined;
    try {
      expect((await migrateDatabase(url.toString())).applied).toEqual(committedMigrations('postgres')); // an empty database, without the engine
      expect(await migrateDatabase(url.toString())).toEqual({ applied: [] }); // the engine's check
      socketDb = await openDatabase(url.toString());
      await socketDb.prisma.borrower.create({ data: borrower('S1', '13800000009') });
      await socketDb.sql.transaction(async (tx) => tx.write('UPDATE "Borrower" SET "name" = ? WHERE "id" = ?', ['李四', 'S1']));
      // No server address: the connection is not TCP.
      expect(await socketDb.sql.all('SELECT "name", inet_server_addr() AS "address" FROM "Borrower" WHERE "id" = ?', ['S1'])).toEqual([{ name: '李四', address: null }]);
    } finally {
      await socketDb?.close();
      await drop();
    }
  });
});

describe('committed migrations', () => {
  test.each<DatabaseKind>(['sqlite', 'postgres'])('%s migrations produce exactly models.prisma', async (kind) => {
    const result = await checkMigrationsMatchSchema(kind);
    // On failure: `npm run db:create -- <name>` writes the missing migration.
    expect(result).toEqual({ ok: true });
  });
});

test('databaseKind refuses unsupported URLs', async () => {
  await expect(openDatabase('mysql://localhost/x')).rejects.toThrow(/Unsupported database URL scheme "mysql:"/);
});
