import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { checkCopy } from './copy';
import { escalationFileSchema, type EscalationRule } from './escalationSchema';
import { parseFlows, type DialogFlows } from './loadFlows';
import {
  handoffPolicySchema,
  type HandoffPolicy,
  contactPolicySchema,
  copyFileSchema,
  identityPolicySchema,
  intentPhrasesFileSchema,
  keywordsFileSchema,
  lenderSchema,
  LOCALES,
  productsFileSchema,
  type CopyFile,
  type IdentityPolicy,
  type IntentPhrases,
  type Keywords,
  type Lender,
  type Locale,
  type ProductsFile,
} from './schemas';
import type { ContactPolicy } from '../machines/domain/contactRules';

export interface Dialogs {
  copy: Record<Locale, CopyFile>;
  products: ProductsFile['products'];
  hardshipOrder: ProductsFile['hardshipOrder'];
  identity: IdentityPolicy;
  lender: Lender;
  keywords: Keywords;
  escalation: EscalationRule[];
  handoff: HandoffPolicy;
  /** Quiet hours and caps for proactive messages. */
  contact: ContactPolicy;
  /** Phrases per intent and language: what the classifier trains on, and the held-out set it is scored on. */
  nlu: { training: Record<Locale, IntentPhrases>; test: Record<Locale, IntentPhrases> };
  /** Flows (dialogs/flows/*.json), checked against their registry (machines/flowRegistry.ts). */
  flows: DialogFlows;
}

/**
 * The JSON files of dialogs/, parsed, keyed by their path relative to dialogs/ with forward
 * slashes ("copy/zh-CN.json"). The same shape comes from disk and from a published version in
 * the database, so both go through the same checks.
 */
export type DialogFiles = Record<string, unknown>;

/** A file on disk that is not JSON: kept in the file set so parseDialogs reports it with the rest. */
export class UnparsableFile {
  constructor(readonly reason: string) {}
}

/** One problem: the file, the path inside it ("products.standard.penalty.capAnnual", "" for the whole file) and why. */
export interface DialogProblem {
  file: string;
  path: string;
  reason: string;
}

/**
 * Problems are written as "file: path: reason" (file and path never contain ": "), so they read
 * well in a terminal and split back into their parts for the studio.
 */
export function formatProblem(p: DialogProblem): string {
  return `${p.file}: ${p.path || '(root)'}: ${p.reason}`;
}

export function splitProblem(text: string): DialogProblem {
  const first = text.indexOf(': ');
  if (first < 0) return { file: '', path: '', reason: text };
  const file = text.slice(0, first);
  const rest = text.slice(first + 2);
  const second = rest.indexOf(': ');
  if (second < 0) return { file, path: '', reason: rest };
  const where = rest.slice(0, second);
  return { file, path: where === '(root)' ? '' : where, reason: rest.slice(second + 2) };
}

/** Every problem found, each naming the file, the path inside it and the reason. */
export class DialogsError extends Error {
  constructor(readonly problems: string[]) {
    super(`dialogs/ has ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }

  /** The problems split into file, path and reason. */
  get details(): DialogProblem[] {
    return this.problems.map(splitProblem);
  }
}

/** The folder the project ships; compiled code lives in dist/, so walk up to find it. */
export function defaultDialogsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'dialogs', 'copy');
    if (fs.existsSync(candidate) && fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dialogs');
    if (path.dirname(dir) === dir) throw new Error('cannot find the dialogs/ folder');
  }
}

/** Reads every *.json under dir (recursively); a file that is not JSON becomes an UnparsableFile. */
export function readDialogFiles(dir: string = defaultDialogsDir()): DialogFiles {
  const files: DialogFiles = {};
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile() && entry.name.endsWith('.json')) {
        try {
          files[rel] = JSON.parse(fs.readFileSync(path.join(dir, rel), 'utf8'));
        } catch (e) {
          files[rel] = new UnparsableFile(`not valid JSON: ${(e as Error).message}`);
        }
      }
    }
  };
  walk('');
  return files;
}

function take<S extends z.ZodType>(files: DialogFiles, file: string, schema: S, problems: string[]): z.output<S> | undefined {
  const raw = files[file];
  if (raw === undefined) {
    problems.push(formatProblem({ file, path: '', reason: 'the file is missing' }));
    return undefined;
  }
  if (raw instanceof UnparsableFile) {
    problems.push(formatProblem({ file, path: '', reason: raw.reason }));
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(formatProblem({ file, path: issue.path.join('.'), reason: issue.message }));
    return undefined;
  }
  return parsed.data;
}

/** Checks parsed dialog files (from disk or a draft); throws a DialogsError listing every problem. */
export function parseDialogs(files: DialogFiles): Dialogs {
  const problems: string[] = [];
  const copy = {} as Record<Locale, CopyFile>;
  for (const locale of LOCALES) {
    const file = take(files, `copy/${locale}.json`, copyFileSchema, problems);
    if (file) copy[locale] = file;
  }
  const products = take(files, 'policy/products.json', productsFileSchema, problems);
  const identity = take(files, 'policy/identity.json', identityPolicySchema, problems);
  const lender = take(files, 'lender.json', lenderSchema, problems);
  const keywords = take(files, 'nlu/keywords.json', keywordsFileSchema, problems);
  const escalation = take(files, 'escalation/rules.json', escalationFileSchema, problems);
  const handoff = take(files, 'policy/handoff.json', handoffPolicySchema, problems);
  const contact = take(files, 'policy/contact.json', contactPolicySchema, problems);
  const nlu = { training: {} as Record<Locale, IntentPhrases>, test: {} as Record<Locale, IntentPhrases> };
  for (const locale of LOCALES) {
    const training = take(files, `nlu/training.${locale}.json`, intentPhrasesFileSchema, problems);
    const test = take(files, `nlu/test.${locale}.json`, intentPhrasesFileSchema, problems);
    if (training) {
      nlu.training[locale] = training;
      // Off-topic messages need an intent of their own: no confidence threshold tells them apart.
      if (!training.none) problems.push(`nlu/training.${locale}.json: none: missing (off-topic phrases the bot should not act on)`);
    }
    if (test) nlu.test[locale] = test;
    for (const intent of Object.keys(test ?? {})) {
      if (training && !(intent in training)) problems.push(`nlu/test.${locale}.json: ${intent}: no such intent in nlu/training.${locale}.json`);
    }
  }
  if (copy['zh-CN'] && copy.en) problems.push(...checkCopy(copy));
  if (escalation && copy['zh-CN'] && copy.en) {
    escalation.rules.forEach((r, i) => {
      if (!(r.message in copy['zh-CN'])) problems.push(`escalation/rules.json: rules.${i}.message: copy key "${r.message}" does not exist`);
    });
  }
  // Flows: names, targets, a way out and to a person, nothing disclosed before identity, copy keys.
  // What the recogniser can return: the classifier's intents (training) and the keyword rules'.
  const intents = keywords && LOCALES.every((l) => nlu.training[l]) ? new Set([...LOCALES.flatMap((l) => Object.keys(nlu.training[l])), ...Object.keys(keywords.intents)]) : undefined;
  const { flows, problems: flowProblems } = parseFlows(files, copy, (raw) => (raw instanceof UnparsableFile ? raw.reason : undefined), intents);
  problems.push(...flowProblems);
  if (problems.length > 0 || !products || !identity || !lender || !keywords || !escalation || !handoff || !contact || !flows) throw new DialogsError(problems);
  return { flows, copy, products: products.products, hardshipOrder: products.hardshipOrder, identity, lender, keywords, escalation: escalation.rules, handoff, contact: { quietHours: contact.quietHours, maxPerDay: contact.maxPerDay, maxPer7Days: contact.maxPer7Days }, nlu };
}

/** Loads and checks dialogs/; throws a DialogsError listing every problem. */
export function loadDialogs(dir: string = defaultDialogsDir()): Dialogs {
  return parseDialogs(readDialogFiles(dir));
}
