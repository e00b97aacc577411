import { createActor, waitFor, type Snapshot } from 'xstate';
import type { ConversationContext, ConversationInput, conversationMachine } from './conversationMachine';
import type { ConversationEvent, Emitted } from './conversationTypes';

export type ConversationMachine = typeof conversationMachine;

export interface MachineTurn {
  /** The persisted snapshot to write back. */
  snapshot: Snapshot<unknown>;
  context: ConversationContext;
  emitted: Emitted[];
  /** True when the stored snapshot no longer fit the machine and the conversation restarted. */
  reset: boolean;
}

/** A stored snapshot fits when the machine can resolve its state and it is still running. */
function fits(machine: ConversationMachine, persisted: unknown): boolean {
  if (!persisted || typeof persisted !== 'object') return false;
  const p = persisted as { status?: unknown; value?: unknown; context?: unknown };
  if (p.status !== 'active' || p.context === undefined) return false;
  try {
    machine.resolveState({ value: p.value as never, context: p.context as ConversationContext });
    return true;
  } catch {
    return false;
  }
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
  const reset = persisted !== null && !fits(machine, persisted);
  // The stored context keeps the previous turn's time: this turn runs on this turn's clock.
  const restored = persisted !== null && !reset ? { ...(persisted as { context: ConversationContext }), context: { ...(persisted as { context: ConversationContext }).context, now: input.now } } : undefined;
  const actor = createActor(machine, {
    input,
    ...(restored ? { snapshot: restored as unknown as Snapshot<unknown> as never } : {}),
  });
  const emitted: Emitted[] = [];
  let failure: unknown;
  actor.on('*', (e) => emitted.push(e as Emitted));
  actor.subscribe({ error: (e) => (failure = e) });
  actor.start();
  try {
    for (const event of events) {
      actor.send(event);
      await waitFor(actor, (s) => !s.hasTag('busy') || s.status !== 'active', { timeout: timeoutMs });
      if (failure) throw failure;
    }
    const snapshot = actor.getPersistedSnapshot();
    return { snapshot, context: actor.getSnapshot().context, emitted, reset };
  } finally {
    actor.stop();
  }
}
