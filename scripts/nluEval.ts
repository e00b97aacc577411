/**
 * `npm run nlu:eval`: trains the recognizer on dialogs/nlu/training.*.json and scores the whole
 * recognizer (buttons, entities, classifier, keywords: what the bot really runs) on the held-out
 * dialogs/nlu/test.*.json, per language: accuracy, precision / recall / F1 per intent and the most
 * frequent confusions. Writes the figures into docs/nlu-eval.md between its markers, keeping the
 * hand-written text around them. Exits 1 when a language is below 90% or a held-out phrase is
 * also a training phrase (the score would then measure memory, not understanding).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultDialogsDir, loadDialogs, type Dialogs } from '../dialogs/loadDialogs';
import { LOCALES, type Locale } from '../dialogs/schemas';
import { normalizeForClassifier } from '../machines/recognition/classifier';
import { createRecognizer, type Recognizer } from '../machines/recognition/recognizer';

export const REQUIRED_ACCURACY = 0.9;
/** A fixed clock, so dates in the phrases ("下个月15号") resolve the same on every run. */
export const EVAL_CONTEXT = { now: new Date('2026-11-20T02:00:00Z'), timeZone: 'Asia/Shanghai' };

export interface IntentRow {
  intent: string;
  support: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface Confusion {
  expected: string;
  got: string;
  count: number;
  examples: string[];
}

export interface LanguageReport {
  locale: Locale;
  total: number;
  correct: number;
  accuracy: number;
  intents: IntentRow[];
  confusions: Confusion[];
}

/** Held-out phrases that the classifier would see exactly as a training phrase (same after normalisation). */
export function overlaps(dialogs: Dialogs): Array<{ locale: Locale; phrase: string }> {
  const trained = new Set(LOCALES.flatMap((l) => Object.values(dialogs.nlu.training[l]).flat().map(normalizeForClassifier)));
  return LOCALES.flatMap((locale) =>
    Object.values(dialogs.nlu.test[locale])
      .flat()
      .filter((p) => trained.has(normalizeForClassifier(p)))
      .map((phrase) => ({ locale, phrase })),
  );
}

export function evaluateLanguage(recognizer: Recognizer, locale: Locale, test: Record<string, string[]>): LanguageReport {
  const pairs = Object.entries(test).flatMap(([expected, phrases]) => phrases.map((phrase) => ({ expected, phrase, got: recognizer(phrase, EVAL_CONTEXT).intent })));
  const intents = [...new Set(pairs.flatMap((p) => [p.expected, p.got]))].sort();
  const rows = intents.map((intent) => {
    const truePositives = pairs.filter((p) => p.expected === intent && p.got === intent).length;
    const predicted = pairs.filter((p) => p.got === intent).length;
    const support = pairs.filter((p) => p.expected === intent).length;
    const precision = predicted ? truePositives / predicted : 0;
    const recall = support ? truePositives / support : 0;
    return { intent, support, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
  });
  const confusions = new Map<string, Confusion>();
  for (const p of pairs.filter((q) => q.expected !== q.got)) {
    const key = `${p.expected}→${p.got}`;
    const c = confusions.get(key) ?? { expected: p.expected, got: p.got, count: 0, examples: [] };
    c.count++;
    c.examples.push(p.phrase);
    confusions.set(key, c);
  }
  const correct = pairs.filter((p) => p.expected === p.got).length;
  return {
    locale,
    total: pairs.length,
    correct,
    accuracy: correct / pairs.length,
    intents: rows,
    confusions: [...confusions.values()].sort((a, b) => b.count - a.count || a.expected.localeCompare(b.expected)),
  };
}

export interface Evaluation {
  reports: LanguageReport[];
  trainingMs: number;
  classifyMs: number;
  overlaps: Array<{ locale: Locale; phrase: string }>;
}

export function evaluate(dialogs: Dialogs): Evaluation {
  const started = performance.now();
  const recognizer = createRecognizer(dialogs.keywords, dialogs.copy, dialogs.nlu.training);
  const trainingMs = performance.now() - started;
  const phrases = LOCALES.flatMap((l) => Object.values(dialogs.nlu.test[l]).flat());
  const timed = performance.now();
  for (const p of phrases) recognizer(p, EVAL_CONTEXT);
  const classifyMs = (performance.now() - timed) / phrases.length;
  return { reports: LOCALES.map((l) => evaluateLanguage(recognizer, l, dialogs.nlu.test[l])), trainingMs, classifyMs, overlaps: overlaps(dialogs) };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function renderReport(e: Evaluation, date: string): string {
  const lines = [
    `Figures of ${date} (\`npm run nlu:eval\`, the whole recognizer on the held-out phrases; clock ${EVAL_CONTEXT.now.toISOString()}, ${EVAL_CONTEXT.timeZone}).`,
    '',
    '| language | held-out phrases | correct | accuracy |',
    '|---|---|---|---|',
    ...e.reports.map((r) => `| ${r.locale} | ${r.total} | ${r.correct} | **${pct(r.accuracy)}** |`),
    '',
    `Training on every training phrase: ${e.trainingMs.toFixed(0)} ms at start-up; recognition: ${e.classifyMs.toFixed(3)} ms a message on average.`,
  ];
  for (const r of e.reports) {
    lines.push('', `### ${r.locale}`, '', '| intent | held-out | precision | recall | F1 |', '|---|---|---|---|---|');
    for (const row of r.intents) lines.push(`| ${row.intent} | ${row.support} | ${pct(row.precision)} | ${pct(row.recall)} | ${row.f1.toFixed(2)} |`);
    lines.push('', 'Confusions (expected → recognized):', '');
    if (r.confusions.length === 0) lines.push('- none');
    for (const c of r.confusions.slice(0, 12)) lines.push(`- ${c.expected} → ${c.got} (${c.count}): ${c.examples.slice(0, 3).map((x) => `“${x}”`).join(', ')}`);
  }
  return lines.join('\n');
}

const START = '<!-- nlu:eval:start -->';
const END = '<!-- nlu:eval:end -->';

/** Replaces the figures between the markers; the rest of the document is written by hand. */
export function spliceReport(document: string, report: string): string {
  const at = document.indexOf(START);
  const end = document.indexOf(END);
  if (at < 0 || end < at) return `${document.trimEnd()}\n\n${START}\n${report}\n${END}\n`;
  return `${document.slice(0, at + START.length)}\n${report}\n${document.slice(end)}`;
}

function main(): number {
  const dialogs = loadDialogs();
  const e = evaluate(dialogs);
  for (const o of e.overlaps) console.error(`nlu/test.${o.locale}.json: "${o.phrase}" is also a training phrase`);
  for (const r of e.reports) {
    console.log(`${r.locale}: ${pct(r.accuracy)} (${r.correct}/${r.total})`);
    for (const c of r.confusions.slice(0, 5)) console.log(`  ${c.expected} → ${c.got} ×${c.count}: ${c.examples.slice(0, 2).join(' | ')}`);
  }
  console.log(`training ${e.trainingMs.toFixed(0)} ms, ${e.classifyMs.toFixed(3)} ms a message`);
  const file = path.join(path.dirname(defaultDialogsDir()), 'docs', 'nlu-eval.md');
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Intent recognition: evaluation\n';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, spliceReport(existing, renderReport(e, new Date().toISOString().slice(0, 10))));
  console.log(`written to ${path.relative(process.cwd(), file)}`);
  const failing = e.reports.filter((r) => r.accuracy < REQUIRED_ACCURACY);
  for (const r of failing) console.error(`${r.locale}: ${pct(r.accuracy)} is below ${pct(REQUIRED_ACCURACY)}`);
  return failing.length > 0 || e.overlaps.length > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
