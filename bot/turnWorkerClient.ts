import { Worker } from 'node:worker_threads';
import type { HubConversationEvent } from '../machines/conversationTypes';
import type { InboundActivity } from './activitySchema';
import type { Clock } from './clock';
import type { HubEvent } from './handoffHub';
import type { Logger } from './logger';
import type { ChannelActivity, OutboundActivity } from './replyRenderer';
import type { TurnPipeline, TurnPipelineLinks } from './turnPipeline';

/** What the turn worker is started with (workerData.turnWorker). */
export interface TurnWorkerData {
  identityKey: string;
  /** The bot's clock as an offset from the system clock, so both threads tell the same time (APP_NOW). */
  clockOffsetMs: number;
}

export interface WireError {
  name: string;
  message: string;
  stack?: string;
}

/** Main thread → turn worker. */
export type ToWorker =
  | { type: 'handle'; id: number; activity: InboundActivity }
  | { type: 'deliver'; id: number; conversationId: string; event: HubConversationEvent }
  | { type: 'sent'; id: number; error?: WireError }
  | { type: 'close' };

/** Turn worker → main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; id: number; replies: ChannelActivity[] }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'publish'; event: HubEvent }
  | { type: 'send'; id: number; conversationId: string; activities: OutboundActivity[]; options?: Parameters<TurnPipelineLinks['proactive']['send']>[2] };

export const toWire = (e: unknown): WireError =>
  e instanceof Error ? { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) } : { name: 'Error', message: String(e) };

export const fromWire = (w: WireError): Error => Object.assign(new Error(w.message), { name: w.name, ...(w.stack ? { stack: w.stack } : {}) });

export interface TurnWorker extends TurnPipeline {
  /** Lets the turns in flight finish, closes the worker's database connection and ends the thread. */
  close(): Promise<void>;
}

/** How long close() waits for the worker's turns in flight before ending the thread anyway. */
const CLOSE_TIMEOUT_MS = 30_000;

/**
 * Runs turns on a worker thread (bot/turnWorker.ts, started from `entry`, the built server):
 * this thread keeps HTTP and Bot Framework, the worker recognises, runs the machine and writes
 * the turn on its own database connection. The same interface as the pipeline it stands for.
 * A worker that dies fails the turns it had (a channel retries them, and a retried activity is
 * answered once); the next turn starts a new one.
 */
export async function startTurnWorker(deps: { entry: string; identityKey: string; clock: Clock; logger: Logger }): Promise<TurnWorker> {
  const { entry, identityKey, clock, logger } = deps;
  let links: TurnPipelineLinks | undefined;
  const pending = new Map<number, { resolve: (replies: ChannelActivity[]) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let closing = false;

  function spawn(): Promise<Worker> {
    const turnWorker: TurnWorkerData = { identityKey, clockOffsetMs: clock().getTime() - Date.now() };
    const worker = new Worker(entry, { workerData: { turnWorker }, ...(process.env.YG ? { resourceLimits: { maxYoungGenerationSizeMb: Number(process.env.YG) } } : {}) });
    return new Promise<Worker>((resolve, reject) => {
      let ready = false;
      let failure: Error | undefined;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            ready = true;
            resolve(worker);
            return;
          case 'done':
          case 'failed': {
            const p = pending.get(m.id);
            pending.delete(m.id);
            if (m.type === 'done') p?.resolve(m.replies);
            else p?.reject(fromWire(m.error));
            return;
          }
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
        for (const p of pending.values()) p.reject(stopped);
        pending.clear();
        if (!ready) reject(stopped);
        else if (!closing) {
          logger.error({ code }, 'turn worker stopped; starting a new one');
          current = spawn();
          current.catch(() => undefined); // reported to the turn that waits for it
        }
      });
    });
  }

  let current = spawn();
  await current;

  /** The worker, or a new one when the last one could not start. */
  async function running(): Promise<Worker> {
    try {
      return await current;
    } catch (e) {
      if (!closing) {
        current = spawn();
        current.catch(() => undefined);
      }
      throw e;
    }
  }

  async function request(message: Extract<ToWorker, { type: 'handle' | 'deliver' }>): Promise<ChannelActivity[]> {
    if (closing) throw new Error('the bot is shutting down');
    const worker = await running();
    return new Promise<ChannelActivity[]>((resolve, reject) => {
      pending.set(message.id, { resolve, reject });
      worker.postMessage(message);
    });
  }

  return {
    link(l: TurnPipelineLinks): void {
      links = l;
    },
    handle: (activity) => request({ type: 'handle', id: nextId++, activity }),
    async deliver(conversationId, event) {
      await request({ type: 'deliver', id: nextId++, conversationId, event });
    },
    async close() {
      if (closing) return;
      closing = true;
      const worker = await current.catch(() => undefined);
      if (!worker) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' } satisfies ToWorker);
      const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
