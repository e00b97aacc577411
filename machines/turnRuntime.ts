import { createActor, waitFor, type Snapshot } from 'xstate';
import type { ConversationContext, ConversationInput, conversationMachine } from './conversationMachine';
import type { ConversationEvent, Emitted } from './conversationTypes';
import { mergeObjects } from './mergeObjects';

export type ConversationMachine = typeof conversationMachine;

export interface MachineTurn {
  /** The persisted snapshot to write back. */
  snapshot: Snapshot<unknown>;
  context: ConversationContext;
  emitted: Emitted[];
  /** True when the stored snapshot no longer fit the machine and the conversation restarted. */
  reset: boolean;
}

type Turn = ReturnType<typeof createActor<ConversationMachine>>;

/**
 * The actor restored from a stored snapshot, or undefined when the snapshot no longer fits the
 * machine: not a running conversation, or a state the flow no longer has. XState resolves the
 * state once, as it restores; a snapshot it cannot restore leaves the actor in status "error".
 */
function restored(machine: ConversationMachine, persisted: unknown, input: ConversationInput): Turn | undefined {
  if (!persisted || typeof persisted !== 'object') return undefined;
  const p = persisted as { status?: unknown; context?: unknown };
  if (p.status !== 'active' || typeof p.context !== 'object' || p.context === null) return undefined;
  // The stored context keeps the previous turn's time: this turn runs on this turn's clock.
  const snapshot = mergeObjects(p, { context: mergeObjects(p.context as ConversationContext, { now: input.now }) });
  const actor = createActor(machine, { input, snapshot: snapshot as unknown as Snapshot<unknown> as never });
  return actor.getSnapshot().status === 'active' ? actor : undefined;
}

/**
 * One turn of a conversation: restore the machine from its persisted snapshot (or start fresh),
 * send the events, wait until no invoked work is pending (tag `busy`), collect what it emitted
 * and persist. I/O happens only inside the actors the machine was given.
 */
export async function runMachineTurn(
  machine: ConversationMachine,
  persisted: unknown | null,
  input: ConversationInput,
  events: readonly ConversationEvent[],
  timeoutMs = 15_000,
): Promise<MachineTurn> {
  const resumed = persisted === null ? undefined : restored(machine, persisted, input);
  const reset = persisted !== null && !resumed;
  const actor = resumed ?? createActor(machine, { input });
  const emitted: Emitted[] = [];
  let failure: unknown;
  actor.on('*', (e) => emitted.push(e as Emitted));
  actor.subscribe({ error: (e) => (failure = e) });
  actor.start();
  try {
    const settled = (s: ReturnType<Turn['getSnapshot']>) => !s.hasTag('busy') || s.status !== 'active';
    for (const event of events) {
      actor.send(event);
      // Most events settle at once; only invoked work (a database read) needs waiting for.
      if (!settled(actor.getSnapshot())) await waitFor(actor, settled, { timeout: timeoutMs });
      if (failure) throw failure;
    }
    const snapshot = actor.getPersistedSnapshot();
    return { snapshot, context: actor.getSnapshot().context, emitted, reset };
  } finally {
    actor.stop();
  }
}
