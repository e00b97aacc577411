import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { ConfigError, loadConfig } from './config';
import { DialogsError } from '../dialogs/loadDialogs';
import { startBot } from './app';
import { createLogger } from './logger';

/**
 * `npm start`: one schema parses the environment; anything wrong stops here with the reason.
 * `turnWorker` is the script the turn worker thread runs, `turnThread` its thread when spawned
 * already (bot/launch.ts).
 */
export async function main(turnWorker: string, turnThread?: Worker): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  if (!config.turnWorker) void turnThread?.terminate();
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot(config, logger, config.turnWorker ? { turnWorker, ...(turnThread ? { turnThread } : {}) } : {});
  } catch (e) {
    if (e instanceof DialogsError || e instanceof ConfigError) console.error(e.message);
    else logger.fatal({ err: e }, 'start failed');
    process.exit(1);
  }
  // SIGTERM (the orchestrator) or SIGINT (Ctrl-C): stop accepting, finish the turns in flight,
  // close the database, exit 0. A second signal, or a close that outlives the deadline, exits at
  // once: an unfinished turn commits nothing, so cutting it off loses nothing confirmed.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000).unref();
    bot.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

// `node dist/bot/main.js` starts it; in the bundle, bot/launch.ts does.
if (require.main === module) void main(path.join(__dirname, 'turnWorker.js'));
