import { loadDialogs } from '../../dialogs/loadDialogs';
import { createEscalationEvaluator } from '../../machines/domain/escalation';

/** Every rule fires on each of its phrases in both languages, and on none of its documented near misses. */
const { escalation: rules } = loadDialogs();
const evaluate = createEscalationEvaluator(rules);
const fired = (text: string) => evaluate(text).map((s) => s.rule);

describe.each(rules.map((r) => [r.id, r] as const))('%s', (id, rule) => {
  test.each([...rule.phrases['zh-CN'].map((p) => `我说${p}了`), ...rule.phrases.en.map((p) => `well ${p} ok`)])('fires on "%s"', (text) => {
    expect(fired(text)).toContain(id);
  });

  test.each([...rule.nearMisses['zh-CN'], ...rule.nearMisses.en])('does not fire on the near miss "%s"', (text) => {
    expect(fired(text)).not.toContain(id);
  });

  test('has near misses documented in both languages', () => {
    expect(rule.nearMisses['zh-CN'].length + rule.nearMisses.en.length).toBeGreaterThanOrEqual(2);
  });
});

test('the examples from the issue', () => {
  expect(fired('I am not angry')).toEqual([]);
  expect(fired('律师说我可以分期')).toEqual([]);
  expect(fired('我要去法院起诉你们')).toContain('legalThreat');
  expect(fired('我不想活了')[0]).toBe('selfHarm');
  expect(fired('这笔钱不是我借的')).toContain('dispute');
  expect(fired('我妈住院了 暂时还不上')).toContain('vulnerability');
});

test('the highest priority comes first', () => {
  expect(fired('你们这些骗子 我不想活了')).toEqual(['selfHarm', 'abuse']);
});
