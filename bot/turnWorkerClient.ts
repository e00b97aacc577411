import { Worker } from 'node:worker_threads';
import type { HubConversationEvent } from '../machines/conversationTypes';
import { mergeObjects } from '../machines/mergeObjects';
import type { InboundActivity } from './activitySchema';
import type { Clock } from './clock';
import type { HubEvent } from './handoffHub';
import type { Logger } from './logger';
import type { ChannelActivity, OutboundActivity } from './replyRenderer';
import type { TurnPipeline, TurnPipelineLinks } from './turnPipeline';

/** What the turn worker needs from the started bot (the 'start' message). */
export interface TurnWorkerInit {
  identityKey: string;
  /** The bot's clock as an offset from the system clock, so both threads tell the same time (APP_NOW). */
  clockOffsetMs: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

/** Main thread → turn worker. */
export type ToWorker =
  | { type: 'start'; init: TurnWorkerInit }
  | { type: 'handle'; id: number; activity: InboundActivity }
  | { type: 'deliver'; id: number; conversationId: string; event: HubConversationEvent }
  | { type: 'sent'; id: number; error?: WireError }
  | { type: 'health'; id: number }
  | { type: 'close' };

/** Turn worker → main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; id: number; replies: ChannelActivity[] }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'healthy'; id: number }
  | { type: 'unhealthy'; id: number; error: WireError }
  | { type: 'publish'; event: HubEvent }
  | { type: 'send'; id: number; conversationId: string; activities: OutboundActivity[]; options?: Parameters<TurnPipelineLinks['proactive']['send']>[2] };

export const toWire = (e: unknown): WireError =>
  e instanceof Error ? { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) } : { name: 'Error', message: String(e) };

export const fromWire = (w: WireError): Error => Object.assign(new Error(w.message), { name: w.name, ...(w.stack ? { stack: w.stack } : {}) });

/** What start() is given: the bot's identity key and clock. */
interface StartWith {
  identityKey: string;
  clock: Clock;
}

export interface TurnWorker extends TurnPipeline {
  /** Hands the worker what it needs from the started bot (the database is migrated by then); resolves once it takes turns. */
  start(init: StartWith): Promise<void>;
  /** Resolves when the worker answers from its own database connection; rejects, saying why, when it does not within HEALTH_TIMEOUT_MS. */
  health(): Promise<void>;
  /** Lets the turns in flight finish, closes the worker's database connection and ends the thread. */
  close(): Promise<void>;
}

/** Calls across the threads awaiting their answer, by id (turns on the main thread's side, proactive sends on the worker's). */
export function createCalls<T>() {
  const waiting = new Map<number, { resolve: (value: T) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  return {
    /** A new call: its id, to send along, and the promise of its answer. */
    open(): { id: number; answer: Promise<T> } {
      const id = nextId++;
      return { id, answer: new Promise<T>((resolve, reject) => waiting.set(id, { resolve, reject })) };
    },
    settle(id: number, outcome: { value: T } | { error: Error }): void {
      const call = waiting.get(id);
      waiting.delete(id);
      if ('error' in outcome) call?.reject(outcome.error);
      else call?.resolve(outcome.value);
    },
    failAll(error: Error): void {
      for (const call of waiting.values()) call.reject(error);
      waiting.clear();
    },
  };
}

/**
 * The worker's V8 heap: a young generation twice Node's default (48 MB: two 16 MB semi-spaces and
 * the space for large new objects), so twice as much is allocated between two scavenges. Every
 * scavenge copies what the turns in flight still hold, whatever was allocated since the last one;
 * with fewer scavenges the turn path's GC pauses fell from 0.064–0.072 to 0.044–0.056 ms a turn
 * at 10 conversations (bench/turnPath.mjs, three runs each). The cost is at most 48 MB more
 * memory, taken only when turns come fast enough to fill it.
 */
export const TURN_WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 96 } as const;

/** A new turn worker thread running `entry`. */
export const spawnTurnThread = (entry: string): Worker => new Worker(entry, { resourceLimits: TURN_WORKER_RESOURCE_LIMITS });

/** How long close() waits for the worker's turns in flight before ending the thread anyway. */
const CLOSE_TIMEOUT_MS = 30_000;

/** How long health() waits for the worker (a new one starting included): well under a load balancer's check interval. */
export const HEALTH_TIMEOUT_MS = 3_000;

/**
 * Runs turns on a worker thread (bot/turnWorker.ts, started from `entry`, the built server):
 * this thread keeps HTTP and Bot Framework, the worker recognises, runs the machine and writes
 * the turn on its own database connection. The same interface as the pipeline it stands for.
 * The thread starts at once and loads its code while this one migrates and opens the database;
 * start() then lets it open its own. A worker that dies fails the turns it had (a channel
 * retries them, and a retried activity is answered once); the next turn starts a new one.
 * `first` is the first thread when it was spawned already (spawnTurnThread; bot/launch.ts).
 */
export function createTurnWorker(entry: string, logger: Logger, first?: Worker): TurnWorker {
  let links: TurnPipelineLinks | undefined;
  let init: StartWith | undefined;
  const turns = createCalls<ChannelActivity[]>();
  const checks = createCalls<void>();
  let closing = false;

  const startMessage = (i: StartWith): ToWorker => ({ type: 'start', init: { identityKey: i.identityKey, clockOffsetMs: i.clock().getTime() - Date.now() } });

  interface Spawned {
    worker: Worker;
    /** Resolves once the worker takes turns; rejects when it stops before. */
    ready: Promise<Worker>;
    exited: Promise<void>;
  }

  /** A new thread (or the one spawned already); it takes turns once started (at once when start() was called before). */
  function spawn(thread?: Worker): Spawned {
    const worker = thread ?? spawnTurnThread(entry);
    if (init) worker.postMessage(startMessage(init));
    let isReady = false;
    let failure: Error | undefined;
    let onReady!: (w: Worker) => void;
    let onFailed!: (e: Error) => void;
    const ready = new Promise<Worker>((resolve, reject) => ((onReady = resolve), (onFailed = reject)));
    ready.catch(() => undefined); // told to whoever waits for it
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          isReady = true;
          onReady(worker);
          return;
        case 'done':
          turns.settle(m.id, { value: m.replies });
          return;
        case 'failed':
          turns.settle(m.id, { error: fromWire(m.error) });
          return;
        case 'healthy':
          checks.settle(m.id, { value: undefined });
          return;
        case 'unhealthy':
          checks.settle(m.id, { error: fromWire(m.error) });
          return;
        case 'publish':
          links?.publish(m.event);
          return;
        case 'send': {
          const answer = (error?: unknown) => worker.postMessage({ type: 'sent', id: m.id, ...(error === undefined ? {} : { error: toWire(error) }) } satisfies ToWorker);
          if (!links) answer(new Error('proactive delivery is not linked'));
          else links.proactive.send(m.conversationId, m.activities, m.options).then(() => answer(), answer);
          return;
        }
      }
    });
    worker.on('error', (e) => {
      failure = e;
      logger.error({ err: e }, 'turn worker failed');
    });
    worker.on('exit', (code) => {
      const stopped = new Error(`the turn worker stopped (exit code ${code})${failure ? `: ${failure.message}` : ''}`);
      turns.failAll(stopped);
      checks.failAll(stopped);
      if (!isReady) onFailed(stopped);
      else if (!closing && current.worker === worker) {
        logger.error({ code }, 'turn worker stopped; starting a new one');
        current = spawn();
      }
    });
    return { worker, ready, exited };
  }

  let current = spawn(first);

  /** The worker, or, when the last one could not start, a new one for the next turn. */
  async function running(): Promise<Worker> {
    const spawned = current;
    try {
      return await spawned.ready;
    } catch (e) {
      if (!closing && current === spawned) current = spawn();
      throw e;
    }
  }

  /** A turn for the worker: the message without its id, which the call gives it. */
  async function request(message: DistributiveOmit<Extract<ToWorker, { type: 'handle' | 'deliver' }>, 'id'>): Promise<ChannelActivity[]> {
    if (closing) throw new Error('the bot is shutting down');
    const worker = await running();
    const { id, answer } = turns.open();
    worker.postMessage(mergeObjects(message, { id }));
    return answer;
  }

  return {
    async start(i) {
      init = i;
      current.worker.postMessage(startMessage(i));
      await current.ready;
    },
    async health() {
      if (closing) throw new Error('the bot is shutting down');
      let timer: NodeJS.Timeout | undefined;
      let asked: number | undefined;
      let over = false;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the turn worker did not answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS);
      });
      const answered = (async () => {
        const worker = await running();
        if (over) return; // a new worker that took longer than the check to start is not asked
        const { id, answer } = checks.open();
        asked = id;
        worker.postMessage({ type: 'health', id } satisfies ToWorker);
        await answer;
      })();
      answered.catch(() => undefined); // a late failure, after the timeout was reported
      try {
        await Promise.race([answered, late]);
      } finally {
        over = true;
        clearTimeout(timer);
        // A worker that never answers does not keep the call.
        if (asked !== undefined) checks.settle(asked, { value: undefined });
      }
    },
    link(l: TurnPipelineLinks): void {
      links = l;
    },
    handle: (activity) => request({ type: 'handle', activity }),
    async deliver(conversationId, event) {
      await request({ type: 'deliver', conversationId, event });
    },
    async close() {
      if (closing) return;
      closing = true;
      const { worker, exited } = current;
      worker.postMessage({ type: 'close' } satisfies ToWorker);
      const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
