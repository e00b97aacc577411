import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabaseUrl } from '../support/databases';
import { ensureBuilt, startServerProcess } from '../support/serverProcess';
import { messageActivity, post } from '../support/talk';

/**
 * `npm start` runs turns on a worker thread (bot/turnWorker.ts) and HTTP on the main thread;
 * TURN_WORKER=false keeps them in the main thread. Both answer the same, in both languages; the
 * turn log says which thread ran each turn.
 */
const kind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';

beforeAll(() => ensureBuilt(), 180_000);

async function conversationsOn(env: Record<string, string>) {
  const db = await freshDatabaseUrl(kind);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turn-worker-'));
  const logFile = path.join(dir, 'bot.log');
  const server = await startServerProcess({ databaseUrl: db.url, logFile, env: { LOG_LEVEL: 'info', ...env } });
  try {
    const talk = (conversation: string, text: string, extra: Record<string, unknown> = {}) => post(server.url, messageActivity(conversation, text, extra));
    await talk('w-zh', '你好');
    const verified = await talk('w-zh', '138 0013 8001 1234 1990-01-01');
    const owed = await talk('w-zh', '我欠多少钱');
    const english = await talk('w-en', 'Hello, how much do I owe?', { locale: 'en-US' });
    // With the worker, /healthz also asks it to answer from its own database connection.
    const health = (await fetch(`${server.url}/healthz`)).status;
    await server.kill('SIGTERM');
    const turns = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; thread?: string })
      .filter((l) => l.msg === 'turn');
    return { verified: verified.text, owed: owed.text, english: english.text, health, threads: turns.map((t) => t.thread ?? 'main') };
  } finally {
    await server.kill();
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('turns run on the worker thread by default, and in the main thread with TURN_WORKER=false, with the same answers', async () => {
  const onWorker = await conversationsOn({});
  const inline = await conversationsOn({ TURN_WORKER: 'false' });
  expect(onWorker.verified).toContain('张伟');
  expect(onWorker.owed).toMatch(/¥|元/);
  expect(onWorker.english).toMatch(/verify|identity|phone/i);
  expect(onWorker.health).toBe(200);
  expect(onWorker.threads).toEqual(['turns', 'turns', 'turns', 'turns']);
  expect(inline.threads).toEqual(['main', 'main', 'main', 'main']);
  expect({ ...inline, threads: undefined }).toEqual({ ...onWorker, threads: undefined });
}, 120_000);
