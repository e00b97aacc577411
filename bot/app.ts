import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { parseDialogs, readDialogFiles, type DialogFiles, type Dialogs } from '../dialogs/loadDialogs';
import { openDatabase, type Database } from '../db/client';
import { migrateDatabase } from '../db/migrator';
import { resolveIdentityKey } from '../db/identityKey';
import { localDateOf } from '../machines/domain/calendar';
import { seedDemoPortfolio } from '../portfolio/demoPortfolio';
import { createClock, type Clock } from './clock';
import type { Config } from './config';
import type { Logger } from './logger';
import { createHandoffHub } from './handoffHub';
import { watchHandoffWaits } from './handoffWatch';
import { createReminderScheduler, type ReminderPass } from '../db/reminderScheduler';
import { createProactiveSender } from './proactive';
import { createAdapter, createBotAuthentication } from './adapter';
import { createServer } from './server';
import { trackRequests } from './drain';
import { scheduleRetention } from '../db/retention';
import { createStaffAuth } from './staffAuth';
import { createTurnWorker } from './turnWorkerClient';
import { createRuntimeBuilder } from './dialogsRuntime';
import { createTurnSide, provideMachine } from './turnSide';
import { createStudioPreview } from './studioPreview';
import { flowToMermaid } from '../dialogs/flowMermaid';
import type { FlowDocument } from '../dialogs/flowSchema';

export interface RunningBot {
  url: string;
  database: Database;
  clock: Clock;
  /** Tells borrowers no agent was free in time (runs on a timer; tests call it directly). */
  checkHandoffWaits(): Promise<number>;
  /** Sends the reminders due within the contact rules (runs on a timer; tests call it directly). */
  runReminders(): Promise<ReminderPass>;
  close(): Promise<void>;
}

/** The project root (the folder holding package.json and web/), also from dist/. */
export const projectRoot = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

/**
 * Starts everything `npm start` runs: checks dialogs/, migrates and opens the database, seeds
 * the demo portfolio when empty, and serves HTTP.
 */
export async function startBot(
  config: Config,
  logger: Logger,
  options: {
    clock?: Clock;
    /** Between reminder passes; 0 = only runReminders(). */
    reminderEveryMs?: number;
    /** The built script that runs turns on a worker thread (bot/turnWorker.ts); without it they run in this thread. */
    turnWorker?: string;
    /** That script's thread, when it was spawned already (bot/launch.ts). */
    turnThread?: Worker;
  } = {},
): Promise<RunningBot> {
  // Turns on their own thread leave this one to HTTP and Bot Framework, and the two share the
  // cores (bench/FINDINGS.md). The thread loads its code while this one migrates.
  const worker = options.turnWorker ? createTurnWorker(options.turnWorker, logger, options.turnThread) : undefined;
  let shipped: DialogFiles;
  let shippedDialogs: Dialogs;
  let database: Database;
  try {
    // The shipped files must pass their checks (a DialogsError stops the start); studio versions are laid over them.
    shipped = readDialogFiles();
    shippedDialogs = parseDialogs(shipped);
    const { applied } = await migrateDatabase(config.databaseUrl, (msg) => logger.debug(msg));
    if (applied.length) logger.info({ applied }, 'database migrated');
    database = await openDatabase(config.databaseUrl);
  } catch (e) {
    await worker?.close();
    throw e;
  }
  const clock = options.clock ?? createClock(config.appNow);
  try {
    const identityKey = await resolveIdentityKey(database.sql, config.identitySecret);
    const workerStarted = worker?.start({ identityKey, clock });
    workerStarted?.catch(() => undefined); // awaited below, before the server listens
    const seeded = config.seedDemo ? await seedDemoPortfolio(database, { today: localDateOf(clock(), config.timeZone), identitySecret: identityKey }) : { seeded: false };
    if (seeded.seeded) logger.info({ summary: seeded.summary }, 'demo portfolio seeded');
    const { store, files, recognizers, dialogsSource, pipeline: inline, warm } = createTurnSide({ database, config, identityKey, logger, clock, shipped, shippedDialogs });
    // With a worker, this thread runs no turns, and needs neither the recogniser nor the intent model.
    await (worker ? dialogsSource.current() : warm());
    const preview = createStudioPreview({
      builderFor: (previewDb, previewKey, previewFiles) => createRuntimeBuilder((d) => provideMachine(previewDb, d, config, previewFiles, previewKey), recognizers),
      clock,
      timeZone: config.timeZone,
      logger,
    });
    await workerStarted;
    const pipeline = worker ?? inline;
    const botAuth = createBotAuthentication(config);
    const adapter = createAdapter(botAuth, logger);
    const proactive = createProactiveSender({ db: database.prisma, adapter, appId: config.microsoftApp.appId, clock, logger });
    const hub = createHandoffHub({ db: database.prisma, clock, logger, proactive, conversationEvents: pipeline });
    pipeline.link({ publish: (e) => hub.publish(e), proactive });
    const auth = createStaffAuth({ db: database.prisma, secret: identityKey, clock });
    const reminders = createReminderScheduler({
      db: database.prisma,
      clock,
      timeZone: config.timeZone,
      // The latest published copy and contact policy, as turns use.
      dialogs: async () => (await dialogsSource.current()).dialogs,
      deliver: (conversationId, { text, locale }) => proactive.send(conversationId, [{ type: 'message', text, textFormat: 'markdown', locale, inputHint: 'expectingInput' }]),
      log: logger,
      ...(options.reminderEveryMs !== undefined ? { everyMs: options.reminderEveryMs } : {}),
    });
    const server = createServer({ config, identityKey, database, pipeline, turnsHealthy: () => worker?.health() ?? Promise.resolve(), store, adapter, botAuth, hub, auth, outcomeDecided: () => reminders.runOnce(), files, logger, clock, webRoot: path.join(projectRoot, 'web'), studio: { source: dialogsSource, preview, flowToMermaid: (flow) => flowToMermaid(flow as FlowDocument) } });
    const requests = trackRequests(server);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
    const { port } = server.address();
    const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
    logger.info({ url }, 'listening');
    // Also sweeps proof files a crash left without their record: at the first run, then daily.
    const retention = scheduleRetention({
      database,
      files,
      clock,
      retentionDays: config.retentionDays,
      // A database this start found empty and seeded holds nothing retention removes (transcripts,
      // conversations, attempts, proofs): a run now would only hold up the first answers (about
      // 0.1 s on SQLite, which it also locks), so the first run is the hourly one.
      atStart: !seeded.seeded,
      onRun: (run) => logger.info({ retention: run }, 'retention run'),
      onError: (err) => logger.error({ err }, 'retention run failed'),
    });
    const waits = watchHandoffWaits({
      db: database.prisma,
      clock,
      logger,
      waitLimitMinutes: async () => (await dialogsSource.current()).dialogs.handoff.waitLimitMinutes,
      deliver: (conversationId, event) => pipeline.deliver(conversationId, event),
    });
    let closing: Promise<void> | undefined;
    return {
      url,
      database,
      clock,
      checkHandoffWaits: () => waits.check(),
      runReminders: () => reminders.runOnce(),
      /**
       * Graceful stop: no new connections; the agents' event streams end; requests (turns) in
       * flight finish, up to the shutdown timeout; a retention run in progress finishes; then
       * the database closes. Idempotent.
       */
      close() {
        closing ??= (async () => {
          waits.stop();
          hub.close();
          const [{ unfinished }] = await Promise.all([requests.drain(config.shutdownTimeoutMs), retention.stop(), reminders.stop()]);
          if (unfinished) logger.warn({ unfinished }, 'shutdown: requests still running at the deadline were cut off');
          await Promise.all([preview.close(), worker?.close()]);
          await database.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    await worker?.close();
    await database.close();
    throw e;
  }
}
