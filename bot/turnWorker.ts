import { parentPort } from 'node:worker_threads';
import pino from 'pino';
import { parseDialogs, readDialogFiles } from '../dialogs/loadDialogs';
import { openDatabase, type Database } from '../db/client';
import { createPassBatch } from '../db/passBatch';
import { createRecognizerCache } from './dialogsRuntime';
import { createTurnSide, type TurnSide } from './turnSide';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { createCalls, fromWire, toWire, type FromWorker, type ToWorker, type TurnWorkerInit } from './turnWorkerClient';

/**
 * The turn worker's side: its own database connection and turn pipeline, built like the main
 * thread's (createTurnSide), answering the main thread's turns. The environment is the same
 * process's, so the configuration is parsed from it again; the identity key and the clock come
 * with the 'start' message, once the main thread has migrated the database. Until then the
 * thread has loaded its code, checked the dialogs and made their recogniser (the intent model),
 * in parallel with the main thread's start.
 */
export async function runTurnWorker(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('runTurnWorker runs on a worker thread');
  const post = (m: FromWorker) => port.postMessage(m);
  const config = loadConfig();
  // Written synchronously: pino flushes its buffered writes at exit on the main thread only, so a
  // line still on its way when this thread ends (a crash, or the exit after 'close') was lost.
  const logger = createLogger(config.logLevel, pino.destination({ dest: 1, sync: true })).child({ thread: 'turns' });

  let database: Database | undefined;
  let turns: TurnSide | undefined;
  const inFlight = new Set<Promise<unknown>>();
  const sends = createCalls<void>();
  let onStart!: (init: TurnWorkerInit) => void;
  const started = new Promise<TurnWorkerInit>((resolve) => (onStart = resolve));

  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'start':
        onStart(m.init);
        return;
      case 'sent':
        sends.settle(m.id, m.error ? { error: fromWire(m.error) } : { value: undefined });
        return;
      case 'health':
        // Its own connection, which a turn depends on (the main thread checks its own). Asked, like turns, only after 'ready'.
        void (database as Database).sql.all('SELECT 1').then(
          () => post({ type: 'healthy', id: m.id }),
          (e: unknown) => post({ type: 'unhealthy', id: m.id, error: toWire(e) }),
        );
        return;
      case 'close':
        arrived.flush(); // turns that arrived in this pass finish too
        void Promise.allSettled([...inFlight])
          .then(() => database?.close())
          .catch((err: unknown) => logger.error({ err }, 'turn worker: closing the database failed'))
          .finally(() => process.exit(0)); // ends this thread only
        return;
      case 'handle':
      case 'deliver':
        arrived.add(m);
        return;
    }
  });

  /**
   * The turns that arrive in one pass of the event loop start together once the pass has read
   * all its messages, so that each stage of a turn runs for all of them in turn. Started one by
   * one (each message's turn ran up to its commit before the next message was read), a turn cost
   * this thread about 30% more CPU: every function slower, none new in the profile, as when code
   * no longer stays in the processor's caches (bench/FINDINGS.md).
   */
  const arrived = createPassBatch<Extract<ToWorker, { type: 'handle' | 'deliver' }>>((batch) => {
    // The main thread sends turns only after 'ready'.
    const pipeline = (turns as TurnSide).pipeline;
    for (const m of batch) {
      const work = m.type === 'handle' ? pipeline.handle(m.activity) : pipeline.deliver(m.conversationId, m.event).then(() => []);
      inFlight.add(work);
      work.then(
        (replies) => post({ type: 'done', id: m.id, replies }),
        (e: unknown) => post({ type: 'failed', id: m.id, error: toWire(e) }),
      ).finally(() => inFlight.delete(work));
    }
  });

  const shipped = readDialogFiles();
  const shippedDialogs = parseDialogs(shipped);
  // Made before 'start', while the main thread migrates: after it, turns.warm() finds it.
  const recognizers = createRecognizerCache();
  recognizers(shippedDialogs);
  const { identityKey, clockOffsetMs } = await started;
  database = await openDatabase(config.databaseUrl);
  turns = createTurnSide({ database, config, identityKey, logger, clock: () => new Date(Date.now() + clockOffsetMs), shipped, shippedDialogs, recognizers });
  await turns.warm();
  // Proactive delivery and the agents' live feed stay in the main thread (they hold the adapter and the feed's clients).
  turns.pipeline.link({
    publish: (event) => post({ type: 'publish', event }),
    proactive: {
      send: (conversationId, activities, options) => {
        const { id, answer } = sends.open();
        post({ type: 'send', id, conversationId, activities, ...(options ? { options } : {}) });
        return answer;
      },
    },
  });
  post({ type: 'ready' });
}

// The thread's script: `dist/bot/turnWorker.js`, or, from the bundle, bot/launchTurns.ts.
if (require.main === module) void runTurnWorker();
