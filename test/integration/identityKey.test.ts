/**
 * The identity key (db/identityKey.ts) on both databases: generated once and kept when
 * IDENTITY_SECRET is unset, the configured one used and remembered by fingerprint, and a key
 * other than the one the digests were made with refused with a message naming the variable.
 */
import { ConfigError } from '../../bot/config';
import { openDatabase, type Database, type DatabaseKind } from '../../db/client';
import { resolveIdentityKey } from '../../db/identityKey';
import { migrateDatabase } from '../../db/migrator';
import { freshDatabaseUrl } from '../support/databases';

const CONFIGURED = 'k'.repeat(40);

describe.each<DatabaseKind>(['sqlite', 'postgres'])('%s', (kind) => {
  const opened: Array<{ db: Database; drop: () => Promise<void> }> = [];
  async function fresh(): Promise<Database> {
    const { url, drop } = await freshDatabaseUrl(kind);
    await migrateDatabase(url);
    const db = await openDatabase(url);
    opened.push({ db, drop });
    return db;
  }
  afterAll(async () => {
    for (const { db, drop } of opened) {
      await db.close();
      await drop();
    }
  });

  test('unset: one random key is generated, stored and returned to every caller, even racing ones', async () => {
    const db = await fresh();
    const keys = await Promise.all([1, 2, 3, 4].map(() => resolveIdentityKey(db.sql, undefined)));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(await resolveIdentityKey(db.sql, undefined)).toBe(keys[0]);
    // The generated key may also be given explicitly (e.g. moved into a secret store).
    expect(await resolveIdentityKey(db.sql, keys[0])).toBe(keys[0]);
    await expect(resolveIdentityKey(db.sql, CONFIGURED)).rejects.toThrow(/IDENTITY_SECRET: not the key .*unset IDENTITY_SECRET/);
  });

  test('configured: used as is, only its fingerprint stored; a different or missing key is refused', async () => {
    const db = await fresh();
    expect(await resolveIdentityKey(db.sql, CONFIGURED)).toBe(CONFIGURED);
    const row = await db.prisma.identityKey.findUniqueOrThrow({ where: { name: 'identity' } });
    expect(row.generated).toBeNull();
    expect(row.fingerprint).not.toContain(CONFIGURED);
    expect(await resolveIdentityKey(db.sql, CONFIGURED)).toBe(CONFIGURED);
    const other = resolveIdentityKey(db.sql, 'z'.repeat(40));
    await expect(other).rejects.toBeInstanceOf(ConfigError);
    await expect(resolveIdentityKey(db.sql, 'z'.repeat(40))).rejects.toThrow(/IDENTITY_SECRET: not the key this database's identity digests were made with/);
    await expect(resolveIdentityKey(db.sql, undefined)).rejects.toThrow(/IDENTITY_SECRET: must be set/);
  });
});
