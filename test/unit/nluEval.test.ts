import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DialogsError, defaultDialogsDir, loadDialogs } from '../../dialogs/loadDialogs';
import { evaluate, evaluateLanguage, REQUIRED_ACCURACY, spliceReport } from '../../scripts/nluEval';

/** `npm run nlu:eval` as a test: CI fails when recognition falls below 90% in either language. */
test('the whole recognizer reaches 90% on the held-out phrases, in both languages', () => {
  const e = evaluate(loadDialogs());
  expect(e.overlaps).toEqual([]);
  expect(e.reports.map((r) => r.locale)).toEqual(['zh-CN', 'en']);
  for (const r of e.reports) expect(r.total).toBeGreaterThan(400);
  // Lists the failing language and its figure, should one fail.
  expect(e.reports.filter((r) => r.accuracy < REQUIRED_ACCURACY).map((r) => `${r.locale}: ${(100 * r.accuracy).toFixed(1)}%`)).toEqual([]);
});

test('precision, recall, F1 and confusions are counted as defined', () => {
  const answers: Record<string, string> = { a1: 'a', a2: 'a', a3: 'b', b1: 'b', c1: 'a' };
  const report = evaluateLanguage((text) => ({ intent: answers[text] ?? 'none', confidence: 1, entities: { identity: { invalid: [], spans: [] } } }), 'en', {
    a: ['a1', 'a2', 'a3'],
    b: ['b1'],
    c: ['c1'],
  });
  expect([report.correct, report.total]).toEqual([3, 5]);
  const a = report.intents.find((i) => i.intent === 'a')!;
  // a: 2 of the 3 "a" answers are right (precision 2/3), 2 of the 3 a-phrases found (recall 2/3)
  expect([a.support, a.precision, a.recall, a.f1]).toEqual([3, 2 / 3, 2 / 3, 2 / 3]);
  expect(report.intents.find((i) => i.intent === 'c')).toMatchObject({ precision: 0, recall: 0, f1: 0 });
  expect(report.confusions.map((c) => [c.expected, c.got, c.count])).toEqual([
    ['a', 'b', 1],
    ['c', 'a', 1],
  ]);
});

test('the report replaces only the figures between its markers', () => {
  const doc = '# Title\n\nhand-written\n\n<!-- nlu:eval:start -->\nold figures\n<!-- nlu:eval:end -->\n\nmore text\n';
  expect(spliceReport(doc, 'new figures')).toBe('# Title\n\nhand-written\n\n<!-- nlu:eval:start -->\nnew figures\n<!-- nlu:eval:end -->\n\nmore text\n');
  expect(spliceReport('# Title\n', 'figures')).toBe('# Title\n\n<!-- nlu:eval:start -->\nfigures\n<!-- nlu:eval:end -->\n');
});

describe('the phrase files are checked when dialogs/ loads', () => {
  function problemsAfter(file: string, change: (json: Record<string, string[]>) => void): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialogs-'));
    fs.cpSync(defaultDialogsDir(), dir, { recursive: true });
    const full = path.join(dir, file);
    const json = JSON.parse(fs.readFileSync(full, 'utf8'));
    change(json);
    fs.writeFileSync(full, JSON.stringify(json));
    try {
      loadDialogs(dir);
      return [];
    } catch (e) {
      expect(e).toBeInstanceOf(DialogsError);
      return (e as DialogsError).problems;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('a phrase listed under two intents', () => {
    expect(problemsAfter('nlu/training.zh-CN.json', (j) => j.yes!.push('转人工'))).toEqual([
      expect.stringMatching(/^nlu\/training\.zh-CN\.json: yes\.\d+: "转人工" is already listed under human$/),
    ]);
  });

  test('a held-out intent the training does not know', () => {
    expect(problemsAfter('nlu/test.en.json', (j) => (j.payLater = ['pay later please']))).toEqual(['nlu/test.en.json: payLater: no such intent in nlu/training.en.json']);
  });

  test('no off-topic intent', () => {
    expect(problemsAfter('nlu/training.en.json', (j) => delete j.none)).toEqual([
      'nlu/training.en.json: none: missing (off-topic phrases the bot should not act on)',
      'nlu/test.en.json: none: no such intent in nlu/training.en.json',
    ]);
  });

  test('an empty phrase and a badly named intent', () => {
    expect(problemsAfter('nlu/training.en.json', (j) => j.yes!.push(' '))).toEqual([expect.stringMatching(/^nlu\/training\.en\.json: yes\.\d+: a phrase may not be empty$/)]);
    expect(problemsAfter('nlu/training.en.json', (j) => (j['pay-later'] = ['pay later']))).toEqual(['nlu/training.en.json: pay-later: intent names are camelCase letters, e.g. "amountDue"']);
  });
});
