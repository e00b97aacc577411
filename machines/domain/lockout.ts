/**
 * Identity lockout (CONTRACT.md §4): failures are counted per key (a phone number, a
 * conversation) within a window; reaching the maximum locks every key of the attempt.
 */
export interface LockoutPolicy {
  maxFailedAttempts: number;
  attemptWindowMinutes: number;
  lockMinutes: number;
}

export interface AttemptHistory {
  /** Times of earlier attempts under one key, any order. */
  attempts: ReadonlyArray<{ at: Date; success: boolean }>;
}

/** Failures that still count under a key at `now`: inside the window and after the last success. */
export function countingFailures(history: AttemptHistory, now: Date, policy: LockoutPolicy): number {
  const since = now.getTime() - policy.attemptWindowMinutes * 60_000;
  const recent = history.attempts.filter((a) => a.at.getTime() > since && a.at.getTime() <= now.getTime());
  const lastSuccess = Math.max(-Infinity, ...recent.filter((a) => a.success).map((a) => a.at.getTime()));
  return recent.filter((a) => !a.success && a.at.getTime() > lastSuccess).length;
}

/** The outcome of one more failure now, given each key's history. */
export function afterFailure(histories: readonly AttemptHistory[], now: Date, policy: LockoutPolicy): { attemptsLeft: number; lockUntil?: Date } {
  const worst = Math.max(0, ...histories.map((h) => countingFailures(h, now, policy))) + 1;
  const attemptsLeft = Math.max(0, policy.maxFailedAttempts - worst);
  return attemptsLeft === 0 ? { attemptsLeft, lockUntil: new Date(now.getTime() + policy.lockMinutes * 60_000) } : { attemptsLeft };
}
