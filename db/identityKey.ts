import { createHmac, randomBytes } from 'node:crypto';
import { ConfigError } from '../bot/config';
import type { Sql } from './sql';

const NAME = 'identity';

/** Identifies a key without revealing it (an HMAC of a fixed text under the key). */
const fingerprintOf = (key: string) => createHmac('sha256', key).update('identity-key-fingerprint').digest('hex');

/**
 * The key of the identity digests and signed tokens for this database. IDENTITY_SECRET wins
 * when set (production keeps it in a secret store, so a copy of the database alone cannot test
 * guesses). Unset, every environment variable being optional (CONTRACT.md §1), a random key is
 * generated on first use and kept in the database, so restarts, the import command and every
 * instance agree. Either way the key must stay the one the stored digests were made with: a
 * different one is refused with a clear message rather than failing every borrower's check.
 *
 * Plain SQL (db/sql.ts), not Prisma: a start hands the key to the turn worker, which then opens
 * its own database while the main thread loads Prisma and its query compiler, instead of after
 * (issue #9: cold start).
 */
export async function resolveIdentityKey(sql: Sql, configured: string | undefined): Promise<string> {
  const [stored] = await sql.all<{ fingerprint: string; generated: string | null }>('SELECT "fingerprint", "generated" FROM "IdentityKey" WHERE "name" = ?', [NAME]);
  if (!stored) {
    const key = configured ?? randomBytes(32).toString('hex');
    const inserted = await sql.run('INSERT INTO "IdentityKey" ("name", "fingerprint", "generated", "createdAt") VALUES (?, ?, ?, ?) ON CONFLICT ("name") DO NOTHING', [
      NAME,
      fingerprintOf(key),
      configured ? null : key,
      new Date(),
    ]);
    // Nothing stored: another process (a second instance, an import) stored its key first; use that one.
    return inserted === 1 ? key : resolveIdentityKey(sql, configured);
  }
  if (configured !== undefined) {
    if (fingerprintOf(configured) !== stored.fingerprint) {
      throw new ConfigError(
        'IDENTITY_SECRET: not the key this database\'s identity digests were made with; restore the original value' +
          (stored.generated ? ' (the database holds a generated key: unset IDENTITY_SECRET to use it)' : ''),
      );
    }
    return configured;
  }
  if (stored.generated) return stored.generated;
  throw new ConfigError('IDENTITY_SECRET: must be set; this database\'s identity digests were made with a key from the environment');
}
