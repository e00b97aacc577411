import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { checkCopy } from './copy';
import { escalationFileSchema, type EscalationRule } from './escalationSchema';
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
}

/** Every problem found, each naming the file, the path inside it and the reason. */
export class DialogsError extends Error {
  constructor(readonly problems: string[]) {
    super(`dialogs/ has ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
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

function readJson<S extends z.ZodType>(dir: string, file: string, schema: S, problems: string[]): z.output<S> | undefined {
  const full = path.join(dir, file);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(full, 'utf8'));
  } catch (e) {
    problems.push(`${file}: ${(e as Error).message}`);
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return undefined;
  }
  return parsed.data;
}

/** Loads and checks dialogs/; throws a DialogsError listing every problem. */
export function loadDialogs(dir: string = defaultDialogsDir()): Dialogs {
  const problems: string[] = [];
  const copy = {} as Record<Locale, CopyFile>;
  for (const locale of LOCALES) {
    const file = readJson(dir, `copy/${locale}.json`, copyFileSchema, problems);
    if (file) copy[locale] = file;
  }
  const products = readJson(dir, 'policy/products.json', productsFileSchema, problems);
  const identity = readJson(dir, 'policy/identity.json', identityPolicySchema, problems);
  const lender = readJson(dir, 'lender.json', lenderSchema, problems);
  const keywords = readJson(dir, 'nlu/keywords.json', keywordsFileSchema, problems);
  const escalation = readJson(dir, 'escalation/rules.json', escalationFileSchema, problems);
  const handoff = readJson(dir, 'policy/handoff.json', handoffPolicySchema, problems);
  const contact = readJson(dir, 'policy/contact.json', contactPolicySchema, problems);
  const nlu = { training: {} as Record<Locale, IntentPhrases>, test: {} as Record<Locale, IntentPhrases> };
  for (const locale of LOCALES) {
    const training = readJson(dir, `nlu/training.${locale}.json`, intentPhrasesFileSchema, problems);
    const test = readJson(dir, `nlu/test.${locale}.json`, intentPhrasesFileSchema, problems);
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
  if (problems.length > 0 || !products || !identity || !lender || !keywords || !escalation || !handoff || !contact) throw new DialogsError(problems);
  return { copy, products: products.products, hardshipOrder: products.hardshipOrder, identity, lender, keywords, escalation: escalation.rules, handoff, contact: { quietHours: contact.quietHours, maxPerDay: contact.maxPerDay, maxPer7Days: contact.maxPer7Days }, nlu };
}

