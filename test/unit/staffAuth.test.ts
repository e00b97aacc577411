import type { Db } from '../../db/client';
import { createStaffAuth, hasRole, staffAccountInput } from '../../bot/staffAuth';

/** Passwords, tokens and roles without a database: accounts live in a map standing in for StaffAccount. */
const accounts = new Map<string, { username: string; passwordHash: string; role: string; disabled: boolean }>();
const db = { staffAccount: { findUnique: async ({ where }: { where: { username: string } }) => accounts.get(where.username) ?? null } } as unknown as Db;

let nowMs = Date.parse('2026-11-22T02:00:00Z');
const clock = () => new Date(nowMs);
const auth = createStaffAuth({ db, secret: 'unit-test-secret', clock, tokenTtlMinutes: 60 });

beforeAll(async () => {
  accounts.set('alice', { username: 'alice', passwordHash: await auth.hashPassword('correct horse'), role: 'agent', disabled: false });
  accounts.set('gone', { username: 'gone', passwordHash: await auth.hashPassword('correct horse'), role: 'agent', disabled: true });
});

describe('passwords', () => {
  test('argon2id with a memory-hard setting and a salt of its own each time', async () => {
    const a = await auth.hashPassword('correct horse');
    const b = await auth.hashPassword('correct horse');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(await auth.verifyPassword(a, 'correct horse')).toBe(true);
    expect(await auth.verifyPassword(a, 'correct horse ')).toBe(false);
    expect(await auth.verifyPassword('not a hash', 'correct horse')).toBe(false);
  });
});

describe('tokens', () => {
  test('login gives a token that verifies to the account until it expires', async () => {
    const session = await auth.login('alice', 'correct horse');
    expect(session).not.toBeNull();
    expect(session!.identity).toEqual({ username: 'alice', role: 'agent' });
    expect(session!.expiresAt).toBe(new Date(nowMs + 60 * 60_000).toISOString());
    expect(auth.verifyToken(session!.token)).toEqual({ username: 'alice', role: 'agent' });
    nowMs += 59 * 60_000;
    expect(auth.verifyToken(session!.token)).not.toBeNull();
    nowMs += 60_000;
    expect(auth.verifyToken(session!.token)).toBeNull();
  });

  test('wrong password, unknown or disabled account: no token', async () => {
    expect(await auth.login('alice', 'wrong horse')).toBeNull();
    expect(await auth.login('nobody', 'correct horse')).toBeNull();
    expect(await auth.login('gone', 'correct horse')).toBeNull();
  });

  test('a tampered token, or one signed with another secret, does not verify', async () => {
    const { token } = (await auth.login('alice', 'correct horse'))!;
    const [payload, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'supervisor' })).toString('base64url');
    const flipped = mac.slice(0, -2) + (mac.endsWith('AA') ? 'BB' : 'AA');
    for (const bad of [`${promoted}.${mac}`, `${payload}.${flipped}`, `${payload}.`, `${payload}.${mac}.x`, payload, '', '..']) {
      expect(auth.verifyToken(bad)).toBeNull();
    }
    const other = createStaffAuth({ db, secret: 'another-secret', clock });
    expect(other.verifyToken(token)).toBeNull();
  });
});

test('supervisors may do what agents may; staff accounts may not', () => {
  expect(hasRole({ username: 's', role: 'supervisor' }, ['agent'])).toBe(true);
  expect(hasRole({ username: 'a', role: 'agent' }, ['supervisor'])).toBe(false);
  expect(hasRole({ username: 't', role: 'staff' }, ['agent'])).toBe(false);
  expect(hasRole({ username: 't', role: 'staff' }, ['staff'])).toBe(true);
});

test('account input: username 3–64 of [A-Za-z0-9_.-], password at least 8, role agent by default', () => {
  expect(staffAccountInput.parse({ username: 'li.na_2-x', password: '12345678' })).toEqual({ username: 'li.na_2-x', password: '12345678', role: 'agent' });
  for (const bad of [
    { username: 'ab', password: '12345678' },
    { username: 'a'.repeat(65), password: '12345678' },
    { username: 'li na', password: '12345678' },
    { username: '张三丰', password: '12345678' },
    { username: 'alice', password: '1234567' },
    { username: 'alice', password: '12345678', role: 'admin' },
  ]) {
    expect(staffAccountInput.safeParse(bad).success).toBe(false);
  }
});
