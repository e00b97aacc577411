import { z } from 'zod';

/**
 * A flow document (dialogs/flows/*.json): a statechart in XState's JSON machine format, so
 * Stately's tools can open it. Everything code-like is a name from the registry in
 * machines/flowRegistry.ts: actions, guards and invoked actors are strings, or
 * `{ "type": name, "params": {...} }` where they take parameters; an invoke's `input` is the name
 * of an input mapper. Only what the conversation runtime supports is accepted: no parallel or
 * history states, no delayed transitions (a turn ends when the reply is sent, nothing waits).
 */
export interface NamedRef {
  type: string;
  params?: Record<string, unknown>;
}
export type ActionRef = string | NamedRef;
export type GuardRef = string | NamedRef;

export interface TransitionDoc {
  target?: string | string[];
  guard?: GuardRef;
  actions?: ActionRef | ActionRef[];
  reenter?: boolean;
  description?: string;
  meta?: Record<string, unknown>;
}
/** A target alone (`"withAgent"`), a transition, or candidates tried in order. */
export type TransitionsDoc = string | TransitionDoc | Array<string | TransitionDoc>;

export interface InvokeDoc {
  id: string;
  src: string;
  input?: string;
  onDone?: TransitionsDoc;
  onError?: TransitionsDoc;
  description?: string;
}

export interface StateDoc {
  id?: string;
  description?: string;
  type?: 'atomic' | 'compound' | 'final';
  initial?: string;
  tags?: string[];
  entry?: ActionRef | ActionRef[];
  exit?: ActionRef | ActionRef[];
  on?: Record<string, TransitionsDoc>;
  always?: TransitionsDoc;
  invoke?: InvokeDoc | InvokeDoc[];
  states?: Record<string, StateDoc>;
  meta?: Record<string, unknown>;
}

export interface FlowDocument extends StateDoc {
  id: string;
}

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be a name (letters, digits, _)');
const namedRef = z.strictObject({ type: name, params: z.record(z.string(), z.unknown()).optional() });
const actionRef = z.union([name, namedRef]);
const actionRefs = z.union([actionRef, z.array(actionRef)]);
const target = z.string().min(1, 'a target may not be empty');
const meta = z.record(z.string(), z.unknown());

const transition = z.strictObject({
  target: z.union([target, z.array(target).min(1)]).optional(),
  guard: actionRef.optional(),
  actions: actionRefs.optional(),
  reenter: z.boolean().optional(),
  description: z.string().optional(),
  meta: meta.optional(),
});
const transitions = z.union([target, transition, z.array(z.union([target, transition]))]);

const invoke = z.strictObject({
  id: name,
  src: name,
  input: name.optional(),
  onDone: transitions.optional(),
  onError: transitions.optional(),
  description: z.string().optional(),
});

const stateShape = {
  id: name.optional(),
  description: z.string().optional(),
  type: z.enum(['atomic', 'compound', 'final']).optional(),
  initial: z.string().optional(),
  tags: z.array(z.string()).optional(),
  entry: actionRefs.optional(),
  exit: actionRefs.optional(),
  on: z.record(z.string(), transitions).optional(),
  always: transitions.optional(),
  invoke: z.union([invoke, z.array(invoke)]).optional(),
  get states(): z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodType<StateDoc>>> {
    return z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'a state name must be letters, digits or _'), stateSchema).optional();
  },
  meta: meta.optional(),
};

export const stateSchema: z.ZodType<StateDoc> = z.strictObject(stateShape);

export const flowDocumentSchema: z.ZodType<FlowDocument> = z.strictObject({ ...stateShape, id: name });
