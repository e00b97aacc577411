import { timingSafeEqual } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterFailure, type LockoutPolicy } from '../machines/domain/lockout';
import type { IdentityCheckInput, IdentityCheckResult } from '../machines/conversationTypes';
import { identityDigest } from './identityDigest';
import { asDate, placeholders, type Sql } from './sql';

export interface IdentityCheckDeps {
  /** Read on the turn path with plain SQL (see ./sql). */
  sql: Sql;
  identitySecret: string;
  policy: LockoutPolicy;
  timeZone: string;
}

const sameDigest = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export const phoneKey = (secret: string, phone: string) => `phone:${identityDigest(secret, 'phone', phone)}`;
export const conversationKey = (conversationId: string) => `conversation:${conversationId}`;

/**
 * Checks the three details against the portfolio. Read-only: the attempt and any lock are
 * written by the turn's transaction. An unknown phone takes the same path and answer as a wrong
 * detail, so no reply reveals whether a number is on file.
 */
export async function checkIdentity(deps: IdentityCheckDeps, input: IdentityCheckInput): Promise<IdentityCheckResult> {
  const { sql, identitySecret, policy } = deps;
  const now = new Date(input.now);
  const keys = [phoneKey(identitySecret, input.phone), conversationKey(input.conversationId)];
  const localTime = (d: Date) => DateTime.fromJSDate(d, { zone: deps.timeZone }).toFormat('yyyy-MM-dd HH:mm');

  const among = `"key" IN (${placeholders(keys.length)})`;
  // Read together (one round trip on PostgreSQL). A lock still decides: the borrower is then not looked at.
  const [[lock], [borrower]] = await Promise.all([
    sql.all<{ until: unknown }>(`SELECT "until" FROM "IdentityLock" WHERE ${among} AND "until" > ? ORDER BY "until" DESC LIMIT 1`, [...keys, now]),
    sql.all<{ id: string; name: string; locale: string; idLast4Digest: string; birthDateDigest: string }>(
      'SELECT "id", "name", "locale", "idLast4Digest", "birthDateDigest" FROM "Borrower" WHERE "phone" = ?',
      [input.phone],
    ),
  ]);
  if (lock) {
    const until = asDate(lock.until);
    return { outcome: 'locked', until: until.toISOString(), untilLocal: localTime(until) };
  }

  const matches =
    borrower !== undefined &&
    sameDigest(borrower.idLast4Digest, identityDigest(identitySecret, 'idLast4', input.idLast4.toUpperCase())) &&
    sameDigest(borrower.birthDateDigest, identityDigest(identitySecret, 'birthDate', input.birthDate));
  if (matches && borrower) {
    return { outcome: 'verified', borrower: { id: borrower.id, name: borrower.name, locale: borrower.locale === 'en' ? 'en' : 'zh-CN' }, attemptKeys: keys };
  }

  const since = new Date(now.getTime() - policy.attemptWindowMinutes * 60_000);
  const rows = await sql.all<{ key: string; at: unknown; success: unknown }>(`SELECT "key", "at", "success" FROM "IdentityAttempt" WHERE ${among} AND "at" > ?`, [...keys, since]);
  // SQLite keeps a Boolean as 0/1.
  const attempts = rows.map((r) => ({ key: r.key, at: asDate(r.at), success: Boolean(r.success) }));
  const histories = keys.map((k) => ({ attempts: attempts.filter((a) => a.key === k) }));
  const { attemptsLeft, lockUntil } = afterFailure(histories, now, policy);
  return {
    outcome: 'mismatch',
    attemptsLeft,
    attemptKeys: keys,
    lockMinutes: policy.lockMinutes,
    ...(lockUntil ? { lockUntil: lockUntil.toISOString(), untilLocal: localTime(lockUntil) } : {}),
  };
}
