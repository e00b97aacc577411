import path from 'node:path';
import { fromPromise } from 'xstate';
import { parseDialogs, readDialogFiles, type DialogFiles, type Dialogs } from '../dialogs/loadDialogs';
import { loadAccountSummary } from '../db/accountSummary';
import { openDatabase, type Database } from '../db/client';
import { createConversationStore, type ConversationStore } from '../db/conversationStore';
import { checkIdentity } from '../db/identityCheck';
import { migrateDatabase } from '../db/migrator';
import { resolveIdentityKey } from '../db/identityKey';
import { explainPenalty, quoteOptions, quotePlan, type PlanDeps } from '../db/plans';
import { checkProof, loadComplaints, prepareComplaint, receiveAttachment, type ProofFlowDeps } from '../db/proofFlow';
import { createFileStore, type FileStore } from '../proofs/fileStore';
import { localDateOf } from '../machines/domain/calendar';
import type { PenaltyTerms } from '../machines/domain/penaltyEngine';
import { buildConversationMachine } from '../machines/conversationMachine';
import type {
  AttachmentRef, AttachmentResult, ComplaintCategory, ComplaintFiling, ComplaintStatusView, ProofCheck, ProofDraft,
  AccountInput, AccountSummary, BorrowerInput, IdentityCheckInput, IdentityCheckResult, OptionsInput, OptionsView, PenaltyExplanation, PlanQuoteInput, PlanQuoteResult,
} from '../machines/conversationTypes';
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
import { createTurnPipeline, type TurnPipeline } from './turnPipeline';
import { startTurnWorker, type TurnWorker } from './turnWorkerClient';
import { createDialogsRuntimeSource, createRecognizerCache, createRuntimeBuilder, type DialogsRuntimeSource } from './dialogsRuntime';
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

function productOf(dialogs: Dialogs, product: string) {
  const p = dialogs.products[product];
  if (!p) throw new Error(`product "${product}" is not defined in dialogs/policy/products.json`);
  return p;
}

export function penaltyTermsOf(dialogs: Dialogs): (product: string) => PenaltyTerms {
  return (product) => {
    const { penalty } = productOf(dialogs, product);
    return { penaltyMultiplier: penalty.multiplier, penaltyCapAnnual: penalty.capAnnual, dayBasis: penalty.dayBasis, compound: penalty.compound, lateFee: penalty.lateFee };
  };
}

/** The plan actors' view of the policy. */
export function planDeps(database: Database, dialogs: Dialogs, config: Config): PlanDeps {
  return {
    sql: database.sql,
    timeZone: config.timeZone,
    termsOf: penaltyTermsOf(dialogs),
    rulesOf: (product) => productOf(dialogs, product).plans,
    orderFor: (hardship) => dialogs.hardshipOrder[hardship as keyof Dialogs['hardshipOrder']] ?? dialogs.hardshipOrder.unknown,
  };
}

/** The conversation machine of this version's flow, with its I/O actors bound to this database and policy. */
export function provideMachine(database: Database, dialogs: Dialogs, config: Config, files: FileStore, identityKey: string) {
  const plans = planDeps(database, dialogs, config);
  const proofs: ProofFlowDeps = { db: database.prisma, files, allowedHosts: config.attachmentHosts, timeZone: config.timeZone };
  return buildConversationMachine(dialogs.flows.conversation).provide({
    actors: {
      checkIdentity: fromPromise<IdentityCheckResult, IdentityCheckInput>(({ input }) =>
        checkIdentity({ sql: database.sql, identitySecret: identityKey, policy: dialogs.identity, timeZone: config.timeZone }, input),
      ),
      loadAccount: fromPromise<AccountSummary, AccountInput>(({ input }) =>
        loadAccountSummary({ sql: database.sql, timeZone: config.timeZone, termsOf: plans.termsOf }, input),
      ),
      explainPenalty: fromPromise<PenaltyExplanation, BorrowerInput>(({ input }) => explainPenalty(plans, input)),
      quoteOptions: fromPromise<OptionsView, OptionsInput>(({ input }) => quoteOptions(plans, input)),
      quotePlan: fromPromise<PlanQuoteResult, PlanQuoteInput>(({ input }) => quotePlan(plans, input)),
      receiveAttachment: fromPromise<AttachmentResult, { attachment: AttachmentRef }>(({ input }) => receiveAttachment(proofs, input)),
      checkProof: fromPromise<ProofCheck, { draft: ProofDraft }>(({ input }) => checkProof(proofs, input)),
      prepareComplaint: fromPromise<ComplaintFiling, { category: ComplaintCategory; now: string }>(({ input }) => prepareComplaint(proofs, input)),
      loadComplaints: fromPromise<ComplaintStatusView[], { borrowerId: string }>(({ input }) => loadComplaints(proofs, input)),
    },
  });
}

/** What turns run on: the conversation store, the proof files, the recognisers, the dialogs and the pipeline. */
export interface TurnSide {
  store: ConversationStore;
  files: FileStore;
  recognizers: ReturnType<typeof createRecognizerCache>;
  dialogsSource: DialogsRuntimeSource;
  pipeline: TurnPipeline;
}

/**
 * The turn side of the bot, built the same way in the main thread and in the turn worker: every
 * turn runs on the latest published dialogs version (checked at most once a second), with the
 * machine built from that version's flow (provideMachine).
 */
export function createTurnSide(deps: { database: Database; config: Config; identityKey: string; logger: Logger; clock: Clock; shipped: DialogFiles; shippedDialogs: Dialogs }): TurnSide {
  const { database, config, identityKey, logger, clock, shipped, shippedDialogs } = deps;
  const store = createConversationStore(database.sql);
  const files = createFileStore(config.proofStorageDir);
  const recognizers = createRecognizerCache();
  const dialogsSource = createDialogsRuntimeSource({
    db: database.prisma,
    shipped,
    shippedDialogs,
    build: createRuntimeBuilder((d) => provideMachine(database, d, config, files, identityKey), recognizers),
    logger,
  });
  const pipeline = createTurnPipeline({ store, runtime: () => dialogsSource.current(), clock, logger, timeZone: config.timeZone });
  return { store, files, recognizers, dialogsSource, pipeline };
}

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
  } = {},
): Promise<RunningBot> {
  // The shipped files must pass their checks (a DialogsError stops the start); studio versions are laid over them.
  const shipped = readDialogFiles();
  const shippedDialogs = parseDialogs(shipped);
  const clock = options.clock ?? createClock(config.appNow);
  const { applied } = await migrateDatabase(config.databaseUrl, (msg) => logger.debug(msg));
  if (applied.length) logger.info({ applied }, 'database migrated');
  const database = await openDatabase(config.databaseUrl);
  let worker: TurnWorker | undefined;
  try {
    const identityKey = await resolveIdentityKey(database.prisma, config.identitySecret);
    if (config.seedDemo) {
      const seeded = await seedDemoPortfolio(database.prisma, { today: localDateOf(clock(), config.timeZone), identitySecret: identityKey });
      if (seeded.seeded) logger.info({ summary: seeded.summary }, 'demo portfolio seeded');
    }
    const { store, files, recognizers, dialogsSource, pipeline: inline } = createTurnSide({ database, config, identityKey, logger, clock, shipped, shippedDialogs });
    await dialogsSource.current();
    const preview = createStudioPreview({
      builderFor: (previewDb, previewKey, previewFiles) => createRuntimeBuilder((d) => provideMachine(previewDb, d, config, previewFiles, previewKey), recognizers),
      clock,
      timeZone: config.timeZone,
      logger,
    });
    // Turns on their own thread leave this one to HTTP and Bot Framework: the two share the cores (README, Performance).
    if (options.turnWorker) worker = await startTurnWorker({ entry: options.turnWorker, identityKey, clock, logger });
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
    const server = createServer({ config, identityKey, database, pipeline, store, adapter, botAuth, hub, auth, outcomeDecided: () => reminders.runOnce(), files, logger, clock, webRoot: path.join(projectRoot, 'web'), studio: { source: dialogsSource, preview, flowToMermaid: (flow) => flowToMermaid(flow as FlowDocument) } });
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
