/**
 * Throwaway databases for integration tests: `const db = await freshDatabaseUrl('postgres')`,
 * then `await db.drop()` in afterAll. SQLite: a file in a new temp directory (not created: the
 * migrator/openDatabase create it). PostgreSQL: a new, uniquely named, empty database on the
 * server of TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseKind } from '../../db/client';
import { uniqueDatabaseName } from '../../db/migrator';

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export async function freshDatabaseUrl(kind: DatabaseKind): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bot-test-'));
    return {
      url: `file:${path.join(dir, 'bot.db')}`,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = uniqueDatabaseName('test');
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE: a test that forgot close() must not make the drop fail.
    drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
