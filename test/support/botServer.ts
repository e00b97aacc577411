import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBot, type RunningBot } from '../../bot/app';
import { createClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { createLogger } from '../../bot/logger';
import { freshDatabaseUrl } from './databases';

export const TEST_NOW = '2026-11-22T10:00:00+08:00';

export interface TestBot {
  url: string;
  databaseUrl: string;
  /** Moves the bot's clock forward (lockout expiry, idle sessions). */
  advance(minutes: number): void;
  /** The bot's clock now. */
  now(): Date;
  /** Runs the check for handoffs no agent took in time, as its timer does. */
  checkHandoffWaits(): Promise<number>;
  /** Runs one reminder pass, as its timer does (the timer is off unless `reminderEveryMs` is given). */
  runReminders(): ReturnType<RunningBot['runReminders']>;
  stop(): Promise<void>;
}

/**
 * The real server (same start-up as `npm start`) on a fresh database with the demo portfolio,
 * on an ephemeral loopback port. `TEST_DATABASE=postgres` runs the suites on PostgreSQL.
 */
export async function startTestBot(
  opts: { kind?: 'sqlite' | 'postgres'; env?: Record<string, string>; shareDatabaseOf?: TestBot; reminderEveryMs?: number; turnWorker?: string } = {},
): Promise<TestBot> {
  const kind = opts.kind ?? (process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite');
  // A second server on the same database (as behind a load balancer) leaves dropping it to the first.
  const db = opts.shareDatabaseOf ? { url: opts.shareDatabaseOf.databaseUrl, drop: async () => {} } : await freshDatabaseUrl(kind);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    APP_NOW: TEST_NOW,
    APP_TIMEZONE: 'Asia/Shanghai',
    SEED_DEMO: 'true',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PROOF_STORAGE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'proofs-')),
    ...opts.env,
  });
  let offsetMs = 0;
  const base = createClock(config.appNow);
  const bot = await startBot(config, createLogger(config.logLevel), { clock: () => new Date(base().getTime() + offsetMs), reminderEveryMs: opts.reminderEveryMs ?? 0, ...(opts.turnWorker ? { turnWorker: opts.turnWorker } : {}) });
  return {
    url: bot.url,
    databaseUrl: db.url,
    advance(minutes) {
      offsetMs += minutes * 60_000;
    },
    now: () => new Date(base().getTime() + offsetMs),
    checkHandoffWaits: () => bot.checkHandoffWaits(),
    runReminders: () => bot.runReminders(),
    async stop() {
      await bot.close();
      await db.drop();
    },
  };
}
