import type { ActionRef, FlowDocument, InvokeDoc, StateDoc, TransitionDoc, TransitionsDoc } from './flowSchema';

/**
 * A flow document as a graph: its states, its transitions with their targets resolved as XState
 * resolves them, and what taking a transition exits and enters. Shared by the checks
 * (flowCheck.ts) and the diagrams (flowMermaid.ts). Pure.
 */
export interface FlowState {
  key: string;
  /** Names from the root: ['account', 'menu']. */
  path: string[];
  /** Where it is in the file: `states.account.states.menu` ('' for the root). */
  at: string;
  doc: StateDoc;
  parent?: FlowState;
  children: FlowState[];
}

export interface FlowTransition {
  source: FlowState;
  /** The event name; `always`, `done:<invoke id>` or `error:<invoke id>` for the automatic ones. */
  event: string;
  at: string;
  doc: TransitionDoc;
  /** Resolved targets (empty: a transition that stays); unresolvable ones are in `problems`. */
  targets: FlowState[];
  problems: Array<{ at: string; reason: string }>;
}

/** Something a transition runs, in order: an action, or an actor a state entered invokes. */
export interface FlowStep {
  action?: ActionRef;
  actor?: string;
  at: string;
}

export interface FlowGraph {
  flow: FlowDocument;
  root: FlowState;
  states: FlowState[];
  byId: Map<string, FlowState>;
  /** Ids used twice. */
  problems: Array<{ at: string; reason: string }>;
}

export const joinPath = (base: string, key: string) => (base ? `${base}.${key}` : key);
export const stateLabel = (s: FlowState) => (s.path.length ? s.path.join('.') : '(root)');
export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function indexFlow(flow: FlowDocument): FlowGraph {
  const states: FlowState[] = [];
  const byId = new Map<string, FlowState>();
  const problems: FlowGraph['problems'] = [];
  const walk = (key: string, doc: StateDoc, parent: FlowState | undefined, at: string): FlowState => {
    const info: FlowState = { key, path: parent ? [...parent.path, key] : [], at, doc, parent, children: [] };
    states.push(info);
    parent?.children.push(info);
    const id = parent ? doc.id : flow.id;
    if (id !== undefined) {
      const other = byId.get(id);
      if (other) problems.push({ at: joinPath(at, 'id'), reason: `id "${id}" is already used by ${stateLabel(other)}` });
      else byId.set(id, info);
    }
    for (const [childKey, child] of Object.entries(doc.states ?? {})) walk(childKey, child, info, joinPath(at, `states.${childKey}`));
    return info;
  };
  const root = walk(flow.id, flow, undefined, '');
  return { flow, root, states, byId, problems };
}

export const initialChild = (s: FlowState) => s.children.find((c) => c.key === s.doc.initial);

export function isDescendant(s: FlowState, ancestor: FlowState): boolean {
  for (let p = s.parent; p; p = p.parent) if (p === ancestor) return true;
  return false;
}

/** The state itself, then its parent, up to the root. */
export function ancestorsOf(s: FlowState): FlowState[] {
  const list: FlowState[] = [];
  for (let p: FlowState | undefined = s; p; p = p.parent) list.push(p);
  return list;
}

/** The states entered below a state when it is entered: its initial child, that one's, … */
export function initialChain(s: FlowState): FlowState[] {
  const chain: FlowState[] = [];
  for (let c = initialChild(s); c; c = initialChild(c)) chain.push(c);
  return chain;
}

/** XState's target syntax: `#id.child`, `.child` (of the source) or `sibling.child`. A string is the reason it fails. */
export function resolveTarget(graph: FlowGraph, source: FlowState, target: string): FlowState | string {
  let start: FlowState | undefined;
  let rest: string[];
  if (target.startsWith('#')) {
    const [id, ...more] = target.slice(1).split('.');
    start = graph.byId.get(id ?? '');
    if (!start) return `unknown state "${target}" (no state has id "${id}")`;
    rest = more;
  } else if (target.startsWith('.')) {
    start = source;
    rest = target.slice(1).split('.');
  } else {
    if (!source.parent) return `unknown state "${target}" (the root has no siblings; use "#${graph.flow.id}.${target}" or ".${target}")`;
    const [first, ...more] = target.split('.');
    start = source.parent.children.find((c) => c.key === first);
    if (!start) return `unknown state "${target}" (no state "${first}" next to ${stateLabel(source)})`;
    rest = more;
  }
  let node: FlowState = start;
  for (const part of rest) {
    const next = node.children.find((c) => c.key === part);
    if (!next) return `unknown state "${target}" (${stateLabel(node)} has no child state "${part}")`;
    node = next;
  }
  return node;
}

export const invokesOf = (s: FlowState): Array<{ inv: InvokeDoc; at: string }> =>
  asArray(s.doc.invoke).map((inv, i) => ({ inv, at: Array.isArray(s.doc.invoke) ? joinPath(s.at, `invoke[${i}]`) : joinPath(s.at, 'invoke') }));

export const actionsAt = (refs: ActionRef | ActionRef[] | undefined, at: string): FlowStep[] =>
  Array.isArray(refs) ? refs.map((action, i) => ({ action, at: `${at}[${i}]` })) : refs === undefined ? [] : [{ action: refs, at }];

function transitionList(graph: FlowGraph, source: FlowState, event: string, docs: TransitionsDoc, at: string): FlowTransition[] {
  const candidates = Array.isArray(docs) ? docs.map((d, i) => [d, `${at}[${i}]`] as const) : [[docs, at] as const];
  return candidates.map(([d, tAt]) => {
    const doc: TransitionDoc = typeof d === 'string' ? { target: d } : d;
    const t: FlowTransition = { source, event, at: tAt, doc, targets: [], problems: [] };
    const targets = asArray(doc.target);
    if (targets.length > 1) t.problems.push({ at: joinPath(tAt, 'target'), reason: 'one target per transition (parallel states are not supported)' });
    targets.forEach((target, i) => {
      const where = typeof d === 'string' ? tAt : Array.isArray(doc.target) ? `${tAt}.target[${i}]` : joinPath(tAt, 'target');
      const resolved = resolveTarget(graph, source, target);
      if (typeof resolved === 'string') t.problems.push({ at: where, reason: resolved });
      else t.targets.push(resolved);
    });
    return t;
  });
}

/** A state's own transitions: its events, `always`, and its invokes' results, in document order. */
export function transitionsOf(graph: FlowGraph, s: FlowState): FlowTransition[] {
  const list: FlowTransition[] = [];
  for (const [event, docs] of Object.entries(s.doc.on ?? {})) list.push(...transitionList(graph, s, event, docs, joinPath(s.at, `on.${event}`)));
  if (s.doc.always !== undefined) list.push(...transitionList(graph, s, 'always', s.doc.always, joinPath(s.at, 'always')));
  for (const { inv, at } of invokesOf(s)) {
    if (inv.onDone !== undefined) list.push(...transitionList(graph, s, `done:${inv.id}`, inv.onDone, joinPath(at, 'onDone')));
    if (inv.onError !== undefined) list.push(...transitionList(graph, s, `error:${inv.id}`, inv.onError, joinPath(at, 'onError')));
  }
  return list;
}

/** Where a transition leads from an active leaf state, and what runs on the way, in XState's order. */
export interface FlowMove {
  leaf: FlowState;
  steps: FlowStep[];
}

export function moveOf(graph: FlowGraph, leaf: FlowState, t: FlowTransition): FlowMove {
  const target = t.targets[0];
  if (!target) return { leaf, steps: actionsAt(t.doc.actions, joinPath(t.at, 'actions')) };
  // The transition's domain: the source itself when the target is inside it (and it is not re-entered),
  // otherwise the nearest state enclosing both.
  const domain = !t.doc.reenter && (target === t.source || isDescendant(target, t.source))
    ? t.source
    : (ancestorsOf(target).slice(1).find((a) => isDescendant(t.source, a)) ?? graph.root);
  const steps: FlowStep[] = [];
  for (let s: FlowState | undefined = leaf; s && s !== domain; s = s.parent) steps.push(...actionsAt(s.doc.exit, joinPath(s.at, 'exit')));
  steps.push(...actionsAt(t.doc.actions, joinPath(t.at, 'actions')));
  const entered = ancestorsOf(target).filter((a) => a !== domain && isDescendant(a, domain)).reverse();
  entered.push(...initialChain(target));
  for (const s of entered) {
    steps.push(...actionsAt(s.doc.entry, joinPath(s.at, 'entry')));
    for (const { inv, at } of invokesOf(s)) steps.push({ actor: inv.src, at: joinPath(at, 'src') });
  }
  const last = entered[entered.length - 1];
  return { leaf: last ?? (target.children.length ? leaf : target), steps };
}

/** What starting the flow enters: the root and its initial states, with their entry actions and invokes. */
export function startOf(graph: FlowGraph): FlowMove {
  const entered = [graph.root, ...initialChain(graph.root)];
  const steps = entered.flatMap((s) => [...actionsAt(s.doc.entry, joinPath(s.at, 'entry')), ...invokesOf(s).map(({ inv, at }) => ({ actor: inv.src, at: joinPath(at, 'src') }))]);
  return { leaf: entered[entered.length - 1] as FlowState, steps };
}
