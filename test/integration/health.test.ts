import path from 'node:path';
import { startTestBot, type TestBot } from '../support/botServer';

/**
 * GET /healthz, what a load balancer or orchestrator asks: 200 only when the main thread's
 * database connection and the turn worker's (bot/turnWorker.ts) both answer. Here the worker is
 * the scripted one (test/support/scriptedTurnWorker.cjs), whose identity key says how it behaves;
 * the real worker answers it in every test that starts the built server (test/support/serverProcess.ts
 * waits for /healthz), and test/integration/turnWorker.test.ts asks it directly.
 */
const scripted = path.join(__dirname, '../support/scriptedTurnWorker.cjs');

let bot: TestBot | undefined;
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

const health = async (b: TestBot) => {
  const res = await fetch(`${b.url}/healthz`);
  return { status: res.status, body: (await res.json()) as unknown };
};

test('200 when the database and the turn worker answer', async () => {
  bot = await startTestBot({ turnWorker: scripted });
  expect(await health(bot)).toEqual({ status: 200, body: { status: 'ok' } });
});

test("503 when the turn worker's own database check fails, without its details", async () => {
  bot = await startTestBot({ turnWorker: scripted, env: { IDENTITY_SECRET: 'sick' } });
  const { status, body } = await health(bot);
  expect({ status, body }).toEqual({ status: 503, body: { status: 'unavailable', reason: 'turn worker unavailable' } });
  expect(JSON.stringify(body)).not.toContain('disk I/O');
});

test('503 when the turn worker does not answer in time', async () => {
  bot = await startTestBot({ turnWorker: scripted, env: { IDENTITY_SECRET: 'mute' } });
  expect(await health(bot)).toEqual({ status: 503, body: { status: 'unavailable', reason: 'turn worker unavailable' } });
}, 15_000);

test('200 with turns in the main thread (no worker to ask)', async () => {
  bot = await startTestBot();
  expect(await health(bot)).toEqual({ status: 200, body: { status: 'ok' } });
});
