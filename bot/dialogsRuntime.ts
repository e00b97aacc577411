import { createHash } from 'node:crypto';
import type { Database } from '../db/client';
import { effectiveFiles, latestVersionId, loadVersion } from '../db/dialogsVersions';
import { DialogsError, parseDialogs, type DialogFiles, type Dialogs } from '../dialogs/loadDialogs';
import { createEscalationEvaluator, type EscalationEvaluator } from '../machines/domain/escalation';
import { createRecognizer, type Recognizer } from '../machines/recognition/recognizer';
import { classifierFor } from './nluModel';
import { flowVersionOf } from '../machines/conversationMachine';
import type { ConversationMachine } from '../machines/turnRuntime';
import type { Logger } from './logger';

/**
 * What one turn runs on, built from one version of the dialogs: the checked dialogs, the
 * recogniser and escalation rules made from them, and the conversation machine with its actors.
 * Turns ask a DialogsRuntimeSource for the current one, so a version published in the studio
 * applies to the next turn on every instance, without a restart.
 */
export interface DialogsRuntime {
  /** The published version it was built from; null: the shipped files alone. */
  versionId: number | null;
  dialogs: Dialogs;
  recognizer: Recognizer;
  escalation: EscalationEvaluator;
  machine: ConversationMachine;
  /** Which flow definition snapshots written by this runtime belong to (hash of the flow document). */
  flowVersion: string;
}

/** Binds a machine to its actors for a version's dialogs (bot/turnSide.ts provideMachine). */
export type MachineFactory = (dialogs: Dialogs) => ConversationMachine;

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

export type RecognizerCache = (dialogs: Dialogs) => Recognizer;

/**
 * A recogniser is reused while its inputs (NLU data, keywords, button titles) are the same, and
 * the intent model inside it comes from classifierFor (trained once per set of phrases), so a
 * version applies without retraining. Shared by the bot and the studio's preview.
 */
export function createRecognizerCache(): RecognizerCache {
  const recognizers = new Map<string, Recognizer>();
  return (dialogs) => {
    // Only action titles of the copy reach the recogniser (buttons read as intents).
    const titles = Object.fromEntries(Object.entries(dialogs.copy).map(([l, file]) => [l, Object.entries(file).filter(([k]) => k.startsWith('actions.'))]));
    const key = sha([dialogs.keywords, dialogs.nlu.training, titles]);
    let recognizer = recognizers.get(key);
    if (!recognizer) {
      recognizer = createRecognizer(dialogs.keywords, dialogs.copy, dialogs.nlu.training, classifierFor);
      // A handful is plenty: the current version, the previous one, and a draft or two.
      if (recognizers.size >= 4) recognizers.delete(recognizers.keys().next().value as string);
      recognizers.set(key, recognizer);
    }
    return recognizer;
  };
}

/**
 * Makes runtimes from dialogs: the machine from machineFor, the recogniser from the cache. The
 * recogniser is made when first asked for: a thread that runs no turns (the main thread, when a
 * worker runs them) then never loads the intent model.
 */
export function createRuntimeBuilder(machineFor: MachineFactory, recognizerFor: RecognizerCache = createRecognizerCache()): (dialogs: Dialogs, versionId: number | null) => DialogsRuntime {
  return (dialogs, versionId) => {
    const machine = machineFor(dialogs);
    let recognizer: Recognizer | undefined;
    return {
      versionId,
      dialogs,
      get recognizer() {
        return (recognizer ??= recognizerFor(dialogs));
      },
      escalation: createEscalationEvaluator(dialogs.escalation),
      machine,
      flowVersion: flowVersionOf(dialogs.flows.conversation),
    };
  };
}

export interface DialogsRuntimeSource {
  /** The runtime of the latest published version (checking the database at most once per interval). */
  current(): Promise<DialogsRuntime>;
  /** The files the deployment ships (dialogs/ on disk, read at start). */
  shipped: DialogFiles;
}

export interface DialogsRuntimeSourceDeps {
  /** Read at the first published version: the check for one needs only `sql`. */
  database: Pick<Database, 'prisma' | 'sql'>;
  shipped: DialogFiles;
  /** The shipped files parsed and checked (startBot does it before it touches the database). */
  shippedDialogs: Dialogs;
  build: (dialogs: Dialogs, versionId: number | null) => DialogsRuntime;
  logger: Logger;
  /** How stale a runtime may be: several instances pick up a publish within this long. */
  checkEveryMs?: number;
  /** Milliseconds, monotonic enough for spacing the checks (tests pass a fake). */
  now?: () => number;
}

/**
 * Caches the runtime by version id and asks the database for a newer id at most once per
 * `checkEveryMs` (one indexed query), so turns do not pay a query each. Concurrent turns share
 * one check. A published version that no longer passes the checks against the deployed files
 * (a deployment changed them) is logged and the shipped files are used instead: the bot never
 * runs on dialogs that fail their checks. A failing database check keeps the runtime it has.
 */
export function createDialogsRuntimeSource(deps: DialogsRuntimeSourceDeps): DialogsRuntimeSource {
  const { database, shipped, shippedDialogs, build, logger } = deps;
  const checkEveryMs = deps.checkEveryMs ?? 1000;
  const now = deps.now ?? (() => performance.now());
  const shippedRuntime = build(shippedDialogs, null);
  let cached: { id: number | null; runtime: DialogsRuntime } = { id: null, runtime: shippedRuntime };
  let checkedAt = -Infinity;
  let checking: Promise<DialogsRuntime> | undefined;

  async function runtimeOf(id: number): Promise<DialogsRuntime> {
    const version = await loadVersion(database.prisma, id);
    if (!version) return shippedRuntime; // deleted by hand: run on what ships
    try {
      return build(parseDialogs(effectiveFiles(shipped, version)), id);
    } catch (e) {
      if (!(e instanceof DialogsError)) throw e;
      logger.error({ version: id, problems: e.problems }, 'published dialogs version does not pass the checks against the deployed files; running on the shipped dialogs until a new version is published');
      return shippedRuntime;
    }
  }

  async function check(): Promise<DialogsRuntime> {
    try {
      const id = await latestVersionId(database.sql);
      if (id !== cached.id) {
        const runtime = id === null ? shippedRuntime : await runtimeOf(id);
        if (cached.id !== id) logger.info({ version: id, flowVersion: runtime.flowVersion }, 'dialogs version applied');
        cached = { id, runtime };
      }
    } catch (e) {
      logger.warn({ err: e }, 'could not check for a newer dialogs version; keeping the current one');
    }
    checkedAt = now();
    return cached.runtime;
  }

  return {
    shipped,
    current() {
      if (now() - checkedAt < checkEveryMs) return Promise.resolve(cached.runtime);
      checking ??= check().finally(() => (checking = undefined));
      return checking;
    },
  };
}
