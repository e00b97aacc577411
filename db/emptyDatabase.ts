import { createHash, randomUUID } from 'node:crypto';
import type Sqlite from 'better-sqlite3';
import type * as Pg from 'pg';
import type { MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg' with { 'resolution-mode': 'import' };
import type { DatabaseKind } from './client';

/**
 * A database with no tables (a first start, a test's fresh database) gets its migrations without
 * the engine: each script, then the row the engine would write for it, all in one transaction.
 * It is the one case where the engine creates its table of applied migrations itself (a schema
 * with tables and without that table it refuses, asking for a baseline).
 * The engine took 0.55–0.7 s to apply this project's migrations to an empty PostgreSQL database
 * on the AMD machine, against 0.18 s for the same scripts through psql: most of a first start's
 * margin (bench/FINDINGS.md). The table and rows are the engine's own (its DDL, the SHA-256 of
 * each script, one step each; test/integration/database.test.ts compares them with the engine's),
 * so the engine and `prisma migrate` read them as theirs afterwards. Anything unusual (a missing
 * script, a lock file for another provider, a script that fails) rolls back and leaves the
 * database to the engine, which reports it as it does.
 */

const PG_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;
const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;
const RECORD_MIGRATION_SQL = 'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count") VALUES ';

/** The scripts to apply in order, or undefined when the engine should see to it. */
function scriptsFor(kind: DatabaseKind, migrations: MigrationList): Array<{ name: string; script: string }> | undefined {
  const provider = kind === 'sqlite' ? 'sqlite' : 'postgresql';
  if (!new RegExp(`^provider\\s*=\\s*"${provider}"\\s*$`, 'm').test(migrations.lockfile.content ?? '')) return undefined;
  const scripts = migrations.migrationDirectories.map((d) => (d.migrationFile.content.tag === 'ok' ? { name: d.path, script: d.migrationFile.content.value } : undefined));
  return scripts.every((x) => x !== undefined) ? (scripts as Array<{ name: string; script: string }>) : undefined;
}

/** A migration's row as the engine writes it once the script has run. */
const migrationRecord = (name: string, script: string, startedAt: Date) => ({
  id: randomUUID(),
  checksum: createHash('sha256').update(script).digest('hex'),
  name,
  startedAt,
  finishedAt: new Date(),
});

/** The names applied, or undefined (nothing changed) when the engine should see to it. */
export function applyToEmptySqlite(db: Sqlite.Database, migrations: MigrationList): string[] | undefined {
  const scripts = scriptsFor('sqlite', migrations);
  if (!scripts) return undefined;
  // As the engine writes instants on SQLite, and as Prisma reads them.
  const instant = (d: Date) => d.toISOString().replace('Z', '+00:00');
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec(SQLITE_MIGRATIONS_TABLE);
    const record = db.prepare(`${RECORD_MIGRATION_SQL}(?, ?, ?, ?, NULL, NULL, ?, 1)`);
    for (const { name, script } of scripts) {
      const startedAt = new Date();
      db.exec(script);
      const r = migrationRecord(name, script, startedAt);
      record.run(r.id, r.checksum, instant(r.finishedAt), r.name, instant(r.startedAt));
    }
    db.exec('COMMIT');
    return scripts.map((s) => s.name);
  } catch {
    if (db.inTransaction) db.exec('ROLLBACK');
    return undefined;
  }
}

/** As applyToEmptySqlite. */
export async function applyToEmptyPostgres(client: Pg.Client, migrations: MigrationList): Promise<string[] | undefined> {
  const scripts = scriptsFor('postgres', migrations);
  if (!scripts) return undefined;
  try {
    await client.query('BEGIN');
    await client.query(PG_MIGRATIONS_TABLE);
    for (const { name, script } of scripts) {
      const startedAt = new Date();
      await client.query(script); // no parameters: sent as one simple query, as the engine sends it
      const r = migrationRecord(name, script, startedAt);
      await client.query(`${RECORD_MIGRATION_SQL}($1, $2, $3, $4, NULL, NULL, $5, 1)`, [r.id, r.checksum, r.finishedAt, r.name, r.startedAt]);
    }
    await client.query('COMMIT');
    return scripts.map((s) => s.name);
  } catch {
    await client.query('ROLLBACK').catch(() => undefined);
    return undefined;
  }
}
