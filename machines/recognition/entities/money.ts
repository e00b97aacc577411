import Decimal from 'decimal.js';
import { CN_DIGIT_CLASS, CN_UNIT_CLASS, parseNumeral } from './numerals';
import { matchesOf, normalizeKeepingOffsets, overlaps, spansOf } from './text';

/**
 * Amounts of money in a borrower's words: "3,500.00", "¥3500", "3.5k", "2.5万", "三千五",
 * "三百八十块五毛", "３５００" and so on. Values are decimal text with two places ("3500.00"); spans
 * index the text as given.
 *
 * Chinese numerals are read colloquially (see numerals.ts): 三千五 = 3500 and 一万二 = 12000, the
 * trailing digit taking the next lower place, because that is how the amounts are said aloud; with
 * 零 the digit is literal (一百零八 = 108, 一万零五百 = 10500).
 *
 * A number with a currency sign or unit (¥, RMB, 元, 块, 毛…) is always an amount. A bare number is
 * one unless its neighbours say it is something else: an installment count (分6期), a date (12月15日,
 * 15号, Dec 15), a time (3点), a duration (3个月), a percentage, an ordinal, or an ID fragment.
 */
export interface Amount {
  value: string;
  start: number;
  end: number;
  raw: string;
}

const ARABIC = String.raw`\d{1,3}(?:,\d{3}(?!\d))+(?:\.\d+)?|\d{1,3}(?: \d{3}(?!\d))+(?:\.\d+)?|\d+(?:\.\d+)?`;
const CN = `[${CN_DIGIT_CLASS}${CN_UNIT_CLASS}]`;
const MAGNITUDE = `(?:[${CN_UNIT_CLASS}]|[kw](?![a-z]))`;
// Arabic digits may be followed by a magnitude and more (2.5万, 3千5, 1万2000, 3.5k); Chinese
// numerals stand alone, so "周五3000" reads as 五 and 3000, not as one number.
const NUMERAL = `(?:${ARABIC})(?:${MAGNITUDE}(?:${ARABIC}|${CN}|${MAGNITUDE})*)?|${CN}+`;
const PREFIX = '¥|(?<![a-z])(?:rmb|cny)|人民币';
const MAJOR_UNIT = '元|块(?!儿)(?:钱)?|圆|(?:yuan|rmb|cny|kuai)(?![a-z])';
const JIAO_UNIT = '[毛角](?:钱)?';

const AMOUNT = new RegExp(
  `(?:(?<prefix>${PREFIX})\\s*)?(?<numeral>${NUMERAL})(?:\\s*(?:(?<major>${MAJOR_UNIT})|(?<jiao>${JIAO_UNIT})))?`,
  'dgi',
);

const DIGIT = `[\\d${CN_DIGIT_CLASS}]`;
// What may follow a lone digit for it to be a digit of money and not the start of something else.
const ENDS_HERE = `(?!\\s*[\\d${CN_DIGIT_CLASS}${CN_UNIT_CLASS}号日月天周期点个分%])`;
interface MinorForm {
  re: RegExp;
  fen: (m: RegExpExecArray) => number | undefined;
}
// Minor units after 元/块: 块五毛, 块五角六分, 块零五分, 块五 (= 5 jiao), 块五分.
const AFTER_MAJOR: MinorForm[] = [
  {
    re: new RegExp(`\\s*(${DIGIT})\\s*[毛角](?:\\s*(?:(${DIGIT})\\s*分|(${DIGIT})${ENDS_HERE}))?`, 'y'),
    fen: (m) => combine(m[1], m[2] ?? m[3]),
  },
  { re: new RegExp(`\\s*[零〇]\\s*(${DIGIT})\\s*分(?![钟期])`, 'y'), fen: (m) => combine('0', m[1]) },
  { re: new RegExp(`\\s*(${DIGIT})\\s*分(?![钟期])`, 'y'), fen: (m) => combine('0', m[1]) },
  { re: new RegExp(`\\s*(${DIGIT})${ENDS_HERE}`, 'y'), fen: (m) => combine(m[1], undefined) },
];
// Fen after 毛/角: 五毛六分, 五毛六.
const AFTER_JIAO: MinorForm[] = [
  { re: new RegExp(`\\s*(?:(${DIGIT})\\s*分|(${DIGIT})${ENDS_HERE})`, 'y'), fen: (m) => combine('0', m[1] ?? m[2]) },
];

function digitValue(d: string | undefined): number | undefined {
  if (d === undefined) return 0;
  const v = parseNumeral(d);
  return v && v.lt(10) ? v.toNumber() : undefined;
}

/** Jiao and fen digits as fen, or undefined when either is not a single digit. */
function combine(jiao: string | undefined, fen: string | undefined): number | undefined {
  const j = digitValue(jiao);
  const f = digitValue(fen);
  return j === undefined || f === undefined ? undefined : j * 10 + f;
}

// Never amounts, whatever surrounds them: phone numbers, dates (2026-12-15, 15/12/2026, 12-15),
// times and fractions (3:30, 3/4), and long references (card, ID and order numbers).
const NEVER = [
  /(?<![\d+])(?:\+?86[\s-]?)?1\d{2}[\s-]?\d{4}[\s-]?\d{4}(?!\d)/g,
  /(?<!\d)\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?!\d)/g,
  /(?<!\d)\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{4}(?!\d)/g,
  /(?<![\d.])\d{1,2}\s*[-/:]\s*\d{1,2}(?![\d.])/g,
  /\d{12,}/g,
];
const MONTH_NAMES = 'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
// Words before a bare number that make it something else: 第3期, 分6期, 百分之五十, 尾号1234, ID 1234, in 6, day 3.
const NOT_AMOUNT_BEFORE = /(?:第|(?<!部)分成?|[百千]分之|尾号|后[四4]位|身份证号?|证件号?|号码|编号|单号|卡号|账号|#|(?<![a-z])(?:no\.?|id|in|day|the|digits))\s*$/i;
// …and after it: a date, a time, a duration, a count, a percentage, an ordinal. 分 is minutes or a
// score (五分钟, 80分, 十分感谢) unless it starts the next phrase (每期2000分3期).
const NOT_AMOUNT_AFTER = new RegExp(
  `^\\s*(?:[年月日号天周期点时秒岁%折次倍楼层笔个位]|分(?![期成开批\\d${CN_DIGIT_CLASS}])|星期|礼拜|(?:installments?|instalments?|payments|months?|days?|weeks?|years?|yrs?|hours?|hrs?|minutes?|mins?|times|am|pm|o'?clock|percent|${MONTH_NAMES})(?![a-z]))`,
  'i',
);
// A small number right after a month or "week" is a date: 12月15, Dec 15, 周5. (每月3000 is money.)
const DATE_PART_BEFORE: Array<{ re: RegExp; max: number }> = [
  { re: new RegExp(`(?:月|(?<![a-z])(?:${MONTH_NAMES})\\.?)\\s*$`, 'i'), max: 31 },
  { re: /(?:周|星期|礼拜)\s*$/, max: 7 },
];

/** Whether a number with no currency marker reads as money in its context. */
function bareNumberIsAmount(text: string, start: number, end: number, numeral: string, value: Decimal): boolean {
  // Wide enough for the longest cue word on either side.
  const before = text.slice(Math.max(0, start - 20), start);
  const after = text.slice(end, end + 20);
  if (/^[a-z]/i.test(after) || NOT_AMOUNT_BEFORE.test(before) || NOT_AMOUNT_AFTER.test(after)) return false;
  if (DATE_PART_BEFORE.some((p) => p.re.test(before) && value.isInteger() && value.lte(p.max))) return false;
  // A lone Chinese digit is too often part of a word (一下, 一起, 三星); ask for a unit: 十五, 两千.
  if (!/[\d十拾百佰千仟万萬亿億]/.test(numeral)) return false;
  // Leading zeros (0012) are ID fragments or codes; more than 8 digits is a reference number.
  return !/^0\d/.test(numeral) && !/^\d{9,}$/.test(numeral);
}

/** Jiao and fen written after the main unit, with where they end. */
function readMinor(text: string, at: number, forms: readonly MinorForm[]): { fen: number; end: number } {
  for (const form of forms) {
    form.re.lastIndex = at;
    const m = form.re.exec(text);
    const fen = m ? form.fen(m) : undefined;
    if (m && fen !== undefined) return { fen, end: at + m[0].length };
  }
  return { fen: 0, end: at };
}

export function extractAmounts(text: string): Amount[] {
  const norm = normalizeKeepingOffsets(text);
  const never = spansOf(norm, NEVER);
  const found: Amount[] = [];
  for (const m of matchesOf(norm, AMOUNT)) {
    const { prefix, numeral = '', major, jiao } = m.groups ?? {};
    const [numeralStart, numeralEnd] = m.indices?.groups?.numeral ?? [m.index, m.index];
    // Jiao and fen read as part of the amount before ("块五毛") are not amounts of their own.
    if (overlaps(never, numeralStart, numeralEnd) || numeralStart < (found.at(-1)?.end ?? 0)) continue;
    // Digits glued to letters, digits or separators (ABC123, v1.2.3, 12/25/2026) are codes, not money.
    if (!prefix && /[\d.,/:a-z]/i.test(norm[numeralStart - 1] ?? '')) continue;
    let value = parseNumeral(numeral);
    if (!value) continue;
    let end = m.index + m[0].length;
    if (!prefix && !major && !jiao && !bareNumberIsAmount(norm, numeralStart, end, numeral, value)) continue;
    if (jiao) value = value.dividedBy(10);
    if (major || jiao) {
      const minor = readMinor(norm, end, major ? AFTER_MAJOR : AFTER_JIAO);
      value = value.plus(new Decimal(minor.fen).dividedBy(100));
      end = minor.end;
    }
    // Money has at most two decimals; "3.567" is something else.
    if (value.decimalPlaces() > 2) continue;
    found.push({ value: value.toFixed(2), start: m.index, end, raw: text.slice(m.index, end) });
  }
  return found;
}
