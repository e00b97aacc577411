import type { z } from 'zod';
import {
  actionsAt, ancestorsOf, indexFlow, invokesOf, isDescendant, joinPath, moveOf, startOf, stateLabel, transitionsOf, type FlowGraph, type FlowState, type FlowStep, type FlowTransition,
} from './flowGraph';
import { flowDocumentSchema, type ActionRef, type FlowDocument, type GuardRef } from './flowSchema';
import { LOCALES, type CopyFile, type Locale } from './schemas';

/**
 * What the checks know about the registry a flow is written against (machines/flowRegistry.ts):
 * the names it may use and what each does that matters to a borrower's safety.
 */
export interface FlowCatalog {
  actions: Record<string, ActionInfo>;
  guards: Record<string, GuardInfo>;
  actors: Record<string, ActorInfo>;
  /** Names an invoke's `input` may use. */
  inputMappers: readonly string[];
  /** Every event the runtime sends the machine. */
  events: readonly string[];
  /** Events the borrower causes (a message): the ways they can move the conversation themselves. */
  borrowerEvents: readonly string[];
  /** The `id` of the state in which a person has the conversation. */
  handoffStateId: string;
}

type Params = Record<string, unknown>;

export interface ActionInfo {
  /** Its parameters; absent = it takes none. */
  params?: z.ZodType;
  /** It tells the borrower something about the debt (or who they are): only after identity. */
  discloses?: boolean | ((params: Params) => boolean);
  /** It makes the borrower verified, on a transition whose guard `verifies`. */
  verifies?: boolean;
  /** It makes the borrower unverified again (goodbye, session expired). */
  forgetsIdentity?: boolean;
  /** Copy keys its parameters name, which must exist in every locale. */
  copyKeys?: (params: Params) => string[];
}

export interface GuardInfo {
  params?: z.ZodType;
  /** True only when the identity check just succeeded. */
  verifies?: boolean;
  /** True only for a verified borrower. */
  requiresVerified?: boolean;
  /** Intents its parameters name, which the recogniser must know. */
  intents?: (params: Params) => string[];
}

export interface ActorInfo {
  /** It reads the borrower's account: invoking it before identity is a disclosure. */
  readsAccount?: boolean;
}

export interface FlowCheckResult {
  flow?: FlowDocument;
  problems: string[];
}

const refName = (r: ActionRef | GuardRef) => (typeof r === 'string' ? r : r.type);
const refParams = (r: ActionRef | GuardRef): Params => (typeof r === 'string' ? {} : (r.params ?? {}));

function zodPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : joinPath(acc, String(k))), '');
}

type Report = (at: string, reason: string) => void;

/** What every check works on: the flow as a graph, its resolvable transitions per state, and where to report. */
interface Checking {
  graph: FlowGraph;
  catalog: FlowCatalog;
  transitions: Map<FlowState, FlowTransition[]>;
  problem: Report;
}

/**
 * Checks a flow document against the registry and the copy files: its shape, every name it uses,
 * every target, and the conversation's safety rules (a way out of and a way to a person from every
 * state, nothing about the debt before identity). Pure: no I/O. Each problem names the file, the
 * path inside it and the reason: `flows/conversation.json: states.account.states.menu.on.MESSAGE[2].target: unknown state "accout"`.
 */
export function checkFlow(
  file: string,
  raw: unknown,
  catalog: FlowCatalog,
  copy?: Partial<Record<Locale, CopyFile>>,
  /** The intents the recogniser can return (NLU training); absent: not checked. */
  intents?: ReadonlySet<string>,
): FlowCheckResult {
  const parsed = flowDocumentSchema.safeParse(raw);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${file}: ${zodPath(i.path) || '(root)'}: ${i.message}`) };
  const flow = parsed.data;
  const problems: string[] = [];
  const problem: Report = (at, reason) => problems.push(`${file}: ${at || '(root)'}: ${reason}`);
  const graph = indexFlow(flow);
  for (const p of graph.problems) problem(p.at, p.reason);
  checkStructure(graph, problem);
  const checking: Checking = { graph, catalog, transitions: checkNames(graph, catalog, problem, copy, intents), problem };
  const reached = checkReachable(checking);
  checkWayOut(checking, reached);
  checkWayToPerson(checking, reached);
  checkNoDisclosureBeforeIdentity(checking);
  return { flow, problems };
}

/** Initial states and state types that agree with the child states. */
function checkStructure(graph: FlowGraph, problem: Report): void {
  for (const s of graph.states) {
    const compound = s.children.length > 0;
    if (s.doc.type === 'final' && compound) problem(joinPath(s.at, 'type'), 'a final state cannot have child states');
    if (s.doc.type === 'atomic' && compound) problem(joinPath(s.at, 'type'), 'an atomic state cannot have child states');
    if (s.doc.type === 'compound' && !compound) problem(joinPath(s.at, 'type'), 'a compound state needs child states');
    if (compound && s.doc.initial === undefined) problem(s.at, 'a state with child states needs "initial"');
    if (compound && s.doc.initial !== undefined && !s.children.some((c) => c.key === s.doc.initial)) {
      problem(joinPath(s.at, 'initial'), `unknown state "${s.doc.initial}" (child states: ${s.children.map((c) => c.key).join(', ')})`);
    }
    if (!compound && s.doc.initial !== undefined) problem(joinPath(s.at, 'initial'), 'a state without child states has no initial state');
  }
}

/**
 * Every name the flow uses: actions with their parameters and copy keys, guards with theirs and
 * their intents, events, actors and input mappers, targets; and busy states the turn can wait on.
 * Returns each state's transitions whose targets resolve (the others are reported).
 */
function checkNames(graph: FlowGraph, catalog: FlowCatalog, problem: Report, copy?: Partial<Record<Locale, CopyFile>>, intents?: ReadonlySet<string>): Map<FlowState, FlowTransition[]> {
  const copyLocales = LOCALES.filter((l) => copy?.[l] !== undefined);
  const checkParams = (kind: string, ref: ActionRef | GuardRef, info: { params?: z.ZodType }, at: string): boolean => {
    const given = typeof ref === 'string' ? undefined : ref.params;
    if (!info.params) {
      if (given && Object.keys(given).length > 0) problem(joinPath(at, 'params'), `${kind} "${refName(ref)}" takes no parameters`);
      return true;
    }
    const result = info.params.safeParse(given ?? {});
    if (result.success) return true;
    for (const issue of result.error.issues) problem(joinPath(joinPath(at, 'params'), zodPath(issue.path)), `${kind} "${refName(ref)}": ${issue.message}`);
    return false;
  };
  const checkAction = ({ action, at }: FlowStep) => {
    const ref = action as ActionRef;
    const info = catalog.actions[refName(ref)];
    if (!info) return problem(at, `unknown action "${refName(ref)}"`);
    if (!checkParams('action', ref, info, at) || !info.copyKeys) return;
    for (const key of info.copyKeys(refParams(ref))) {
      const missing = copyLocales.filter((l) => !Object.hasOwn(copy?.[l] as CopyFile, key));
      if (missing.length) problem(joinPath(at, 'params'), `copy key "${key}" does not exist in ${missing.map((l) => `copy/${l}.json`).join(', ')}`);
    }
  };
  const checkGuard = (guard: GuardRef, at: string) => {
    const info = catalog.guards[refName(guard)];
    if (!info) return problem(at, `unknown guard "${refName(guard)}"`);
    if (!checkParams('guard', guard, info, at) || !intents || !info.intents) return;
    // A misspelt intent is never recognised: the transition would silently never fire.
    for (const intent of info.intents(refParams(guard))) {
      if (!intents.has(intent)) problem(joinPath(at, 'params'), `unknown intent "${intent}" (the recogniser knows: ${[...intents].sort().join(', ')})`);
    }
  };

  const transitions = new Map<FlowState, FlowTransition[]>();
  for (const s of graph.states) {
    [...actionsAt(s.doc.entry, joinPath(s.at, 'entry')), ...actionsAt(s.doc.exit, joinPath(s.at, 'exit'))].forEach(checkAction);
    for (const event of Object.keys(s.doc.on ?? {})) {
      if (!catalog.events.includes(event)) problem(joinPath(s.at, `on.${event}`), `unknown event "${event}" (events: ${catalog.events.join(', ')})`);
    }
    for (const { inv, at } of invokesOf(s)) {
      if (!catalog.actors[inv.src]) problem(joinPath(at, 'src'), `unknown actor "${inv.src}"`);
      if (inv.input === undefined) problem(at, `"input" must name the input mapper that builds what "${inv.src}" is given`);
      else if (!catalog.inputMappers.includes(inv.input)) problem(joinPath(at, 'input'), `unknown input mapper "${inv.input}"`);
    }
    const own = transitionsOf(graph, s);
    for (const t of own) {
      for (const p of t.problems) problem(p.at, p.reason);
      if (t.doc.guard !== undefined) checkGuard(t.doc.guard, joinPath(t.at, 'guard'));
      actionsAt(t.doc.actions, joinPath(t.at, 'actions')).forEach(checkAction);
    }
    // A transition whose target did not resolve is reported above and left out of the graph.
    transitions.set(s, own.filter((t) => !t.problems.length));
    // The runtime waits while a state is tagged busy: only an invoked actor's result may end that.
    if (s.doc.tags?.includes('busy')) {
      const invokes = invokesOf(s);
      if (!invokes.length) problem(joinPath(s.at, 'tags'), 'a busy state needs an invoke (the turn waits for it)');
      for (const { inv, at } of invokes) {
        if (inv.onDone === undefined) problem(at, `a busy state needs "onDone" (the turn waits for "${inv.id}" to finish)`);
        if (inv.onError === undefined) problem(at, `a busy state needs "onError" (a failing "${inv.id}" would leave the turn waiting)`);
      }
    }
  }
  return transitions;
}

/** The transitions an active leaf state can take: its own first, then its enclosing states'. */
const available = (c: Checking, leaf: FlowState) => ancestorsOf(leaf).flatMap((s) => c.transitions.get(s) ?? []);

/** Reachable leaf states: everything some sequence of transitions enters, whatever the guards say. Reports the rest. */
function checkReachable(c: Checking): Set<FlowState> {
  const start = startOf(c.graph).leaf;
  const reachedLeaves = new Set<FlowState>([start]);
  for (const queue = [start]; queue.length; ) {
    const leaf = queue.shift() as FlowState;
    for (const t of available(c, leaf)) {
      const next = moveOf(c.graph, leaf, t).leaf;
      if (!reachedLeaves.has(next)) reachedLeaves.add(next), queue.push(next);
    }
  }
  const reached = new Set([...reachedLeaves].flatMap(ancestorsOf));
  for (const s of c.graph.states) {
    // Only the outermost unreachable state: its children are unreachable with it.
    if (!reached.has(s) && s.parent && reached.has(s.parent)) c.problem(s.at, `unreachable: no transition leads to ${stateLabel(s)}`);
  }
  // A compound state with a broken `initial` (reported already) is not a state to rest in.
  return new Set([...reachedLeaves].filter((s) => s.children.length === 0));
}

/**
 * A way out of every state. Machine-wide handlers on the root (signals, session expiry) apply
 * everywhere and would make every state look fine, so a state must be left by its own or its
 * enclosing states' transitions.
 */
function checkWayOut(c: Checking, reached: Set<FlowState>): void {
  for (const leaf of reached) {
    if (leaf.doc.type === 'final') continue;
    const ways = ancestorsOf(leaf).filter((s) => s !== c.graph.root).flatMap((s) => c.transitions.get(s) ?? []);
    if (!ways.some((t) => t.targets.length && moveOf(c.graph, leaf, t).leaf !== leaf)) {
      c.problem(leaf.at, `no way out: no transition of ${stateLabel(leaf)} (or of the states around it) leads to another state`);
    }
  }
}

/** A way to a person from every state: the borrower's messages (and what follows by itself) lead to the handoff. */
function checkWayToPerson(c: Checking, reached: Set<FlowState>): void {
  const { catalog } = c;
  const handoff = c.graph.byId.get(catalog.handoffStateId);
  if (!handoff) return c.problem('', `no state has id "${catalog.handoffStateId}": the flow needs a state where a person takes over`);
  const borrowerOrAutomatic = (t: FlowTransition) => catalog.borrowerEvents.includes(t.event) || t.event === 'always' || /^(done|error):/.test(t.event);
  const toPerson = new Set([...reached].filter((s) => s === handoff || isDescendant(s, handoff)));
  for (let changed = true; changed; ) {
    changed = false;
    for (const leaf of reached) {
      if (toPerson.has(leaf)) continue;
      if (available(c, leaf).some((t) => borrowerOrAutomatic(t) && toPerson.has(moveOf(c.graph, leaf, t).leaf))) toPerson.add(leaf), (changed = true);
    }
  }
  for (const leaf of reached) {
    if (!toPerson.has(leaf)) c.problem(leaf.at, `no way to a person: nothing the borrower says in ${stateLabel(leaf)} leads, even through other states, to #${catalog.handoffStateId}`);
  }
}

/**
 * Nothing about the debt before identity: follow every path, knowing whether the borrower is
 * verified, and flag each disclosing action, or actor reading the account, run while they are
 * not. Verified means: a guard that `verifies` let the transition through and an action that
 * `verifies` ran; an action that `forgetsIdentity` undoes it; a guard that `requiresVerified`
 * never lets an unverified borrower through.
 */
function checkNoDisclosureBeforeIdentity(c: Checking): void {
  const { catalog, graph } = c;
  const flagged = new Set<string>();
  const discloses = (ref: ActionRef) => {
    const d = catalog.actions[refName(ref)]?.discloses;
    return typeof d === 'function' ? d(refParams(ref)) : d === true;
  };
  /**
   * Runs the steps: whether the borrower is verified after them, and whether they disclosed (a
   * path is followed only up to its first disclosure, so one mistake is reported once, where it is).
   */
  const run = (steps: FlowStep[], verified: boolean, verifyingGuard: boolean, route: string[]): { verified: boolean; disclosed: boolean } => {
    const flag = (at: string, reason: string) => {
      if (!flagged.has(at)) flagged.add(at), c.problem(at, `can disclose a debt detail before identity: ${reason} (path: ${route.join(' → ')})`);
      return { verified, disclosed: true };
    };
    for (const step of steps) {
      if (step.actor !== undefined) {
        if (!verified && catalog.actors[step.actor]?.readsAccount) return flag(step.at, `actor "${step.actor}" reads the borrower's account while they are not verified`);
        continue;
      }
      const ref = step.action as ActionRef;
      const info = catalog.actions[refName(ref)];
      if (!verified && discloses(ref)) return flag(step.at, `action "${refName(ref)}" runs while the borrower is not verified`);
      if (info?.verifies && verifyingGuard) verified = true;
      if (info?.forgetsIdentity) verified = false;
    }
    return { verified, disclosed: false };
  };
  const start = startOf(graph);
  const startRoute = [stateLabel(start.leaf)];
  const started = run(start.steps, false, false, startRoute);
  const seen = new Set<string>([`${stateLabel(start.leaf)}|${started.verified}`]);
  for (const pending = started.disclosed ? [] : [{ leaf: start.leaf, verified: started.verified, route: startRoute }]; pending.length; ) {
    const { leaf, verified, route } = pending.shift()!;
    for (const t of available(c, leaf)) {
      const guard = t.doc.guard === undefined ? undefined : catalog.guards[refName(t.doc.guard)];
      if (!verified && guard?.requiresVerified) continue;
      const move = moveOf(graph, leaf, t);
      const nextRoute = [...route, `${t.event === 'always' ? '' : `${t.event} → `}${stateLabel(move.leaf)}`];
      const after = run(move.steps, verified, guard?.verifies === true, nextRoute);
      const key = `${stateLabel(move.leaf)}|${after.verified}`;
      if (!after.disclosed && !seen.has(key)) seen.add(key), pending.push({ leaf: move.leaf, verified: after.verified, route: nextRoute });
    }
  }
}
