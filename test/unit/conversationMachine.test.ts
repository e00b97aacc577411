import { getShortestPaths, getStateNodes } from '@xstate/graph';
import { createActor, fromPromise, type SnapshotFrom } from 'xstate';
import { conversationMachine, type ConversationContext } from '../../machines/conversationMachine';
import type {
  AccountSummary, ConversationEvent, Emitted, IdentityCheckResult, MessageEvent, OptionsView, PenaltyExplanation, PlanQuoteResult, Reply,
} from '../../machines/conversationTypes';

/**
 * The conversation flow's graph (@xstate/graph): every reachable state, reached by its shortest
 * path and replayed on a real actor, then every event from it. Checking each edge of the graph is
 * checking every path for the rules that hold step by step: nothing about the debt before identity,
 * a way to a person from every state that reads messages.
 */
const NOW = '2026-11-22T02:00:00.000Z';
const msg = (intent: string, identity: Partial<MessageEvent['identity']> = {}): MessageEvent => ({
  type: 'MESSAGE', text: intent, intent, identity: { invalid: [], ...identity }, now: NOW,
});
const FULL = { phone: '13800138001', idLast4: '1234', birthDate: '1990-01-01' };
const done = (id: string, output: unknown) => ({ type: `xstate.done.actor.${id}`, output }) as unknown as ConversationEvent;
const summary: AccountSummary = {
  today: '2026-11-22', hasLoans: true, total: '1,152.60', penalty: '19.00', compound: '3.60', lateFees: '0.00', maxDaysOverdue: 30,
  overdue: [{ loanId: 'DL01', number: 1, dueDate: '2026-10-23', days: 30, amount: '1,152.60' }],
};
const verified: IdentityCheckResult = { outcome: 'verified', borrower: { id: 'D01', name: '张伟', locale: 'zh-CN' }, attemptKeys: ['phone:x', 'conversation:c'] };
const mismatch: IdentityCheckResult = { outcome: 'mismatch', attemptsLeft: 2, attemptKeys: ['phone:x', 'conversation:c'], lockMinutes: 30 };
const lockNow: IdentityCheckResult = { ...mismatch, attemptsLeft: 0, lockUntil: '2026-11-22T02:30:00.000Z', untilLocal: '2026-11-22 10:30' };
const locked: IdentityCheckResult = { outcome: 'locked', until: '2026-11-22T02:30:00.000Z', untilLocal: '2026-11-22 10:30' };

const explanation: PenaltyExplanation = {
  today: '2026-11-22', total: '1,152.60', penalty: '19.00', compound: '3.60', lateFees: '0.00', anyCapApplied: true, penaltyPlusCompound: '22.60', dailyGrowth: '0.75', maxDays: 30,
  lines: [{ loanId: 'DL01', number: 1, dueDate: '2026-10-23', days: 30, principal: '950.00', interest: '180.00', annualRate: '18', multiplier: '1.5', cap: '24', penaltyRate: '24', capApplied: true, dayBasis: 360, compoundOn: true, penalty: '19.00', compound: '3.60', lateFee: '0.00', total: '1,152.60' }],
};
const optionsView = (beyondSelfService: boolean): OptionsView => ({
  today: '2026-11-22', total: '1,152.60', maxDays: 30, beyondSelfService, selfServiceMaxDays: 180,
  options: [{ kind: 'installments', offered: true, reasons: [] }, { kind: 'extension', offered: false, reasons: [{ code: 'tooLongOverdue', limit: '90' }] }],
  installments: { counts: [3, 6, 12], example: { count: 3, amount: '384.20', firstDate: '2026-12-22' } },
  extension: { maxDays: 30, maxDate: '2026-12-22', amountAtMax: '2,316.86' },
  waiver: { waiver: '11.30', payAmount: '1,141.30', payBy: '2026-11-25', sharePercent: '50' },
  promise: { maxAmount: '1,152.60', lastDate: '2026-11-29' },
});
const quote: PlanQuoteResult = {
  status: 'quote',
  quote: { reference: 'AG-TEST0001', kind: 'installments', quotedAt: NOW, loanIds: ['DL01'], amount: '1152.60', count: 3, currentTotal: '1152.60', schedule: [{ number: 1, dueDate: '2026-12-22', amount: '384.20' }] },
};

const signals = (intent: string, rules: Array<[string, number, number]> = [], agentsAvailable = true): ConversationEvent => ({
  type: 'SIGNALS', intent, confidence: 1, signals: rules.map(([rule, priority, times]) => ({ rule, priority, times })), agentsAvailable,
  priorities: { explicitRequest: 40, identityLockout: 45, notUnderstood: 30, beyondPolicy: 45, beyondSelfService: 50 }, expectedWaitMinutes: 5,
});

const EVENTS: ConversationEvent[] = [
  signals('none'), signals('human'), signals('human', [], false), signals('none', [['selfHarm', 100, 1]]), signals('none', [['abuse', 60, 2]]),
  { type: 'HANDOFF_ACCEPTED', agent: 'a1' }, { type: 'HANDOFF_RESOLVED' },
  msg('none'), msg('greeting'), msg('goodbye'), msg('human'), msg('amountDue'), msg('explainPenalty'), msg('whyMuch'), msg('help'),
  msg('repaymentOptions'), msg('installments'), msg('promise'), msg('yes'), msg('no'), msg('skip'), msg('consequences'),
  { ...msg('hardship'), hardship: 'job_loss' }, { ...msg('none'), count: 6 }, { ...msg('none'), date: '2026-12-10' }, { ...msg('none'), amount: '500.00' },
  msg('identify', { phone: FULL.phone }), msg('identify', FULL), msg('identify', { invalid: ['phone'] }),
  { ...msg('none'), now: '2026-11-22T03:00:00.000Z' }, // after a lock expired
  { type: 'SESSION_EXPIRED', idleMinutes: 30 },
  done('checkIdentity', verified), done('checkIdentity', mismatch), done('checkIdentity', lockNow), done('checkIdentity', locked),
  done('loadAccount', summary), done('explainPenalty', explanation), done('explainConsequences', explanation),
  done('quoteOptions', optionsView(false)), done('quoteOptions', optionsView(true)),
  done('quotePlan', quote), done('quotePlan', { status: 'needs', field: 'count', counts: [3, 6, 12] }), done('quotePlan', { status: 'needs', field: 'date', lastDate: '2026-12-22' }),
  done('quotePlan', { status: 'needs', field: 'amount', maxAmount: '1,152.60' }), done('quotePlan', { status: 'refused', problem: 'dateTooLate', limit: '2026-12-22' }),
  done('quotePlan', { status: 'notOffered', kind: 'extension', reasons: [{ code: 'tooLongOverdue', limit: '90' }] }),
  done('quotePlan', { status: 'beyondSelfService', maxDays: 180 }),
  msg('alreadyPaid'), msg('complaint'), msg('complaintStatus'), { ...msg('complaint'), category: 'privacy' },
  { ...msg('none'), attachment: { contentUrl: 'data:image/png;base64,AAAA' } },
  { ...msg('none'), amount: '1500.00', pastDate: '2026-11-21', method: 'alipay', reference: 'TX123456' },
  { ...msg('none'), text: '催收员天天打电话给我家人' },
  done('receiveAttachment', { status: 'stored', file: { sha256: 'a'.repeat(64), fileType: 'image/png', size: 10 } }),
  done('receiveAttachment', { status: 'refused', reason: 'unsupportedType' }), done('receiveAttachment', { status: 'duplicate', receipt: 'PP-AAAA2222' }),
  done('checkProof', { status: 'new', receipt: 'PP-BBBB3333' }), done('checkProof', { status: 'duplicate', receipt: 'PP-AAAA2222' }),
  done('prepareComplaint', { ticket: 'CP-CCCC4444', dueDate: '2026-12-07', severity: 'normal' }),
  done('prepareComplaint', { ticket: 'CP-DDDD5555', dueDate: '2026-12-07', severity: 'high' }),
  done('loadComplaints', [{ ticket: 'CP-CCCC4444', category: 'service', status: 'received', dueDate: '2026-12-07' }]), done('quotePlan', { status: 'promised', reference: 'AG-X', amount: '500.00', date: '2026-11-28', maxAmount: '1,152.60' }),
];

/** Invoked actors never settle here: the paths deliver their results as done events. */
const pending = fromPromise(() => new Promise<never>(() => {}));
const machine = conversationMachine.provide({
  actors: Object.fromEntries(
    ['checkIdentity', 'loadAccount', 'explainPenalty', 'quoteOptions', 'quotePlan', 'receiveAttachment', 'checkProof', 'prepareComplaint', 'loadComplaints'].map((a) => [a, pending]),
  ) as never,
});
type Snap = SnapshotFrom<typeof conversationMachine>;

/**
 * States that differ only in details the flow does not branch on are one node of the graph: a
 * finer key multiplies the graph (and the test time) without reaching new behaviour.
 */
const serialize = (s: Snap) => {
  const c = s.context;
  return JSON.stringify([
    s.value, Boolean(c.borrower), Object.keys(c.pending).length, Boolean(c.lockedUntil), c.welcomed, c.hardship !== undefined,
    Boolean(c.penalty), Boolean(c.proof), Object.keys(c.complaint ?? {}).length, Boolean(c.handoff),
  ]);
};

const paths = getShortestPaths(machine, { events: EVENTS, input: { conversationId: 'c', now: NOW }, serializeState: serialize as never });

function replay(events: ConversationEvent[]) {
  const actor = createActor(machine, { input: { conversationId: 'c', now: NOW } });
  const steps: Array<{ before: ConversationContext; event: ConversationEvent; emitted: Emitted[] }> = [];
  let current: Emitted[] = [];
  actor.on('*', (e) => current.push(e as Emitted));
  actor.start();
  for (const event of events) {
    const before = actor.getSnapshot().context;
    current = [];
    actor.send(event);
    steps.push({ before, event, emitted: current });
  }
  return { actor, steps };
}

const DISCLOSING = /^(account\.|penalty\.|options\.|plan\.|proof\.|complaint\.|outcome\.|info\.consequences|identity\.verified$)/;
const replyKeys = (emitted: Emitted[]) => emitted.filter((e): e is Reply => e.type === 'reply').flatMap((r) => r.parts.map((p) => p.key));

/** A state node's path as a state value: ['account', 'menu'] → {"account":"menu"}. */
const valueOf = (path: readonly string[]) => JSON.stringify(path.reduceRight<unknown>((acc, key) => (acc === undefined ? key : { [key]: acc }), undefined));

test('the graph covers every state of the flow', () => {
  const seen = new Set(paths.map((p) => JSON.stringify(p.state.value)));
  // Transient states (only `always` transitions) are passed through, never rested in.
  const all = getStateNodes(machine.root).filter((node) => node.type === 'atomic' && !node.always?.length).map((node) => valueOf(node.path));
  expect(all.length).toBeGreaterThan(10);
  for (const v of all.map((j) => JSON.parse(j))) {
    expect(seen).toContain(JSON.stringify(v));
  }
  expect(paths.length).toBeGreaterThan(20);
});

const busyStates = new Set(getStateNodes(machine.root).filter((node) => node.tags.includes('busy')).map((node) => valueOf(node.path)));

/** The persisted snapshot at the end of each reachable state's shortest path. */
const reached = paths.map((p) => {
  const { actor } = replay(p.steps.map((s) => s.event as ConversationEvent));
  const snapshot = actor.getPersistedSnapshot();
  actor.stop();
  return { value: p.state.value, snapshot, verified: p.state.context.borrower !== undefined };
});

/** One event from a stored snapshot, as a turn does it: what was emitted, and the context before. */
function step(snapshot: unknown, ...events: ConversationEvent[]) {
  const actor = createActor(machine, { input: { conversationId: 'c', now: NOW }, snapshot: snapshot as never });
  const emitted: Emitted[] = [];
  actor.on('*', (e) => emitted.push(e as Emitted));
  actor.start();
  const before = actor.getSnapshot().context;
  for (const event of events) actor.send(event);
  const after = actor.getSnapshot();
  const persisted = actor.getPersistedSnapshot();
  actor.stop();
  return { before, emitted, after, persisted };
}

test('no edge discloses anything about the debt before identity is verified', () => {
  let edges = 0;
  // Only states where nobody is verified can disclose too early.
  for (const { value, snapshot } of reached.filter((r) => !r.verified)) {
    for (const event of EVENTS) {
      const { before, emitted } = step(snapshot, event);
      edges++;
      if (before.borrower) continue;
      const isVerification = (event.type as string) === 'xstate.done.actor.checkIdentity' && (event as unknown as { output: IdentityCheckResult }).output.outcome === 'verified';
      if (isVerification) continue;
      const leaked = replyKeys(emitted).filter((k) => DISCLOSING.test(k));
      expect({ value, event: event.type, leaked }).toEqual({ value, event: event.type, leaked: [] });
      // before verification no reply carries a value from the account: only attempts and lock times
      const params = emitted.filter((e): e is Reply => e.type === 'reply').flatMap((r) => r.parts.flatMap((p) => Object.keys(p.params ?? {})));
      expect(params.filter((p) => !['attemptsLeft', 'until', 'minutes'].includes(p))).toEqual([]);
    }
  }
  expect(edges).toBeGreaterThan(10 * EVENTS.length);
});

test('from every state that reads messages, asking for a person gets one (or already has one)', () => {
  let checked = 0;
  for (const { value, snapshot } of reached) {
    if (busyStates.has(JSON.stringify(value))) continue; // a turn never ends while work is pending
    const { after, emitted } = step(snapshot, signals('human'), msg('human'));
    expect({ value, now: after.value }).toEqual({ value, now: expect.objectContaining({ handoff: expect.any(String) }) });
    if (!JSON.stringify(value).includes('handoff')) expect(replyKeys(emitted).some((k) => k.startsWith('escalation.'))).toBe(true);
    checked++;
  }
  expect(checked).toBeGreaterThan(10);
});

test('while a person has the conversation the bot says nothing, except to answer a crisis at once', () => {
  const inHandoff = reached.filter((r) => JSON.stringify(r.value).includes('handoff'));
  expect(inHandoff.length).toBeGreaterThan(0);
  for (const { snapshot } of inHandoff) {
    expect(replyKeys(step(snapshot, signals('none'), msg('none')).emitted)).toEqual([]);
    expect(replyKeys(step(snapshot, signals('amountDue'), msg('amountDue')).emitted)).toEqual([]);
    expect(replyKeys(step(snapshot, signals('none', [['selfHarm', 100, 1]]), msg('none')).emitted)).toEqual(['escalation.selfHarm']);
  }
});

test('anger counts across the conversation: the second angry message goes to a person', () => {
  const menu = reached.find((r) => JSON.stringify(r.value) === JSON.stringify({ account: 'menu' }))!;
  const once = step(menu.snapshot, signals('none', [['abuse', 60, 2]]), msg('none'));
  expect(once.after.value).toEqual({ account: 'menu' });
  const twice = step(once.persisted, signals('none', [['abuse', 60, 2]]), msg('none'));
  expect(twice.after.value).toEqual({ handoff: 'waiting' });
  expect(replyKeys(twice.emitted)).toEqual(['escalation.abuse', 'handoff.queued']);
});

test('a turn never ends in a busy state without work in flight: every busy state has onDone and onError', () => {
  const busy = getStateNodes(machine.root).filter((n) => n.tags.includes('busy'));
  expect(busy.length).toBeGreaterThan(0);
  for (const node of busy) {
    const invoke = node.invoke[0];
    expect(invoke).toBeDefined();
    expect(node.transitions.has(`xstate.done.actor.${invoke!.id}`)).toBe(true);
    expect(node.transitions.has(`xstate.error.actor.${invoke!.id}`)).toBe(true);
  }
});

describe('transitions', () => {
  test('details are collected across messages and checked when complete', () => {
    const { actor } = replay([msg('identify', { phone: FULL.phone }), msg('identify', { idLast4: '1234' }), msg('identify', { birthDate: '1990-01-01' })]);
    expect(actor.getSnapshot().value).toEqual({ identity: 'checking' });
    expect(actor.getSnapshot().context.pending).toEqual(FULL);
  });

  test('the next missing detail is what the bot asks for, and remembered as the context', () => {
    const { steps, actor } = replay([msg('identify', { phone: FULL.phone })]);
    expect(replyKeys(steps[0]!.emitted)).toEqual(['identity.askIdLast4']);
    expect(actor.getSnapshot().context.expecting).toBe('idLast4');
  });

  test('a mismatch clears the details and records the attempt; a lock records the lock', () => {
    const { steps, actor } = replay([msg('identify', FULL), done('checkIdentity', mismatch), msg('identify', FULL), done('checkIdentity', lockNow)]);
    expect(actor.getSnapshot().value).toEqual({ identity: 'locked' });
    const records = steps.flatMap((s) => s.emitted.filter((e) => e.type === 'record').map((e) => (e.type === 'record' ? e.record.kind : '')));
    expect(records).toEqual(['identityAttempt', 'identityAttempt', 'identityLock']);
  });

  test('after the lock expires, the message is handled as a fresh start', () => {
    const { actor } = replay([msg('identify', FULL), done('checkIdentity', lockNow), { ...msg('identify', FULL), now: '2026-11-22T03:00:00.000Z' }]);
    expect(actor.getSnapshot().value).toEqual({ identity: 'checking' });
  });

  test('goodbye forgets the borrower', () => {
    const { actor } = replay([msg('identify', FULL), done('checkIdentity', verified), done('loadAccount', summary), msg('goodbye')]);
    expect(actor.getSnapshot().value).toEqual({ identity: 'collecting' });
    expect(actor.getSnapshot().context.borrower).toBeUndefined();
  });
});
