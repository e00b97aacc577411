import { parentPort, workerData } from 'node:worker_threads';
import { parseDialogs, readDialogFiles } from '../dialogs/loadDialogs';
import { openDatabase } from '../db/client';
import { createTurnSide } from './app';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { toWire, fromWire, type FromWorker, type ToWorker, type TurnWorkerData } from './turnWorkerClient';

/** Whether this thread was started as the turn worker (bot/turnWorkerClient.ts). */
export const isTurnWorker = (): boolean => parentPort !== null && (workerData as { turnWorker?: unknown } | null)?.turnWorker !== undefined;

/**
 * The turn worker's side: its own database connection and turn pipeline, built like the main
 * thread's (createTurnSide), answering the main thread's turns. The environment is the same
 * process's, so the configuration is parsed from it again; the identity key and the clock come
 * from the main thread.
 */
export async function runTurnWorker(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('runTurnWorker runs on a worker thread');
  const { identityKey, clockOffsetMs } = (workerData as { turnWorker: TurnWorkerData }).turnWorker;
  const post = (m: FromWorker) => port.postMessage(m);
  const config = loadConfig();
  const logger = createLogger(config.logLevel).child({ thread: 'turns' });
  const database = await openDatabase(config.databaseUrl);
  const shipped = readDialogFiles();
  const turns = createTurnSide({ database, config, identityKey, logger, clock: () => new Date(Date.now() + clockOffsetMs), shipped, shippedDialogs: parseDialogs(shipped) });
  await turns.dialogsSource.current();

  // Proactive delivery and the agents' live feed stay in the main thread (they hold the adapter and the feed's clients).
  const sends = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextSend = 1;
  turns.pipeline.link({
    publish: (event) => post({ type: 'publish', event }),
    proactive: {
      send: (conversationId, activities, options) =>
        new Promise<void>((resolve, reject) => {
          const id = nextSend++;
          sends.set(id, { resolve, reject });
          post({ type: 'send', id, conversationId, activities, ...(options ? { options } : {}) });
        }),
    },
  });

  const inFlight = new Set<Promise<unknown>>();
  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'sent': {
        const s = sends.get(m.id);
        sends.delete(m.id);
        if (m.error) s?.reject(fromWire(m.error));
        else s?.resolve();
        return;
      }
      case 'close':
        void Promise.allSettled([...inFlight])
          .then(() => database.close())
          .catch((err: unknown) => logger.error({ err }, 'turn worker: closing the database failed'))
          .finally(() => process.exit(0)); // ends this thread only
        return;
      case 'handle':
      case 'deliver': {
        const work = m.type === 'handle' ? turns.pipeline.handle(m.activity) : turns.pipeline.deliver(m.conversationId, m.event).then(() => []);
        inFlight.add(work);
        work.then(
          (replies) => post({ type: 'done', id: m.id, replies }),
          (e: unknown) => post({ type: 'failed', id: m.id, error: toWire(e) }),
        ).finally(() => inFlight.delete(work));
        return;
      }
    }
  });
  post({ type: 'ready' });
}
