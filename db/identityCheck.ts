import { timingSafeEqual } from 'node:crypto';
import { DateTime } from 'luxon';
import { afterFailure, type LockoutPolicy } from '../machines/domain/lockout';
import type { IdentityCheckInput, IdentityCheckResult } from '../machines/conversationTypes';
import type { Db } from './client';
import { identityDigest } from './identityDigest';

export interface IdentityCheckDeps {
  db: Db;
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
  const { db, identitySecret, policy } = deps;
  const now = new Date(input.now);
  const keys = [phoneKey(identitySecret, input.phone), conversationKey(input.conversationId)];
  const localTime = (d: Date) => DateTime.fromJSDate(d, { zone: deps.timeZone }).toFormat('yyyy-MM-dd HH:mm');

  const lock = await db.identityLock.findFirst({ where: { key: { in: keys }, until: { gt: now } }, orderBy: { until: 'desc' } });
  if (lock) return { outcome: 'locked', until: lock.until.toISOString(), untilLocal: localTime(lock.until) };

  const borrower = await db.borrower.findUnique({ where: { phone: input.phone } });
  const matches =
    borrower !== null &&
    sameDigest(borrower.idLast4Digest, identityDigest(identitySecret, 'idLast4', input.idLast4.toUpperCase())) &&
    sameDigest(borrower.birthDateDigest, identityDigest(identitySecret, 'birthDate', input.birthDate));
  if (matches && borrower) {
    return { outcome: 'verified', borrower: { id: borrower.id, name: borrower.name, locale: borrower.locale === 'en' ? 'en' : 'zh-CN' }, attemptKeys: keys };
  }

  const since = new Date(now.getTime() - policy.attemptWindowMinutes * 60_000);
  const attempts = await db.identityAttempt.findMany({ where: { key: { in: keys }, at: { gt: since } }, select: { key: true, at: true, success: true } });
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
