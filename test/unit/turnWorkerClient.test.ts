import path from 'node:path';
import type { InboundActivity } from '../../bot/activitySchema';
import { createLogger } from '../../bot/logger';
import { createTurnWorker, HEALTH_TIMEOUT_MS, spawnTurnThread, TURN_WORKER_RESOURCE_LIMITS, type TurnWorker } from '../../bot/turnWorkerClient';
import type { HubEvent } from '../../bot/handoffHub';

/**
 * The main thread's side of the turn worker, against a scripted worker that speaks the same
 * protocol (test/support/scriptedTurnWorker.cjs). The real worker runs in the built server:
 * test/integration/turnWorker.test.ts.
 */
const entry = path.join(__dirname, '../support/scriptedTurnWorker.cjs');
const logger = createLogger('silent');
const say = (text: string) => ({ type: 'message', text }) as unknown as InboundActivity;
/** The scripted worker's replies: the text, and the thread that answered. */
const answer = async (w: TurnWorker, text: string) => (await w.handle(say(text))) as unknown as Array<{ text: string; thread: number }>;

let worker: TurnWorker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

async function start(identityKey = 'k') {
  const published: HubEvent[] = [];
  const sent: unknown[] = [];
  let failSends = false;
  worker = createTurnWorker(entry, logger);
  await worker.start({ identityKey, clock: () => new Date() });
  worker.link({
    publish: (e) => published.push(e),
    proactive: {
      send: async (conversationId, activities) => {
        if (failSends) throw new Error('channel unreachable');
        sent.push({ conversationId, activities });
      },
    },
  });
  return { worker, published, sent, failSends: () => (failSends = true) };
}

test('a turn runs on the worker thread and its replies come back', async () => {
  const { worker } = await start();
  const replies = await answer(worker, '你好');
  expect(replies).toEqual([{ type: 'message', text: '你好', thread: expect.any(Number) }]);
  expect(replies[0]?.thread).not.toBe(0); // not the main thread
});

test('the worker thread gets the larger young generation, not the default', async () => {
  const { worker } = await start();
  const [reply] = await answer(worker, 'heap');
  expect(JSON.parse(reply!.text)).toMatchObject(TURN_WORKER_RESOURCE_LIMITS);
  expect(TURN_WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb).toBeGreaterThan(48); // Node's default
});

test("a turn's failure reaches the caller with its name and message", async () => {
  const { worker } = await start();
  await expect(worker.handle(say('fail'))).rejects.toMatchObject({ name: 'TypeError', message: 'the turn broke' });
  expect(await worker.handle(say('after'))).toMatchObject([{ text: 'after' }]);
});

test("the agents' feed and proactive delivery go through the main thread, failures included", async () => {
  const { worker, published, sent, failSends } = await start();
  await worker.handle(say('publish'));
  expect(published).toEqual([{ type: 'handoff.queued', handoffId: 'HO-1' }]);
  expect(await worker.handle(say('send'))).toMatchObject([{ text: 'send (sent)' }]);
  expect(sent).toEqual([{ conversationId: 'c1', activities: [{ type: 'message', text: 'later' }] }]);
  failSends();
  expect(await worker.handle(say('send'))).toMatchObject([{ text: 'send (channel unreachable)' }]);
});

test('a hub event is delivered as a turn', async () => {
  const { worker } = await start();
  await expect(worker.deliver('c1', { type: 'HANDOFF_RESOLVED' })).resolves.toBeUndefined();
});

test('a worker that dies fails the turns it had, and the next turn gets a new worker', async () => {
  const { worker } = await start();
  const first = await answer(worker, 'one');
  await expect(worker.handle(say('die'))).rejects.toThrow(/the turn worker stopped \(exit code 7\)/);
  const next = await answer(worker, 'two');
  expect(next[0]?.text).toBe('two');
  expect(next[0]?.thread).not.toBe(first[0]?.thread);
});

test('a thread spawned already (bot/launch.ts) takes the turns, and one that dies is replaced like any other', async () => {
  const thread = spawnTurnThread(entry);
  worker = createTurnWorker(entry, logger, thread);
  await worker.start({ identityKey: 'k', clock: () => new Date() });
  const first = await answer(worker, 'one');
  expect(first[0]?.thread).toBe(thread.threadId);
  const [reply] = await answer(worker, 'heap');
  expect(JSON.parse(reply!.text)).toMatchObject(TURN_WORKER_RESOURCE_LIMITS);
  await expect(worker.handle(say('die'))).rejects.toThrow(/exit code 7/);
  const next = await answer(worker, 'two');
  expect(next[0]?.thread).not.toBe(thread.threadId);
});

describe('health', () => {
  test('resolves when the worker answers from its connection', async () => {
    const { worker } = await start();
    await expect(worker.health()).resolves.toBeUndefined();
  });

  test("rejects with the worker's reason when its check fails", async () => {
    const { worker } = await start('sick');
    await expect(worker.health()).rejects.toMatchObject({ name: 'SqliteError', message: 'disk I/O error' });
  });

  test('rejects when the worker does not answer in time', async () => {
    const { worker } = await start('mute');
    const asked = Date.now();
    await expect(worker.health()).rejects.toThrow(`the turn worker did not answer within ${HEALTH_TIMEOUT_MS} ms`);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(HEALTH_TIMEOUT_MS - 50);
    // Its turns are still answered: health says nothing it does not know.
    expect(await answer(worker, 'still here')).toMatchObject([{ text: 'still here' }]);
  }, 10_000);

  test('after a worker died, the check starts a new one and is answered by it', async () => {
    const { worker } = await start();
    await expect(worker.handle(say('die'))).rejects.toThrow(/exit code 7/);
    await expect(worker.health()).resolves.toBeUndefined();
  });

  test('after close, it fails', async () => {
    const { worker: w } = await start();
    await w.close();
    await expect(w.health()).rejects.toThrow(/shutting down/);
  });
});

test('a worker that cannot start fails the start, with the reason', async () => {
  worker = createTurnWorker(entry, logger);
  await expect(worker.start({ identityKey: 'cannot-start', clock: () => new Date() })).rejects.toThrow(/the turn worker stopped \(exit code 1\): no database here/);
});

test('a worker closed before it started ends', async () => {
  const w = createTurnWorker(entry, logger);
  await w.close();
  await expect(w.handle(say('late'))).rejects.toThrow(/shutting down/);
});

test('after close, no turn is taken', async () => {
  const { worker: w } = await start();
  await w.close();
  await expect(w.handle(say('late'))).rejects.toThrow(/shutting down/);
});
