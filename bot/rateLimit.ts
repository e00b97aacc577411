import type { Request, Response } from 'restify';

/**
 * Token buckets, one per key ("conversation:…", "address:…"): each holds up to `perMinute`
 * requests and refills at `perMinute` a minute, so a burst of that many is allowed and then one
 * every 60/perMinute seconds. In-process: behind a load balancer each instance counts on its own,
 * so the effective limit is the number of instances times this (docs/operations.md).
 */
export interface RateLimiter {
  /** Takes one request for `key`: undefined when allowed, else the seconds until it would be. */
  take(key: string): number | undefined;
  readonly size: number;
}

/** Keys kept at most; beyond it the least recently used go (a full bucket is the same as none). */
export const MAX_KEYS = 20_000;

export function createRateLimiter(perMinute: number, options: { now?: () => number; maxKeys?: number } = {}): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const maxKeys = options.maxKeys ?? MAX_KEYS;
  const perMs = perMinute / 60_000;
  // Map order is insertion order: re-inserting on use keeps the least recently used first.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    get size() {
      return buckets.size;
    },
    take(key) {
      if (perMinute <= 0) return undefined;
      const t = now();
      const bucket = buckets.get(key);
      const tokens = bucket ? Math.min(perMinute, bucket.tokens + (t - bucket.at) * perMs) : perMinute;
      buckets.delete(key);
      if (tokens < 1) {
        buckets.set(key, { tokens, at: t });
        return Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
      }
      buckets.set(key, { tokens: tokens - 1, at: t });
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      return undefined;
    },
  };
}

/**
 * The client's address: the TCP peer, or with `trustedHops` proxies in front (each appending
 * the address it received from to X-Forwarded-For), the entry those proxies vouch for. Entries
 * further left are the client's own claim and are ignored.
 */
export function clientAddress(req: Request, trustedHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  return chain[Math.max(0, chain.length - 1 - trustedHops)] ?? peer;
}

/** Takes one request from each limiter in turn; answers 429 with Retry-After and returns false when one is empty. */
export function withinLimits(res: Response, checks: ReadonlyArray<readonly [RateLimiter, string]>): boolean {
  for (const [limiter, key] of checks) {
    const retryAfter = limiter.take(key);
    if (retryAfter === undefined) continue;
    res.sendRaw(429, JSON.stringify({ error: 'too_many_requests', message: `too many requests; try again in ${retryAfter} s`, retryAfterSeconds: retryAfter }), {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Retry-After': String(retryAfter),
    });
    return false;
  }
  return true;
}
