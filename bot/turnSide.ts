import { fromPromise } from 'xstate';
import type { DialogFiles, Dialogs } from '../dialogs/loadDialogs';
import { loadAccountSummary } from '../db/accountSummary';
import type { Database } from '../db/client';
import { createConversationStore, type ConversationStore } from '../db/conversationStore';
import { checkIdentity } from '../db/identityCheck';
import { explainPenalty, quoteOptions, quotePlan, type PlanDeps } from '../db/plans';
import { checkProof, loadComplaints, prepareComplaint, receiveAttachment, type ProofFlowDeps } from '../db/proofFlow';
import { createFileStore, type FileStore } from '../proofs/fileStore';
import type { PenaltyTerms } from '../machines/domain/penaltyEngine';
import { buildConversationMachine } from '../machines/conversationMachine';
import type {
  AttachmentRef, AttachmentResult, ComplaintCategory, ComplaintFiling, ComplaintStatusView, ProofCheck, ProofDraft,
  AccountInput, AccountSummary, BorrowerInput, IdentityCheckInput, IdentityCheckResult, OptionsInput, OptionsView, PenaltyExplanation, PlanQuoteInput, PlanQuoteResult,
} from '../machines/conversationTypes';
import type { Clock } from './clock';
import type { Config } from './config';
import type { Logger } from './logger';
import { createTurnPipeline, type TurnPipeline } from './turnPipeline';
import { createDialogsRuntimeSource, createRecognizerCache, createRuntimeBuilder, type DialogsRuntimeSource, type RecognizerCache } from './dialogsRuntime';

/*
 * What turns run on, without the HTTP and Bot Framework side: the turn worker (bot/turnWorker.ts)
 * loads only this, so its thread starts quickly.
 */

function productOf(dialogs: Dialogs, product: string) {
  const p = dialogs.products[product];
  if (!p) throw new Error(`product "${product}" is not defined in dialogs/policy/products.json`);
  return p;
}

function penaltyTermsOf(dialogs: Dialogs): (product: string) => PenaltyTerms {
  return (product) => {
    const { penalty } = productOf(dialogs, product);
    return { penaltyMultiplier: penalty.multiplier, penaltyCapAnnual: penalty.capAnnual, dayBasis: penalty.dayBasis, compound: penalty.compound, lateFee: penalty.lateFee };
  };
}

/** The plan actors' view of the policy. */
function planDeps(database: Database, dialogs: Dialogs, config: Config): PlanDeps {
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
  const proofs: ProofFlowDeps = { database, files, allowedHosts: config.attachmentHosts, timeZone: config.timeZone };
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
  recognizers: RecognizerCache;
  dialogsSource: DialogsRuntimeSource;
  pipeline: TurnPipeline;
  /** Loads what the first turn would otherwise load: the latest dialogs version and its recogniser (the intent model). */
  warm(): Promise<void>;
}

/**
 * The turn side of the bot, built the same way in the main thread and in the turn worker: every
 * turn runs on the latest published dialogs version (checked at most once a second), with the
 * machine built from that version's flow (provideMachine).
 */
export function createTurnSide(deps: {
  database: Database;
  config: Config;
  identityKey: string;
  logger: Logger;
  clock: Clock;
  shipped: DialogFiles;
  shippedDialogs: Dialogs;
  /** Recognisers made already (the turn worker makes the shipped dialogs' one while it waits to start). */
  recognizers?: RecognizerCache;
}): TurnSide {
  const { database, config, identityKey, logger, clock, shipped, shippedDialogs, recognizers = createRecognizerCache() } = deps;
  const store = createConversationStore(database.sql);
  const files = createFileStore(config.proofStorageDir);
  const dialogsSource = createDialogsRuntimeSource({
    database,
    shipped,
    shippedDialogs,
    build: createRuntimeBuilder((d) => provideMachine(database, d, config, files, identityKey), recognizers),
    logger,
  });
  const pipeline = createTurnPipeline({ store, runtime: () => dialogsSource.current(), clock, logger, timeZone: config.timeZone });
  const warm = async () => void (await dialogsSource.current()).recognizer;
  return { store, files, recognizers, dialogsSource, pipeline, warm };
}
