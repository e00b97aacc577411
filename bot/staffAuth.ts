import { createHmac, timingSafeEqual } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { Request, Response } from 'restify';
import { z } from 'zod';
import type { Db } from '../db/client';

/**
 * Staff accounts (agent console, studio): argon2id password hashes, HMAC-signed expiring bearer
 * tokens, and the role check the Agent API routes run first.
 */
export const STAFF_ROLES = ['agent', 'supervisor', 'staff'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
export interface StaffIdentity {
  username: string;
  role: StaffRole;
}

export const DEFAULT_TOKEN_TTL_MINUTES = 8 * 60;

/** What `npm run agent:create` and the tests accept for a new or updated account. */
export const staffAccountInput = z.object({
  username: z
    .string()
    .min(3, 'username must be 3–64 characters')
    .max(64, 'username must be 3–64 characters')
    .regex(/^[A-Za-z0-9_.-]+$/, 'username may contain only letters, digits, "_", "." and "-"'),
  password: z.string().min(8, 'password must be at least 8 characters').max(1024, 'password must be at most 1024 characters'),
  role: z.enum(STAFF_ROLES, { error: `role must be one of ${STAFF_ROLES.join(', ')}` }).default('agent'),
});
export type StaffAccountInput = z.input<typeof staffAccountInput>;

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 40 ms a hash on this machine. */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

interface TokenClaims {
  sub: string;
  role: StaffRole;
  /** Seconds since the epoch. */
  exp: number;
}

const isRole = (r: unknown): r is StaffRole => typeof r === 'string' && (STAFF_ROLES as readonly string[]).includes(r);

/** Supervisors may do anything agents may. */
export function hasRole(identity: StaffIdentity, roles: readonly StaffRole[]): boolean {
  return roles.includes(identity.role) || (identity.role === 'supervisor' && roles.includes('agent'));
}

function sendJson(res: Response, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.sendRaw(status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
}

export function createStaffAuth(deps: { db: Db; secret: string; clock: () => Date; tokenTtlMinutes?: number }) {
  const { db, clock } = deps;
  if (!deps.secret) throw new Error('createStaffAuth: secret must not be empty');
  const ttlMinutes = deps.tokenTtlMinutes ?? DEFAULT_TOKEN_TTL_MINUTES;
  // A sub-key of its own: the same secret also keys identity digests and Direct Line tokens, and
  // none of those values must ever verify as a staff token (or the other way round).
  const key = createHmac('sha256', deps.secret).update('staff-token:v1').digest();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();

  const hashPassword = (password: string) => hash(password, ARGON2);
  const verifyPassword = async (passwordHash: string, password: string): Promise<boolean> => {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // not an argon2 hash at all: no password matches it
    }
  };
  // Unknown usernames still cost one verification, so response times do not reveal which exist.
  let dummyHash: Promise<string> | undefined;

  const sign = (claims: TokenClaims) => {
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${payload}.${mac(payload).toString('base64url')}`;
  };

  const verifyToken = (token: string): StaffIdentity | null => {
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) return null;
    const given = Buffer.from(signature, 'base64url');
    const expected = mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: Partial<TokenClaims>;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<TokenClaims>;
    } catch {
      return null;
    }
    if (typeof claims.sub !== 'string' || !isRole(claims.role) || typeof claims.exp !== 'number') return null;
    if (claims.exp * 1000 <= clock().getTime()) return null;
    return { username: claims.sub, role: claims.role };
  };

  return {
    hashPassword,
    verifyPassword,
    verifyToken,

    /** Creates the account or replaces its password and role. */
    async saveAccount(input: StaffAccountInput): Promise<{ created: boolean; identity: StaffIdentity }> {
      const { username, password, role } = staffAccountInput.parse(input);
      const passwordHash = await hashPassword(password);
      const existing = await db.staffAccount.findUnique({ where: { username }, select: { username: true } });
      await db.staffAccount.upsert({ where: { username }, create: { username, passwordHash, role }, update: { passwordHash, role } });
      return { created: !existing, identity: { username, role } };
    },

    async login(username: string, password: string): Promise<{ token: string; identity: StaffIdentity; expiresAt: string } | null> {
      const account = await db.staffAccount.findUnique({ where: { username } });
      if (!account || account.disabled || !isRole(account.role)) {
        await verifyPassword(await (dummyHash ??= hashPassword('not-a-real-password')), password);
        return null;
      }
      if (!(await verifyPassword(account.passwordHash, password))) return null;
      const exp = Math.floor(clock().getTime() / 1000) + ttlMinutes * 60;
      const identity = { username: account.username, role: account.role };
      return { token: sign({ sub: identity.username, role: identity.role, exp }), identity, expiresAt: new Date(exp * 1000).toISOString() };
    },

    /**
     * For route handlers: the caller if the Bearer token is valid and has one of the roles;
     * otherwise answers 401/403 (JSON) and returns undefined. The account is read again, so a
     * disabled account or a changed role takes effect at once, not when its tokens expire.
     * `allowQueryToken` also takes `?token=` (EventSource cannot send headers); only for the
     * event stream, since URLs end up in logs and histories.
     */
    async authorize(req: Request, res: Response, roles: StaffRole[], options: { allowQueryToken?: boolean } = {}): Promise<StaffIdentity | undefined> {
      const header = req.headers.authorization;
      const fromHeader = header === undefined ? undefined : (/^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? '');
      const fromQuery = options.allowQueryToken ? new URL(req.url ?? '/', 'http://local').searchParams.get('token') ?? undefined : undefined;
      const token = fromHeader ?? fromQuery;
      const unauthorized = (message: string) => {
        sendJson(res, 401, { error: 'unauthorized', message }, { 'WWW-Authenticate': 'Bearer' });
        return undefined;
      };
      if (token === undefined) return unauthorized('missing Authorization: Bearer <token>');
      const claimed = verifyToken(token);
      if (!claimed) return unauthorized('the token is invalid or expired; log in again');
      const account = await db.staffAccount.findUnique({ where: { username: claimed.username } });
      if (!account || account.disabled || !isRole(account.role)) return unauthorized('the account no longer exists or is disabled');
      const identity: StaffIdentity = { username: account.username, role: account.role };
      if (!hasRole(identity, roles)) {
        sendJson(res, 403, { error: 'forbidden', message: `this needs the role ${roles.join(' or ')}` });
        return undefined;
      }
      return identity;
    },
  };
}

export type StaffAuth = ReturnType<typeof createStaffAuth>;
