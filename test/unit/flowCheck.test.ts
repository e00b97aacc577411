import { getStateNodes } from '@xstate/graph';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFlow } from '../../dialogs/flowCheck';
import { flowToMermaid } from '../../dialogs/flowMermaid';
import type { FlowDocument } from '../../dialogs/flowSchema';
import { DialogsError, defaultDialogsDir, loadDialogs } from '../../dialogs/loadDialogs';
import { buildConversationMachine, conversationMachine, flowVersionOf, shippedConversationFlow } from '../../machines/conversationMachine';
import { conversationCatalog, conversationSetup, initialContext, inputMappers } from '../../machines/flowRegistry';
import { checkDialogsDir } from '../../scripts/dialogsCheck';
import { writeFlowDiagrams } from '../../scripts/dialogsGraph';

/**
 * The flow checks (dialogs/flowCheck.ts): the shipped flow passes, and each kind of mistake in a
 * copy of it is refused with the file, the JSON path inside it and the reason.
 */
const FILE = 'flows/conversation.json';
const { copy } = loadDialogs();

/** Problems of a changed copy of the shipped flow. */
function problemsAfter(edit: (flow: any) => void, copyFiles = copy): string[] {
  const flow = structuredClone(shippedConversationFlow);
  edit(flow);
  return checkFlow(FILE, flow, conversationCatalog, copyFiles).problems;
}
const intentIs = (intent: string) => ({ type: 'intentIs', params: { intent } });

test('the shipped flow passes every check', () => {
  const result = checkFlow(FILE, shippedConversationFlow, conversationCatalog, copy);
  expect(result.problems).toEqual([]);
  expect(result.flow).toEqual(shippedConversationFlow);
});

test('the registry describes exactly the actions, guards, actors and input mappers it implements', () => {
  const { implementations } = conversationSetup.createMachine({ context: initialContext });
  expect(Object.keys(conversationCatalog.actions).sort()).toEqual(Object.keys(implementations.actions).sort());
  expect(Object.keys(conversationCatalog.guards).sort()).toEqual(Object.keys(implementations.guards).sort());
  expect(Object.keys(conversationCatalog.actors).sort()).toEqual(Object.keys(implementations.actors).sort());
  expect([...conversationCatalog.inputMappers].sort()).toEqual(Object.keys(inputMappers).sort());
});

test('an unknown guard', () => {
  expect(problemsAfter((f) => (f.states.account.states.menu.on.MESSAGE[2].guard = 'hasAtachment'))).toEqual([
    `${FILE}: states.account.states.menu.on.MESSAGE[2].guard: unknown guard "hasAtachment"`,
  ]);
});

test('unknown actions, actors, input mappers and events', () => {
  const problems = problemsAfter((f) => {
    f.states.identity.states.collecting.on.MESSAGE[3].actions[0] = 'askForMisingIdentity';
    f.states.account.states.loading.invoke.src = 'loadAcount';
    f.states.account.states.loading.invoke.input = 'borowerInput';
    f.states.handoff.on.HANDOFF_RESOLVD = f.states.handoff.on.HANDOFF_RESOLVED;
  });
  expect(problems).toEqual(
    expect.arrayContaining([
      `${FILE}: states.identity.states.collecting.on.MESSAGE[3].actions[0]: unknown action "askForMisingIdentity"`,
      `${FILE}: states.account.states.loading.invoke.src: unknown actor "loadAcount"`,
      `${FILE}: states.account.states.loading.invoke.input: unknown input mapper "borowerInput"`,
      expect.stringMatching(/^flows\/conversation\.json: states\.handoff\.on\.HANDOFF_RESOLVD: unknown event "HANDOFF_RESOLVD" \(events: MESSAGE, /),
    ]),
  );
});

test('parameters a guard or action does not take, or lacks', () => {
  const problems = problemsAfter((f) => {
    f.states.account.states.menu.on.MESSAGE[4].guard = { type: 'intentIs', params: { intnt: 'amountDue' } };
    f.states.account.states.menu.on.MESSAGE[5].actions = [{ type: 'sayHelp', params: { key: 'help.menu' } }];
  });
  expect(problems).toEqual([
    `${FILE}: states.account.states.menu.on.MESSAGE[4].guard.params.intent: guard "intentIs": Invalid input: expected string, received undefined`,
    `${FILE}: states.account.states.menu.on.MESSAGE[5].actions[0].params: action "sayHelp" takes no parameters`,
  ]);
});

test('an intent the recogniser does not know (the transition would never fire)', () => {
  const { nlu, keywords } = loadDialogs();
  const intents = new Set([...Object.keys(nlu.training['zh-CN']), ...Object.keys(nlu.training.en), ...Object.keys(keywords.intents)]);
  expect(checkFlow(FILE, shippedConversationFlow, conversationCatalog, copy, intents).problems).toEqual([]);
  const flow = structuredClone(shippedConversationFlow) as any;
  flow.states.account.states.menu.on.MESSAGE[4].guard = intentIs('amountDeu');
  flow.states.account.states.menu.on.MESSAGE[6].guard.params.intents = ['whyMuch', 'rateQuestoin'];
  const problems = checkFlow(FILE, flow, conversationCatalog, copy, intents).problems;
  expect(problems).toEqual([
    expect.stringMatching(/^flows\/conversation\.json: states\.account\.states\.menu\.on\.MESSAGE\[4\]\.guard\.params: unknown intent "amountDeu" \(the recogniser knows: .*amountDue/),
    expect.stringMatching(/^flows\/conversation\.json: states\.account\.states\.menu\.on\.MESSAGE\[6\]\.guard\.params: unknown intent "rateQuestoin" /),
  ]);
});

test('an unknown transition target', () => {
  expect(problemsAfter((f) => (f.states.account.states.menu.on.MESSAGE[2].target = 'accout.plan'))).toEqual([
    `${FILE}: states.account.states.menu.on.MESSAGE[2].target: unknown state "accout.plan" (no state "accout" next to account.menu)`,
  ]);
  expect(problemsAfter((f) => (f.states.account.states.menu.on.MESSAGE[2].target = '#account.plan.quoteing'))).toEqual([
    `${FILE}: states.account.states.menu.on.MESSAGE[2].target: unknown state "#account.plan.quoteing" (account.plan has no child state "quoteing")`,
  ]);
});

test('an unreachable state', () => {
  expect(problemsAfter((f) => (f.states.account.states.archived = { on: { MESSAGE: { target: 'menu' } } }))).toEqual([
    `${FILE}: states.account.states.archived: unreachable: no transition leads to account.archived`,
  ]);
});

test('a state with no way out', () => {
  const problems = problemsAfter((f) => {
    f.states.account.states.stuck = { on: { MESSAGE: { actions: ['sayHelp'] } } };
    f.states.account.states.menu.on.MESSAGE.unshift({ guard: intentIs('skip'), target: 'stuck' });
  });
  expect(problems).toContain(`${FILE}: states.account.states.stuck: no way out: no transition of account.stuck (or of the states around it) leads to another state`);
});

test('states with no way to a person', () => {
  // Two states that lead only to each other: a way out, but never to a person.
  const problems = problemsAfter((f) => {
    f.states.account.states.loopA = { on: { MESSAGE: { target: 'loopB' } } };
    f.states.account.states.loopB = { on: { MESSAGE: { target: 'loopA' } } };
    f.states.account.states.menu.on.MESSAGE.unshift({ guard: intentIs('skip'), target: 'loopA' });
  });
  expect(problems).toEqual([
    `${FILE}: states.account.states.loopA: no way to a person: nothing the borrower says in account.loopA leads, even through other states, to #handoff`,
    `${FILE}: states.account.states.loopB: no way to a person: nothing the borrower says in account.loopB leads, even through other states, to #handoff`,
  ]);
});

test('the handoff state missing altogether', () => {
  const problems = problemsAfter((f) => delete f.states.handoff.id);
  expect(problems).toContain(`${FILE}: (root): no state has id "handoff": the flow needs a state where a person takes over`);
});

test('a path that discloses a debt detail before identity', () => {
  // A shortcut from the identity questions to the account.
  const shortcut = problemsAfter((f) => f.states.identity.states.collecting.on.MESSAGE.splice(2, 0, { guard: intentIs('amountDue'), target: '#account' }));
  expect(shortcut).toEqual([
    `${FILE}: states.account.states.loading.invoke.src: can disclose a debt detail before identity: actor "loadAccount" reads the borrower's account while they are not verified (path: identity.collecting → MESSAGE → account.loading)`,
  ]);
  // An explanation of the penalty in answer to a message before identity.
  const early = problemsAfter((f) => f.states.identity.states.collecting.on.MESSAGE[8].actions.push('sayPenaltyExplanation'));
  expect(early).toEqual([
    `${FILE}: states.identity.states.collecting.on.MESSAGE[8].actions[2]: can disclose a debt detail before identity: action "sayPenaltyExplanation" runs while the borrower is not verified (path: identity.collecting → MESSAGE → identity.collecting)`,
  ]);
  // The check's answer taken as success without the guard that says it succeeded.
  const unguarded = problemsAfter((f) => delete f.states.identity.states.checking.invoke.onDone[0].guard);
  expect(unguarded[0]).toMatch(/^flows\/conversation\.json: states\.identity\.states\.checking\.invoke\.onDone\[0\]\.actions\[4\]: can disclose a debt detail before identity: action "sayVerified"/);
  // A message about the account by key, through the generic `say`.
  const byKey = problemsAfter((f) => (f.states.identity.states.collecting.on.MESSAGE[8].actions[0].params.key = 'account.summaryFailed'));
  expect(byKey).toEqual([expect.stringContaining(`${FILE}: states.identity.states.collecting.on.MESSAGE[8].actions[0]: can disclose a debt detail before identity: action "say"`)]);
});

test('a copy key that does not exist in every locale', () => {
  expect(problemsAfter((f) => (f.states.identity.states.collecting.on.MESSAGE[8].actions[0].params.key = 'identity.verifyFrist'))).toEqual([
    `${FILE}: states.identity.states.collecting.on.MESSAGE[8].actions[0].params: copy key "identity.verifyFrist" does not exist in copy/zh-CN.json, copy/en.json`,
  ]);
  const { ['handoff.waitExceeded']: _dropped, ...en } = copy.en;
  expect(problemsAfter(() => {}, { ...copy, en })).toEqual([
    `${FILE}: states.handoff.states.waiting.on.HANDOFF_WAIT_EXCEEDED.actions[0].params: copy key "handoff.waitExceeded" does not exist in copy/en.json`,
  ]);
  // Suggested actions are titled by `actions.<intent>` and escalations answered by `escalation.<rule>`.
  const problems = problemsAfter((f) => {
    f.states.handoff.states.waiting.on.HANDOFF_WAIT_EXCEEDED.actions[0].params.actions = ['complaint', 'callMeBack'];
    f.states.account.states.options.states.loading.invoke.onDone[0].actions[0].params.rule = 'tooLate';
  });
  expect(problems).toEqual([
    `${FILE}: states.account.states.options.states.loading.invoke.onDone[0].actions[0].params: copy key "escalation.tooLate" does not exist in copy/zh-CN.json, copy/en.json`,
    `${FILE}: states.handoff.states.waiting.on.HANDOFF_WAIT_EXCEEDED.actions[0].params: copy key "actions.callMeBack" does not exist in copy/zh-CN.json, copy/en.json`,
  ]);
});

test('a busy state the turn would wait on for ever', () => {
  expect(problemsAfter((f) => delete f.states.account.states.consequences.invoke.onError)).toEqual([
    `${FILE}: states.account.states.consequences.invoke: a busy state needs "onError" (a failing "explainConsequences" would leave the turn waiting)`,
  ]);
});

test('the document shape: unknown keys, a missing initial state, what the runtime does not support', () => {
  expect(problemsAfter((f) => (f.states.account.states.menu.guards = []))).toEqual([`${FILE}: states.account.states.menu: Unrecognized key: "guards"`]);
  expect(problemsAfter((f) => (f.states.account.initial = 'start'))).toEqual([
    expect.stringMatching(/^flows\/conversation\.json: states\.account\.initial: unknown state "start" \(child states: loading, menu, /),
  ]);
  expect(problemsAfter((f) => (f.states.handoff.type = 'parallel'))[0]).toMatch(/^flows\/conversation\.json: states\.handoff\.type: /);
  expect(checkFlow(FILE, [], conversationCatalog, copy).problems).toEqual([`${FILE}: (root): Invalid input: expected object, received array`]);
});

test('a broken flow stops loading dialogs/ like any other dialogs error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flows-'));
  try {
    fs.cpSync(defaultDialogsDir(), dir, { recursive: true });
    const flow = JSON.parse(fs.readFileSync(path.join(dir, FILE), 'utf8'));
    flow.states.account.states.menu.on.MESSAGE[2].target = 'accout.plan';
    fs.writeFileSync(path.join(dir, FILE), JSON.stringify(flow));
    expect(() => loadDialogs(dir)).toThrow(DialogsError);
    const lines: string[] = [];
    expect(checkDialogsDir(dir, (l) => lines.push(l), (l) => lines.push(l))).toBe(1);
    expect(lines[0]).toBe(`${FILE}: states.account.states.menu.on.MESSAGE[2].target: unknown state "accout.plan" (no state "accout" next to account.menu)`);
    fs.writeFileSync(path.join(dir, FILE), '{ "id": ');
    expect(() => loadDialogs(dir)).toThrow(/flows\/conversation\.json: \(root\): not valid JSON/);
    fs.rmSync(path.join(dir, FILE));
    expect(() => loadDialogs(dir)).toThrow(/flows\/conversation\.json: \(root\): the file is missing/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped dialogs check OK in one line, and expose the flow', () => {
  const lines: string[] = [];
  expect(checkDialogsDir(defaultDialogsDir(), (l) => lines.push(`problem ${l}`), (l) => lines.push(l))).toBe(0);
  expect(lines).toEqual([expect.stringMatching(/^.*dialogs\/: OK \(2 locales × \d+ messages, .*1 flow with \d+ states\)$/)]);
  expect(loadDialogs().flows.conversation).toEqual(shippedConversationFlow);
});

test('the machine is built from the flow document, and its version is the hash of the document', () => {
  expect(JSON.parse(JSON.stringify(conversationMachine.config))).toEqual({ ...shippedConversationFlow, context: 'initialContext' });
  const changed: FlowDocument = structuredClone(shippedConversationFlow);
  changed.description = 'reworded';
  expect(flowVersionOf(changed)).not.toBe(flowVersionOf(shippedConversationFlow));
  expect(buildConversationMachine(changed).root.description).toBe('reworded');
  expect(flowVersionOf(shippedConversationFlow)).toMatch(/^[0-9a-f]{16}$/);
});

test('the Mermaid diagram shows every state and where each leads', () => {
  const text = flowToMermaid(shippedConversationFlow);
  expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
  const leaves = getStateNodes(conversationMachine.root).filter((n) => n.type === 'atomic');
  expect(leaves.length).toBeGreaterThan(20);
  for (const node of leaves) expect(text).toContain(`state "${node.path.join('.')}" as ${node.path.join('__')}`);
  expect(text).toContain('[*] --> identity__collecting');
  expect(text).toContain('identity__checking --> account__loading : checkIdentity done if checkVerified');
  expect(text).toContain('account__menu --> handoff__routing : MESSAGE if escalationPending');
  // A draft with a broken target still draws (the studio shows it while staff fix it), without that arrow.
  const draft = structuredClone(shippedConversationFlow) as any;
  draft.states.account.states.menu.on.MESSAGE[4].target = 'accout';
  expect(flowToMermaid(draft)).toContain('state "account.menu" as account__menu');
  // Every line is a statement Mermaid knows: a header, a comment, a state, a description or an arrow.
  for (const line of text.trimEnd().split('\n').slice(1)) {
    expect(line).toMatch(/^ {2}(%% .*|state "[^"]+" as \w+|\w+ : [^:;#]+|(\[\*\]|\w+) --> (\[\*\]|\w+)( : [^:;#]+)?)$/);
  }
});

test('npm run dialogs:graph writes each flow as a .mmd file', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-'));
  try {
    const files = writeFlowDiagrams(defaultDialogsDir(), out);
    expect(files).toEqual([path.join(out, 'conversation.mmd')]);
    expect(fs.readFileSync(files[0]!, 'utf8')).toBe(flowToMermaid(shippedConversationFlow));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('docs/flows/conversation.mmd shows the shipped flow (regenerate with npm run dialogs:graph)', () => {
  const file = path.join(path.dirname(defaultDialogsDir()), 'docs', 'flows', 'conversation.mmd');
  expect(fs.readFileSync(file, 'utf8')).toBe(flowToMermaid(shippedConversationFlow));
});
