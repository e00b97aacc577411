import Decimal from 'decimal.js';
import { matchesOf } from './text';

/**
 * Numbers as borrowers write them: Arabic digits, Chinese numerals, and mixtures ("2.5万", "3千5",
 * "3.5k"). Values are Decimal so money never passes through binary floating point.
 */

const DIGITS: Record<string, number> = {
  零: 0, 〇: 0, 一: 1, 壹: 1, 二: 2, 贰: 2, 两: 2, 三: 3, 叁: 3, 四: 4, 肆: 4,
  五: 5, 伍: 5, 六: 6, 陆: 6, 七: 7, 柒: 7, 八: 8, 捌: 8, 九: 9, 玖: 9,
};
const UNITS: Record<string, number> = {
  十: 10, 拾: 10, 百: 100, 佰: 100, 千: 1000, 仟: 1000, k: 1000, 万: 1e4, 萬: 1e4, w: 1e4, 亿: 1e8, 億: 1e8,
};

// 廿 (20) and 卅 (30) still appear in dates: 廿一号.
const TENS: Record<string, string> = { 廿: '二十', 卅: '三十' };

/** Character classes (without brackets) for building patterns. */
export const CN_DIGIT_CLASS = Object.keys(DIGITS).join('') + Object.keys(TENS).join('');
export const CN_UNIT_CLASS = '十拾百佰千仟万萬亿億';

/** English number words used for counts and durations ("in two weeks", "six installments"). */
export const ENGLISH_NUMBERS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, eighteen: 18, twenty: 20, 'twenty-four': 24, thirty: 30, 'thirty-six': 36,
};
/** Alternation of ENGLISH_NUMBERS keys, longest first so "twenty-four" beats "twenty". */
export const ENGLISH_NUMBER_WORDS = Object.keys(ENGLISH_NUMBERS).sort((a, b) => b.length - a.length).join('|');

type Token =
  | { kind: 'number'; value: Decimal; /** integer digits written, 0 for a fraction */ places: number }
  | { kind: 'zero' }
  | { kind: 'unit'; value: number };

// Arabic numbers keep their grouping separators here; parseNumeral's callers decide where they may appear.
const TOKEN = /\d(?:[\d, ]*\d)?(?:\.\d+)?|\S/gu;

function tokenize(run: string): Token[] | undefined {
  const tokens: Token[] = [];
  for (const [t] of matchesOf(run.replace(/[廿卅]/g, (c) => TENS[c] ?? c), TOKEN)) {
    if (/^\d/.test(t)) {
      const digits = t.replace(/[, ]/g, '');
      tokens.push({ kind: 'number', value: new Decimal(digits), places: digits.includes('.') ? 0 : digits.length });
    } else if (DIGITS[t] === 0) tokens.push({ kind: 'zero' });
    else if (DIGITS[t] !== undefined) tokens.push({ kind: 'number', value: new Decimal(DIGITS[t]), places: 1 });
    else if (UNITS[t.toLowerCase()] !== undefined) tokens.push({ kind: 'unit', value: UNITS[t.toLowerCase()] as number });
    else return undefined;
  }
  return tokens;
}

/**
 * A number left over after the last unit. Colloquially a lone digit takes the next lower place:
 * 三千五 = 3500 (not 3005), 一万二 = 12000, 两百五 = 250, 3千5 = 3500; this is how the phrase is said
 * aloud and what every borrower means. After 零 the digit is literal: 一百零八 = 108, 一千零五 = 1005.
 * Arabic digits that fill the lower places exactly are literal too: 1万2000 = 12000, 3千500 = 3500.
 */
function trailing(n: Extract<Token, { kind: 'number' }>, lastUnit: number, afterZero: boolean): Decimal | undefined {
  if (lastUnit === 0) return n.value;
  if (afterZero) return n.value.lt(lastUnit / 10) ? n.value : undefined;
  if (n.places === 1) return n.value.times(lastUnit / 10);
  if (n.places === String(lastUnit).length - 1) return n.value;
  return undefined;
}

/**
 * The value of a numeral run such as "三千五", "一万零五百", "2.5万", "3,500.50", or undefined when
 * the run is not one number: two numbers in a row ("三五", a range or digit string), units out of
 * order, or a unit with nothing to multiply ("千万" is "by all means", "万一" is "in case"; only 十
 * stands alone, as in 十五).
 */
export function parseNumeral(run: string): Decimal | undefined {
  const tokens = tokenize(run);
  if (!tokens?.length) return undefined;
  let total = new Decimal(0); // groups already closed by 万 or 亿
  let group = new Decimal(0); // the part below 万 being read
  let pending: Extract<Token, { kind: 'number' }> | undefined;
  let lastUnit = 0;
  let groupUnit = Infinity; // units within a group must decrease: 千 > 百 > 十
  let bigUnit = Infinity; // and so must 亿 > 万
  let afterZero = false;
  for (const t of tokens) {
    if (t.kind !== 'unit') {
      if (pending) return undefined;
      if (t.kind === 'zero') afterZero = true;
      else pending = t;
      continue;
    }
    if (t.value < 1e4) {
      if (t.value >= groupUnit || (!pending && t.value !== 10)) return undefined;
      group = group.plus((pending?.value ?? new Decimal(1)).times(t.value));
      groupUnit = t.value;
    } else {
      if (t.value >= bigUnit || (!pending && group.isZero())) return undefined;
      total = total.plus(group.plus(pending?.value ?? 0).times(t.value));
      group = new Decimal(0);
      groupUnit = Infinity;
      bigUnit = t.value;
    }
    pending = undefined;
    lastUnit = t.value;
    afterZero = false;
  }
  if (pending) {
    const tail = trailing(pending, lastUnit, afterZero);
    if (!tail) return undefined;
    group = group.plus(tail);
  }
  return total.plus(group);
}

/** A whole number written in digits, Chinese numerals or (lower-case) English words, e.g. for days and counts. */
export function parseInteger(text: string): number | undefined {
  const word = ENGLISH_NUMBERS[text.toLowerCase()];
  if (word !== undefined) return word;
  const value = parseNumeral(text);
  return value?.isInteger() ? value.toNumber() : undefined;
}
