import { ancestorsOf, indexFlow, invokesOf, moveOf, startOf, stateLabel, transitionsOf, type FlowState, type FlowTransition } from './flowGraph';
import type { FlowDocument, GuardRef } from './flowSchema';

/** How many reasons an arrow lists before "+N more": one arrow per pair of states keeps the diagram legible. */
const MAX_LABELS = 3;

/** Mermaid reads `:`, `;`, `#`, quotes and braces as syntax; in a label they become spaces. */
const clean = (text: string) => text.replace(/[:;#"{}<>|]/g, ' ').replace(/\s+/g, ' ').trim();

/** A unique Mermaid id: the path joined by `__`, with a `_` inside a name written `_1` so the two never mix. */
const nodeId = (s: FlowState) => s.path.map((name) => name.replace(/_/g, '_1')).join('__') || 'flow_root';

function guardText(guard: GuardRef | undefined): string {
  if (guard === undefined) return '';
  if (typeof guard === 'string') return guard;
  const values = Object.values(guard.params ?? {}).map((v) => (Array.isArray(v) ? v.join(', ') : String(v)));
  return values.length ? `${guard.type}(${values.join(', ')})` : guard.type;
}

function edgeText(t: FlowTransition): string {
  const event = t.event === 'always' ? '' : t.event.replace(/^done:(.*)$/, '$1 done').replace(/^error:(.*)$/, '$1 failed');
  const guard = guardText(t.doc.guard);
  return clean([event, guard && `if ${guard}`].filter(Boolean).join(' ')) || 'always';
}

/**
 * A flow as a Mermaid state diagram (stateDiagram-v2), for `npm run dialogs:graph` and the studio.
 * Every state where the conversation can rest is a node named by its full path
 * ("account.penalty.loading"); an arrow is every way from one to another, including what the
 * enclosing states handle for it, labelled with the event and guard. Pure.
 */
export function flowToMermaid(flow: FlowDocument): string {
  const graph = indexFlow(flow);
  const leaves = graph.states.filter((s) => s.children.length === 0);
  const own = new Map(graph.states.map((s) => [s, transitionsOf(graph, s).filter((t) => !t.problems.length && t.targets.length)]));
  const lines = ['stateDiagram-v2'];
  if (flow.description) lines.push(`  %% ${flow.description.replace(/\n/g, ' ')}`);
  for (const leaf of leaves) {
    lines.push(`  state "${stateLabel(leaf).replace(/"/g, "'")}" as ${nodeId(leaf)}`);
    const actors = invokesOf(leaf).map(({ inv }) => inv.src);
    if (actors.length) lines.push(`  ${nodeId(leaf)} : ${clean(`invokes ${actors.join(', ')}`)}`);
  }
  lines.push(`  [*] --> ${nodeId(startOf(graph).leaf)}`);
  for (const leaf of leaves) {
    const arrows = new Map<FlowState, string[]>();
    for (const t of ancestorsOf(leaf).flatMap((s) => own.get(s) ?? [])) {
      const to = moveOf(graph, leaf, t).leaf;
      const labels = arrows.get(to) ?? [];
      const text = edgeText(t);
      if (!labels.includes(text)) labels.push(text);
      arrows.set(to, labels);
    }
    for (const [to, labels] of arrows) {
      const shown = labels.slice(0, MAX_LABELS).join(', ') + (labels.length > MAX_LABELS ? `, +${labels.length - MAX_LABELS} more` : '');
      lines.push(`  ${nodeId(leaf)} --> ${nodeId(to)} : ${shown}`);
    }
    if (leaf.doc.type === 'final') lines.push(`  ${nodeId(leaf)} --> [*]`);
  }
  return `${lines.join('\n')}\n`;
}
