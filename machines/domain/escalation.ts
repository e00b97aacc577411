import type { EscalationRule } from '../../dialogs/escalationSchema';

/**
 * Escalation rules read on every message (dialogs/escalation/rules.json): pure phrase matching,
 * Chinese as substrings, English as whole words, an 'unless' list for the near misses.
 */
export interface EscalationSignal {
  rule: string;
  priority: number;
  /** How many matching messages it takes (anger: twice in a conversation). */
  times: number;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matcher(p: { 'zh-CN': string[]; en: string[] }): (text: string) => boolean {
  const zh = p['zh-CN'].map((s) => s.normalize('NFKC').toLowerCase());
  const en = p.en.length ? new RegExp(`(?<![a-z])(?:${p.en.map((s) => escapeRegExp(s.toLowerCase())).join('|')})(?![a-z])`) : null;
  return (text) => zh.some((s) => text.includes(s)) || (en?.test(text) ?? false);
}

export type EscalationEvaluator = (text: string) => EscalationSignal[];

/** Every rule the message matches, highest priority first. */
export function createEscalationEvaluator(rules: readonly EscalationRule[]): EscalationEvaluator {
  const compiled = rules.map((r) => ({ rule: r, fires: matcher(r.phrases), excused: matcher(r.unless) }));
  return (raw) => {
    const text = raw.normalize('NFKC').toLowerCase();
    return compiled
      .filter((c) => c.fires(text) && !c.excused(text))
      .map((c) => ({ rule: c.rule.id, priority: c.rule.priority, times: c.rule.times ?? 1 }))
      .sort((a, b) => b.priority - a.priority);
  };
}
