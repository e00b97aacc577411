import { openDatabase, type Database } from '../../db/client';
import { RETENTION_ACTION } from '../../db/retention';
import { freshDatabaseUrl } from '../support/databases';
import { ensureBuilt, startServerProcess, type ServerProcess } from '../support/serverProcess';
import { messageActivity, post, type TurnResult } from '../support/talk';

/**
 * Two real server processes on one database (PostgreSQL under `npm run test:pg`, one SQLite file
 * otherwise), as behind a load balancer without sticky sessions: turns of one conversation that
 * arrive at both at once are applied one after the other, each on the other's result.
 */
const kind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const TURNS_EACH = 20;
const SORRY = /系统暂时出了点问题|something went wrong/;

let db: { url: string; drop(): Promise<void> };
let a: ServerProcess;
let b: ServerProcess;
let database: Database;

beforeAll(async () => {
  await ensureBuilt();
  db = await freshDatabaseUrl(kind);
  // Started together: their migrations on the empty database take turns under the migration lock.
  [a, b] = await Promise.all([
    startServerProcess({ databaseUrl: db.url, env: { SEED_DEMO: 'true' } }),
    startServerProcess({ databaseUrl: db.url, env: { SEED_DEMO: 'false' } }),
  ]);
  database = await openDatabase(db.url);
}, 120_000);

afterAll(async () => {
  await database?.close();
  await Promise.all([a?.kill(), b?.kill()]);
  await db?.drop();
});

interface Sent {
  id: string;
  result: TurnResult;
}

async function turn(server: ServerProcess, conversation: string, text: string, n: number): Promise<Sent> {
  const activity = messageActivity(conversation, text, { id: `${conversation}-${n}` });
  return { id: activity.id, result: await post(server.url, activity) };
}

test('40 concurrent turns on one conversation, 20 through each instance: every one applied once, in order, answered once', async () => {
  const conversation = 'hammer';
  const texts = ['你好', '在吗', '我想了解一下', '谢谢', '好的'];
  const sent = await Promise.all(
    Array.from({ length: 2 * TURNS_EACH }, (_, n) => turn(n % 2 ? b : a, conversation, texts[n % texts.length]!, n)),
  );

  for (const { id, result } of sent) {
    expect(result.status).toBe(200);
    expect(result.replies.length).toBeGreaterThan(0);
    expect(result.text).not.toMatch(SORRY);
    // Each answer holds the replies to its own activity, and only those.
    for (const reply of result.replies) expect(reply.replyToId).toBe(id);
  }

  const id = `test:${conversation}`;
  const rows = await database.prisma.message.findMany({ where: { conversationId: id }, orderBy: { id: 'asc' } });
  const inbound = rows.filter((r) => r.direction === 'in');
  // Every inbound message exactly once.
  expect(inbound.map((r) => r.activityId).sort()).toEqual(sent.map((s) => s.id).sort());
  // Turns never interleave: each inbound message is followed by its own replies, as many as were sent back.
  let current: string | null = null;
  const repliesPer = new Map<string, number>();
  for (const row of rows) {
    if (row.direction === 'in') {
      current = row.activityId;
      continue;
    }
    const replyTo = (JSON.parse(row.activity) as { replyToId?: string }).replyToId;
    expect(replyTo).toBe(current);
    repliesPer.set(replyTo!, (repliesPer.get(replyTo!) ?? 0) + 1);
  }
  for (const { id: activityId, result } of sent) expect(repliesPer.get(activityId)).toBe(result.replies.filter((r) => r.type === 'message').length);
  // One version per turn: no turn was written over another.
  const stored = await database.prisma.conversation.findUniqueOrThrow({ where: { id } });
  expect(stored.version).toBe(sent.length);
});

test('a conversation alternating between the instances carries on from each turn: verified in three parts, a plan agreed', async () => {
  const c = 'alternate';
  let n = 0;
  const via = async (server: ServerProcess, text: string) => (await turn(server, c, text, n++)).result;
  await via(a, '你好');
  await via(b, '13800138001');
  await via(a, '1234');
  expect((await via(b, '1990-01-01')).text).toContain('张伟');
  expect((await via(a, '分3期')).text).toContain('确认');
  const confirmed = await via(b, '确认');
  const reference = /AG-[A-Z0-9]{8}/.exec(confirmed.text)?.[0];
  expect(reference).toBeDefined();
  expect(await database.prisma.agreement.count({ where: { id: reference!, conversationId: `test:${c}` } })).toBe(1);
});

test('the demo portfolio was seeded once, and the retention run at start ran on one instance only', async () => {
  expect(await database.prisma.borrower.count()).toBe(10);
  expect(await database.prisma.auditLog.count({ where: { action: RETENTION_ACTION } })).toBe(1);
});
