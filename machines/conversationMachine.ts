import { createHash } from 'node:crypto';
import conversationFlow from '../dialogs/flows/conversation.json';
import type { FlowDocument, InvokeDoc, StateDoc } from '../dialogs/flowSchema';
import { conversationSetup, initialContext, inputMappers } from './flowRegistry';

/**
 * The borrower conversation: identity first (CONTRACT.md §4), then the account: summary and
 * menu, the penalty explained, repayment options, a plan quoted, confirmed and recorded.
 * Its shape is data, dialogs/flows/conversation.json (XState's JSON machine format); the actions,
 * guards, actors and input mappers it names live in ./flowRegistry. The I/O actors are given by
 * the runtime (`machine.provide`), so this file does no I/O.
 */
export type { ConversationContext, ConversationInput, Expectation } from './flowRegistry';
export { conversationSetup } from './flowRegistry';

/**
 * A function that serialises as its registry name, so the machine's config stringifies back to
 * the flow document it came from (what its hash, the flow version, is taken over).
 */
function named<F extends (...args: never[]) => unknown>(name: string, fn: F): F {
  return Object.assign((...args: Parameters<F>) => fn(...args), { toJSON: () => name }) as unknown as F;
}

/** An invoke's `input` names a mapper in the registry; XState wants the function itself. */
function withInputMappers(state: StateDoc): Record<string, unknown> {
  const invoke = (inv: InvokeDoc) => {
    if (inv.input === undefined) return inv;
    const name = inv.input;
    const mapper = (inputMappers as Record<string, unknown>)[name];
    // The flow check refuses unknown names before a flow gets here; this guards direct callers.
    if (typeof mapper !== 'function') throw new Error(`flow invoke "${inv.id}": unknown input mapper "${name}"`);
    return { ...inv, input: named(name, mapper as (...args: unknown[]) => unknown) };
  };
  const { states, invoke: invokes, ...rest } = state;
  return {
    ...rest,
    ...(invokes !== undefined ? { invoke: Array.isArray(invokes) ? invokes.map(invoke) : invoke(invokes) } : {}),
    ...(states !== undefined ? { states: Object.fromEntries(Object.entries(states).map(([k, s]) => [k, withInputMappers(s)])) } : {}),
  };
}

type MachineConfig = Parameters<typeof conversationSetup.createMachine>[0];

/**
 * A conversation machine from a flow document (checked by dialogs/flowCheck.ts first): the
 * shipped one below, or a version published in the studio.
 */
export function buildConversationMachine(flow: FlowDocument) {
  return conversationSetup.createMachine({ ...withInputMappers(flow), context: named('initialContext', initialContext) } as MachineConfig);
}

/** Which flow definition a stored snapshot belongs to: a hash of the flow document. */
export function flowVersionOf(flow: FlowDocument): string {
  return createHash('sha256').update(JSON.stringify(flow)).digest('hex').slice(0, 16);
}

export const shippedConversationFlow = conversationFlow as FlowDocument;

export const conversationMachine = buildConversationMachine(shippedConversationFlow);
