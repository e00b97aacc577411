import { CN_DIGIT_CLASS, CN_UNIT_CLASS, ENGLISH_NUMBER_WORDS, parseInteger } from './numerals';
import { matchesOf, normalizeKeepingOffsets } from './text';

/**
 * The number of installments a borrower asks for: 分6期, 分成十二期, 六期, 分三次, "6 installments",
 * "pay in 6". Decisions on the forms that could mean something else:
 * - N期 is a count, but 第N期 ("the Nth installment") and 逾期N期 (N overdue) are not.
 * - N个月 / N months is a duration ("6个月后还", "in 6 months") unless the message is about
 *   installments: 分N个月, "over N months", or 分期 / 分开 / installment / split / plan elsewhere in
 *   the message. Followed by 后 / 内 / later / from now it is always a duration.
 * - "in N" / "into N" is a count ("can I pay in 6") unless a unit follows (in 6 days, in 6 months).
 * - A bare number counts only when the bot has just asked for a count (`expecting`): Arabic
 *   digits (1–2 of them) when they are the message's only number, Chinese numerals only when they
 *   are the whole reply (六, 十二期吧), since Chinese digits sit inside ordinary words (一下, 一起).
 * - Two different counts in one message ("3期还是6期") give undefined: the bot asks again rather
 *   than pick one for a repayment plan.
 */
export interface CountOptions {
  expecting?: 'installmentCount';
}

const NUM = `(?<![\\d.${CN_DIGIT_CLASS}${CN_UNIT_CLASS}])(?<n>\\d{1,2}|[${CN_DIGIT_CLASS}十]{1,3})(?![\\d.])`;
const EN_NUM = `\\b(?<n>\\d{1,2}|${ENGLISH_NUMBER_WORDS})`;
const TIME_OR_MONEY_UNITS = 'days?|weeks?|months?|years?|yrs?|hours?|hrs?|minutes?|mins?|am|pm|k|w|yuan|rmb|cny';
// "in one" is "in one go", a lump sum, not a plan of one installment.
const IN_WORDS = ENGLISH_NUMBER_WORDS.split('|').filter((w) => w !== 'one').join('|');
const DURATION_AFTER = '(?!\\s*(?:[之以]?后|以?内|前))';
const INSTALLMENT_TALK = /分期|分开|分批|分成|期数|分\s*[\d一二两三四五六七八九十]|install?ments?|split|spread|\bplan\b/i;

interface CountForm {
  re: RegExp;
  /** Read only when the message talks about installments. */
  needsTalk?: boolean;
}

const FORMS: CountForm[] = [
  // 分6期, 分成12期, 六期, 十二期; not 第6期 (the 6th) or 逾期3期 (3 overdue)
  { re: new RegExp(`(?<!(?:第|逾期)\\s*)${NUM}\\s*期`, 'g') },
  // 分3次, 分两次还清
  { re: new RegExp(`分\\s*[成为]?\\s*${NUM}\\s*次`, 'g') },
  // 分6个月, 分成十二个月
  { re: new RegExp(`分\\s*[成为]?\\s*${NUM}\\s*个?\\s*月${DURATION_AFTER}`, 'g') },
  // 6个月, when installments are the topic
  { re: new RegExp(`${NUM}\\s*个\\s*月${DURATION_AFTER}`, 'g'), needsTalk: true },
  // 6 installments, six monthly payments
  { re: new RegExp(`${EN_NUM}\\s+(?:(?:equal|monthly)\\s+)*(?:install?ments?|payments?)\\b`, 'gi') },
  // over 6 months, spread over six months
  { re: new RegExp(`\\bover\\s+${EN_NUM}\\s+months?\\b`, 'gi') },
  // 6 months, when installments are the topic; not "in 6 months", "6 months later"
  { re: new RegExp(`(?<!\\b(?:in|within|after)\\s+)${EN_NUM}\\s+months?\\b(?!\\s+(?:later|from now|ago))`, 'gi'), needsTalk: true },
  // pay in 6, in six, split into 6
  {
    re: new RegExp(
      `\\bin(?:to)?\\s+(?<n>\\d{1,2}|${IN_WORDS})\\b(?!\\s*(?:(?:${TIME_OR_MONEY_UNITS})\\b|[%:./,]\\s*\\d|[%元块万千号日月天周点]))`,
      'gi',
    ),
  },
];

// The whole reply is one Chinese number: 六, 六期, 十二期吧, 就六个吧.
const WHOLE_CHINESE_REPLY = new RegExp(
  `^\\s*(?:分|就|要|选|那就)?\\s*(?<n>[${CN_DIGIT_CLASS}十]{1,3})\\s*(?:期|个|次)?\\s*(?:吧|啊|呀|好了|就行|可以)?\\s*[。.!！~]*\\s*$`,
);
// One or two Arabic digits not followed by a unit that makes them a date, time or amount.
const BARE_DIGITS = new RegExp(`(?<![\\d.,:/-])(?<n>\\d{1,2})(?![\\d.,:/]|\\s*(?:[号日月天周点元块万千%]|(?:${TIME_OR_MONEY_UNITS}|st|nd|rd|th)\\b))`, 'i');

function read(n: string | undefined): number | undefined {
  const value = n === undefined ? undefined : parseInteger(n);
  return value !== undefined && value >= 1 ? value : undefined;
}

function bareCount(text: string): number | undefined {
  const chinese = WHOLE_CHINESE_REPLY.exec(text);
  if (chinese) return read(chinese.groups?.n);
  if ((text.match(/\d+/g) ?? []).length !== 1) return undefined;
  return read(BARE_DIGITS.exec(text)?.groups?.n);
}

export function extractInstallmentCount(text: string, options: CountOptions = {}): number | undefined {
  const norm = normalizeKeepingOffsets(text);
  const talk = INSTALLMENT_TALK.test(norm);
  const counts = new Set<number>();
  for (const form of FORMS) {
    if (form.needsTalk && !talk) continue;
    for (const m of matchesOf(norm, form.re)) {
      const n = read(m.groups?.n);
      if (n !== undefined) counts.add(n);
    }
  }
  if (counts.size === 0 && options.expecting === 'installmentCount') return bareCount(norm);
  return counts.size === 1 ? [...counts][0] : undefined;
}
