import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DialogsError, defaultDialogsDir, loadDialogs } from '../../dialogs/loadDialogs';
import { renderCopy, CopyError } from '../../dialogs/copy';

/** dialogs/ is what staff edit: the shipped folder loads, and each kind of mistake is refused with file, path and reason. */
function brokenCopy(edit: (dir: string) => void): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialogs-'));
  fs.cpSync(defaultDialogsDir(), dir, { recursive: true });
  edit(dir);
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
const editJson = (dir: string, file: string, change: (json: any) => void) => {
  const full = path.join(dir, file);
  const json = JSON.parse(fs.readFileSync(full, 'utf8'));
  change(json);
  fs.writeFileSync(full, JSON.stringify(json));
};

test('the shipped dialogs load, with product standard as in the contract', () => {
  const d = loadDialogs();
  const s = d.products.standard!.penalty;
  expect([s.multiplier.toString(), s.capAnnual.toString(), s.dayBasis, s.compound, s.lateFee.toFixed(2)]).toEqual(['1.5', '0.24', 360, true, '0.00']);
  expect(Object.keys(d.products).length).toBeGreaterThan(1);
  expect(d.identity).toEqual({ maxFailedAttempts: 3, attemptWindowMinutes: 30, lockMinutes: 30, sessionIdleMinutes: 30 });
});

test('a key missing in one language', () => {
  const problems = brokenCopy((dir) => editJson(dir, 'copy/en.json', (j) => delete j['menu.prompt']));
  expect(problems).toEqual(['copy/en.json: menu.prompt: missing (it exists in zh-CN)']);
});

test('placeholders that differ between languages', () => {
  const problems = brokenCopy((dir) => editJson(dir, 'copy/en.json', (j) => (j['identity.verified'] = 'Hello, {nmae}!')));
  expect(problems[0]).toMatch(/^copy\/en\.json: identity\.verified: placeholders \{nmae\} differ/);
});

test('an empty message', () => {
  expect(brokenCopy((dir) => editJson(dir, 'copy/zh-CN.json', (j) => (j['menu.prompt'] = ''))).join('\n')).toContain('copy/zh-CN.json: menu.prompt: a message may not be empty');
});

test('a policy value out of range, and a rate written as a number', () => {
  const problems = brokenCopy((dir) =>
    editJson(dir, 'policy/products.json', (j) => {
      j.products.standard.penalty.capAnnual = '1.5';
      j.products.standard.penalty.multiplier = 1.5;
    }),
  );
  expect(problems).toEqual(
    expect.arrayContaining([
      'policy/products.json: products.standard.penalty.capAnnual: capAnnual must be between 0 and 1',
      expect.stringMatching(/^policy\/products\.json: products\.standard\.penalty\.multiplier: /),
    ]),
  );
});

test('the default product removed', () => {
  const problems = brokenCopy((dir) => editJson(dir, 'policy/products.json', (j) => delete j.products.standard));
  expect(problems.join('\n')).toContain('the default product "standard" must be defined');
});

test('a file that is not JSON', () => {
  const problems = brokenCopy((dir) => fs.writeFileSync(path.join(dir, 'policy/identity.json'), '{ maxFailedAttempts: 3'));
  expect(problems[0]).toMatch(/^policy\/identity\.json: /);
});

test('rendering refuses a missing key or value instead of sending a blank', () => {
  const { copy } = loadDialogs();
  expect(() => renderCopy(copy, 'en', 'no.such.key')).toThrow(CopyError);
  expect(() => renderCopy(copy, 'en', 'identity.verified')).toThrow(/needs a value for \{name\}/);
  expect(renderCopy(copy, 'en', 'identity.verified', { name: 'Ann' })).toContain('Ann');
});

test('no message a borrower reads has an amount written into it: every number comes from the engine', () => {
  const { copy } = loadDialogs();
  for (const locale of ['zh-CN', 'en'] as const) {
    for (const [key, text] of Object.entries(copy[locale])) {
      expect({ key, amounts: text.match(/[¥￥]\s*\d|\d+\.\d{2}(?!\d)|\d+\s*(元|块|yuan)/g) ?? [] }).toEqual({ key, amounts: [] });
    }
  }
});
