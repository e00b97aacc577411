import { createHmac, randomBytes } from 'node:crypto';
import { ConfigError } from '../bot/config';
import type { Db } from './client';
import { isUniqueViolation } from './writeErrors';

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
 */
export async function resolveIdentityKey(db: Db, configured: string | undefined): Promise<string> {
  const stored = await db.identityKey.findUnique({ where: { name: NAME } });
  if (!stored) {
    const key = configured ?? randomBytes(32).toString('hex');
    try {
      await db.identityKey.create({ data: { name: NAME, fingerprint: fingerprintOf(key), generated: configured ? null : key } });
      return key;
    } catch (e) {
      // Another process (a second instance, an import) stored its key first: use that one.
      if (isUniqueViolation(e)) return resolveIdentityKey(db, configured);
      throw e;
    }
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
