import { DateTime } from 'luxon';
import type { CopyFile, HardshipReason, IntentPhrases, Keywords, Locale } from '../../dialogs/schemas';
import { type Classifier, type IntentScore, trainClassifier } from './classifier';
import { extractInstallmentCount } from './entities/counts';
import { extractDates } from './entities/dates';
import { extractAmounts } from './entities/money';
import { overlaps } from './entities/text';
import { detectLanguage } from './language';
import { extractIdentity, type ExpectedDetail, type IdentityEntities, normalizeText } from './identityEntities';

/** What the machines consume: one interface however recognition works inside (intent, confidence, entities). */
export interface Recognition {
  /** "none" when the message is not understood: off-topic, or no intent likely enough. */
  intent: string;
  confidence: number;
  entities: {
    identity: IdentityEntities;
    amount?: string;
    date?: string;
    count?: number;
    hardship?: HardshipReason;
  };
  /** The classifier's likeliest requests (never "none" or "identify"), best first: the options of a clarifying question. */
  alternatives?: IntentScore[];
  /** The language the text is written in, when it shows. */
  language?: Locale;
}

export interface RecognitionContext {
  /**
   * What the bot just asked for: a bare "6" or "1234" is read in that light, and after
   * 'confirmation' a hesitant "行吧" or "fine i guess" counts as yes or no.
   */
  expecting?: string;
  /** Once the borrower is verified, numbers are amounts, dates and references, never identity details. */
  verified?: boolean;
  /** The bot's clock and the lender's time zone, to resolve "下个月15号" or "next Friday". */
  now?: Date;
  timeZone?: string;
}

export type Recognizer = (text: string, context: RecognitionContext) => Recognition;

/**
 * Below this probability the classifier's best guess is not acted on and the message is "none"
 * (the bot asks which of the alternatives was meant). Chosen from the eval (docs/nlu-eval.md):
 * lower lets more off-topic messages through as requests, higher turns right answers into questions.
 */
export const NOT_UNDERSTOOD_BELOW = 0.3;
/** After a confirmation question, yes or no is taken when it is at least this likely. */
const ANSWER_AFTER_CONFIRMATION = 0.1;
const ALTERNATIVES = 3;
const IDENTITY_DETAILS: readonly string[] = ['phone', 'idLast4', 'birthDate'];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type Phrases = { 'zh-CN': string[]; en: string[] };

/** Chinese keywords match as substrings, English ones as whole words or phrases. */
function phraseMatcher(phrases: Phrases): (text: string) => boolean {
  const zh = phrases['zh-CN'].map((k) => normalizeText(k).toLowerCase());
  const en = phrases.en.length ? new RegExp(`(?<![a-z])(?:${phrases.en.map((k) => escapeRegExp(k.toLowerCase())).join('|')})(?![a-z])`) : null;
  return (text) => zh.some((k) => text.includes(k)) || (en?.test(text) ?? false);
}

const titleText = (text: string) => normalizeText(text).trim().toLowerCase();

/** One model for both languages: borrowers mix them ("能不能delay几天"). */
export function trainingPhrases(training: Record<Locale, IntentPhrases>): Record<string, string[]> {
  const phrases: Record<string, string[]> = {};
  for (const file of Object.values(training)) for (const [intent, list] of Object.entries(file)) (phrases[intent] ??= []).push(...list);
  return phrases;
}

/**
 * Recognition in the order the eval showed works best (docs/nlu-eval.md):
 * 1. a suggested action's title, typed or clicked, is read exactly (buttons and free text are the
 *    same thing);
 * 2. entities that decide on their own: a count ("分6期", or "6" after "how many installments?")
 *    is installments; identity details with no confident request beside them are identify;
 * 3. the classifier trained on dialogs/nlu/training.*.json, when it is confident;
 * 4. staff-edited keywords (dialogs/nlu/keywords.json), when it is not: ahead of the classifier
 *    they cost 10 points of accuracy, since a keyword cannot see "不" or "don't" next to it;
 * 5. what is left: an amount with a date still ahead is a promise, a hardship reason is hardship,
 *    yes or no after a confirmation question;
 * otherwise "none", with the likeliest alternatives for a clarifying question.
 * Entities (identity details, amount, date, count, hardship reason) are read whatever the intent.
 */
export function createRecognizer(
  keywords: Keywords,
  copy: Record<Locale, CopyFile>,
  training: Record<Locale, IntentPhrases>,
  /** Where the classifier comes from: trained here by default, or a model trained at build time (bot/nluModel.ts). */
  classifierFor: (phrases: Record<string, string[]>) => Classifier = trainClassifier,
): Recognizer {
  // One title can name several actions ("Something else" is a hardship reason and a complaint
  // category): the first gives the intent, and a hardship reason among them is read as well.
  const titles = new Map<string, string[]>();
  for (const file of Object.values(copy)) {
    for (const [key, text] of Object.entries(file)) {
      // Titles with values (e.g. "分{count}期") are read by the entities instead.
      if (!key.startsWith('actions.') || text.includes('{')) continue;
      const keys = titles.get(titleText(text)) ?? [];
      if (!keys.includes(key.slice('actions.'.length))) keys.push(key.slice('actions.'.length));
      titles.set(titleText(text), keys);
    }
  }
  const rules = Object.entries(keywords.intents).map(([intent, phrases]) => ({ intent, matches: phraseMatcher(phrases) }));
  const hardships = (Object.entries(keywords.hardship) as Array<[HardshipReason, Phrases]>).map(([reason, phrases]) => ({ reason, matches: phraseMatcher(phrases) }));
  const classifier = classifierFor(trainingPhrases(training));

  return (raw, context) => {
    const text = titleText(raw);
    const identity = extractIdentity(raw, context.expecting as ExpectedDetail);
    // Full-width letters (ＯＫ) are Latin too.
    const language = detectLanguage(normalizeText(raw));
    const count = extractInstallmentCount(raw, context.expecting === 'installmentCount' ? { expecting: 'installmentCount' } : {});
    // With a phone number given, or a detail asked for, the other numbers are identity details too
    // ("13800138001 1234 1990-01-01" holds no amount and no date). Otherwise a lone "1234" stays an
    // amount as well: it may answer "how much did you pay?".
    const identityNumbers = !context.verified && (identity.phone !== undefined || IDENTITY_DETAILS.includes(context.expecting ?? '')) ? identity.spans : [];
    const outsideIdentity = (e: { start: number; end: number }) => !overlaps(identityNumbers, e.start, e.end);
    const amount = extractAmounts(raw).find(outsideIdentity)?.value;
    const clock = context.now && context.timeZone ? { now: context.now, timeZone: context.timeZone } : undefined;
    const date = clock ? extractDates(raw, clock).find(outsideIdentity)?.date : undefined;
    const keys = titles.get(text) ?? [];
    const titledHardship = keys.find((k) => k.startsWith('hardship.'))?.slice('hardship.'.length) as HardshipReason | undefined;
    const hardship = titledHardship ?? hardships.find((h) => h.matches(text))?.reason;
    const entities = {
      identity,
      ...(amount !== undefined ? { amount } : {}),
      ...(date !== undefined ? { date } : {}),
      ...(count !== undefined ? { count } : {}),
      ...(hardship !== undefined ? { hardship } : {}),
    };
    const result = (intent: string, confidence: number, alternatives?: IntentScore[]): Recognition => ({
      intent,
      confidence,
      // Hardship the classifier heard ("最近手头紧") without a reason it knows is still hardship.
      entities: intent === 'hardship' && hardship === undefined ? { ...entities, hardship: 'other' } : entities,
      ...(alternatives ? { alternatives } : {}),
      language,
    });

    const [firstKey] = keys;
    if (firstKey) return result(firstKey.startsWith('hardship.') ? 'hardship' : firstKey, 1);
    // "分6期" names the option by its count alone.
    if (count !== undefined) return result('installments', 0.9);

    const ranked = classifier.classify(raw);
    const best = ranked[0] as IntentScore;
    const alternatives = ranked.filter((s) => s.intent !== 'none' && s.intent !== 'identify').slice(0, ALTERNATIVES);
    const hasIdentity = !context.verified && Boolean(identity.phone || identity.idLast4 || identity.birthDate || identity.invalid.length);
    // The classifier sees numbers only as placeholders, so "12月20日 500" looks like a date of birth
    // to it: identify is decided by the identity entities, never by the classifier alone.
    const confident = best.intent !== 'none' && best.intent !== 'identify' && best.score >= NOT_UNDERSTOOD_BELOW;
    if (hasIdentity && !confident) return result('identify', 0.9, alternatives);
    if (confident) return result(best.intent, best.score, alternatives);

    const rule = rules.find((r) => r.matches(text))?.intent;
    if (rule) return result(rule, NOT_UNDERSTOOD_BELOW, alternatives);
    // An amount and a date still ahead ("12月20日 500") can only be a promise to pay.
    const today = clock ? DateTime.fromJSDate(clock.now, { zone: clock.timeZone }).toISODate() : null;
    if (amount !== undefined && date !== undefined && today !== null && date >= today) return result('promise', NOT_UNDERSTOOD_BELOW, alternatives);
    if (hardship) return result('hardship', NOT_UNDERSTOOD_BELOW, alternatives);
    // After "confirm this plan?", yes or no as the likeliest request is read as the answer; anything
    // else stays unclear, so an agreement is never recorded on a guess between unrelated intents.
    const [answer] = alternatives;
    if (context.expecting === 'confirmation' && answer && (answer.intent === 'yes' || answer.intent === 'no') && answer.score >= ANSWER_AFTER_CONFIRMATION) {
      return result(answer.intent, answer.score, alternatives);
    }
    return result('none', ranked.find((s) => s.intent === 'none')?.score ?? 0, alternatives);
  };
}
