import { DateTime } from 'luxon';
import { localPartsOf, type LocalParts } from '../../domain/calendar';
import { CN_DIGIT_CLASS, CN_UNIT_CLASS, ENGLISH_NUMBER_WORDS, parseInteger } from './numerals';
import { matchesOf, normalizeKeepingOffsets, overlaps, type Span } from './text';

/**
 * Dates in a borrower's words ("下个月15号", "extend to Dec 15", "三天后"), resolved against the
 * reference instant's local date in the given time zone. Pure: the caller passes "now".
 *
 * Rules for the readings that could go either way:
 * - No year (12月15日, Dec 15, 12/15): the next occurrence that is today or later. A yearless
 *   2月29日 is a date only when that occurrence falls in a leap year; otherwise it is not a date.
 * - An explicit year is kept as given, even in the past: the caller decides what is acceptable.
 * - A day alone (15号, the 15th): the next date with that day of month, today included. When a
 *   month lacks the day (31号 asked in November) the next month that has it is taken (December 31),
 *   not the short month's last day: the borrower named a day, and the bot should not move it.
 * - A day in a named month (下个月31号 with a 30-day next month) that does not exist is not a date.
 * - 这个月15号 / 本月15号 is this month's 15th even if it has passed (the borrower said so).
 * - 12/15 is M/D and 15/12 is D/M; when both parts are 12 or less (3/4) the order is unknown and
 *   nothing is read, unless both are equal (5/5).
 * - Weekdays: 下周五 / next Friday is the Friday of next week (weeks start on Monday); 周五, 这周五,
 *   this Friday, on Friday are the coming one, today included.
 * - 一个月后 / in a month: the same day next month, or its last day when shorter (Jan 31 → Feb 28).
 */
export interface DateEntity {
  date: string;
  start: number;
  end: number;
  raw: string;
}

export interface DateReference {
  now: Date;
  timeZone: string;
}

/** Calendar dates are midnight UTC, so arithmetic never meets a daylight-saving change. */
type Day = DateTime;
type Groups = Record<string, string | undefined>;

interface DateForm {
  re: RegExp;
  resolve: (g: Groups, today: Day) => Day | undefined;
}

function calendarDate(year: number, month: number, day: number): Day | undefined {
  const d = DateTime.utc(year, month, day);
  return d.isValid ? d : undefined;
}

function localToday(ref: DateReference): Day {
  // Intl (cached per zone) rather than luxon's zone conversion, which was a hot spot per turn.
  let local: LocalParts;
  try {
    local = localPartsOf(ref.now, ref.timeZone);
  } catch (cause) {
    throw new Error(`cannot read the date at ${String(ref.now)} in time zone ${ref.timeZone}`, { cause });
  }
  return DateTime.utc(local.year, local.month, local.day);
}

function nextOccurrence(today: Day, month: number, day: number): Day | undefined {
  const stillThisYear = month > today.month || (month === today.month && day >= today.day);
  return calendarDate(stillThisYear ? today.year : today.year + 1, month, day);
}

/** The next date with this day of month, today included, skipping months that lack the day. */
function nextDayOfMonth(today: Day, day: number): Day | undefined {
  for (let ahead = 0; ahead <= 12; ahead++) {
    const month = today.startOf('month').plus({ months: ahead });
    const candidate = calendarDate(month.year, month.month, day);
    if (candidate && candidate >= today) return candidate;
  }
  return undefined;
}

function dayInMonth(today: Day, monthsAhead: number, day: number): Day | undefined {
  const month = today.startOf('month').plus({ months: monthsAhead });
  return calendarDate(month.year, month.month, day);
}

function lastDayOfMonth(today: Day, monthsAhead: number): Day {
  return today.startOf('month').plus({ months: monthsAhead }).endOf('month').startOf('day');
}

/** The coming weekday (1 = Monday … 7 = Sunday), today included. */
function comingWeekday(today: Day, weekday: number): Day {
  return today.plus({ days: (weekday - today.weekday + 7) % 7 });
}

function weekdayOfWeek(today: Day, weeksAhead: number, weekday: number): Day {
  return today.minus({ days: today.weekday - 1 }).plus({ weeks: weeksAhead, days: weekday - 1 });
}

const MONTH_NAMES: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};
const MONTH = 'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
const EN_WEEKDAYS: Record<string, number> = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 };
const CN_WEEKDAYS: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7 };
const DAY_WORDS: Record<string, number> = {
  今天: 0, 今日: 0, 明天: 1, 明日: 1, 后天: 2, 大后天: 3, today: 0, tomorrow: 1, tmr: 1, tmrw: 1, 'day after tomorrow': 2,
  // Past days: when a borrower says when they paid.
  昨天: -1, 昨日: -1, 前天: -2, 大前天: -3, yesterday: -1, 'day before yesterday': -2,
};
const ORDINAL = '(?:st|nd|rd|th)';
// A day or month number: 15, 十五, 三十一.
const NUM = `(?:\\d{1,2}|[${CN_DIGIT_CLASS}十]{1,3})`;
const NOT_NUM_BEFORE = `(?<![\\d${CN_DIGIT_CLASS}十])`;
const NOT_NUM_AFTER = `(?![\\d${CN_DIGIT_CLASS}${CN_UNIT_CLASS}])`;
const COUNT = `\\d{1,3}|a|an|${ENGLISH_NUMBER_WORDS}`;

const int = (s: string | undefined): number => (s === undefined ? NaN : (parseInteger(s) ?? NaN));
const monthOf = (g: Groups): number => (g.mon ? (MONTH_NAMES[g.mon.slice(0, 3).toLowerCase()] ?? NaN) : int(g.m));
/** How many months or weeks ahead 下 / 下下 / next point; none for 这, 本, this. */
const ahead = (rel: string | undefined): number => (rel?.match(/下|next/gi) ?? []).length;
const countOf = (n: string | undefined): number => (n && /^an?$/i.test(n) ? 1 : int(n));

const explicit = (g: Groups): Day | undefined => calendarDate(int(g.y), monthOf(g), int(g.d));
const yearless = (g: Groups, today: Day): Day | undefined => nextOccurrence(today, monthOf(g), int(g.d));

/** 12/15 is M/D, 15/12 is D/M; 3/4 could be either and is skipped. */
function slashDate(g: Groups, today: Day): Day | undefined {
  const a = int(g.a);
  const b = int(g.b);
  const [month, day] = a === b || b > 12 ? [a, b] : a > 12 ? [b, a] : [NaN, NaN];
  if (Number.isNaN(month)) return undefined;
  return g.y ? calendarDate(int(g.y), month, day) : nextOccurrence(today, month, day);
}

function offset(g: Groups, today: Day): Day | undefined {
  const n = countOf(g.n);
  if (!Number.isInteger(n)) return undefined;
  const unit = g.days || /^day/i.test(g.unit ?? '') ? 'days' : g.weeks || /^week/i.test(g.unit ?? '') ? 'weeks' : 'months';
  return today.plus({ [unit]: n });
}

// Earlier forms win where matches overlap: the longer, more specific readings come first.
const FORMS: DateForm[] = [
  // 2026-12-15, 2026/12/15, 2026.12.15
  { re: /(?<![\d.])(?<y>\d{4})\s*[-/.]\s*(?<m>\d{1,2})\s*[-/.]\s*(?<d>\d{1,2})(?![\d.])/g, resolve: explicit },
  // 2026年12月15日, 2026年十二月十五号
  { re: new RegExp(`(?<!\\d)(?<y>\\d{4})\\s*年\\s*(?<m>${NUM})\\s*月\\s*(?<d>${NUM})\\s*[日号]?`, 'g'), resolve: explicit },
  // Dec 15 2026, December 15th, 2026
  { re: new RegExp(`\\b(?<mon>${MONTH})\\.?\\s+(?<d>\\d{1,2})${ORDINAL}?,?\\s+(?<y>\\d{4})\\b`, 'gi'), resolve: explicit },
  // 15 Dec 2026, 15th of December 2026
  { re: new RegExp(`\\b(?<d>\\d{1,2})${ORDINAL}?\\s+(?:of\\s+)?(?<mon>${MONTH})\\.?,?\\s+(?<y>\\d{4})\\b`, 'gi'), resolve: explicit },
  // Dec 15, December 15th
  { re: new RegExp(`\\b(?<mon>${MONTH})\\.?\\s+(?:the\\s+)?(?<d>\\d{1,2})${ORDINAL}?\\b`, 'gi'), resolve: yearless },
  // 15 Dec, 15th of December
  { re: new RegExp(`\\b(?:the\\s+)?(?<d>\\d{1,2})${ORDINAL}?\\s+(?:of\\s+)?(?<mon>${MONTH})\\b`, 'gi'), resolve: yearless },
  // 12月15日, 12月15号, 十二月十五日, 12月15
  { re: new RegExp(`${NOT_NUM_BEFORE}(?<m>${NUM})\\s*月份?\\s*(?<d>${NUM})\\s*[日号]?${NOT_NUM_AFTER}`, 'g'), resolve: yearless },
  // 12/15, 15/12, 15/12/2026
  { re: /(?<![\d/.:-])(?<a>\d{1,2})\s*\/\s*(?<b>\d{1,2})(?:\/(?<y>\d{4}))?(?![\d/.])/g, resolve: slashDate },
  // 下个月15号, 下月10号, 下下个月1号, 这个月20号, 本月20日
  {
    re: new RegExp(`(?<rel>下下?个?|这个?|本)月\\s*(?:的\\s*)?(?<d>${NUM})\\s*[号日]`, 'g'),
    resolve: (g, today) => dayInMonth(today, ahead(g.rel), int(g.d)),
  },
  // next month 10th, next month on the 10th, the 10th of next month, 10th next month
  {
    re: new RegExp(
      `\\b(?:(?<rel>next|this) month\\s+(?:on\\s+)?(?:the\\s+)?(?<d>\\d{1,2})${ORDINAL}?|(?:on\\s+)?(?:the\\s+)?(?<d2>\\d{1,2})${ORDINAL}?\\s+(?:of\\s+)?(?<rel2>next|this) month)\\b`,
      'gi',
    ),
    resolve: (g, today) => dayInMonth(today, ahead(g.rel ?? g.rel2), int(g.d ?? g.d2)),
  },
  // 月底, 月末, 这个月底, 本月底, 下个月底, 下月月底
  { re: /(?:(?<rel>下下?个?|这个?|本)月\s*(?:的\s*)?月?|月)[底末]/g, resolve: (g, today) => lastDayOfMonth(today, ahead(g.rel)) },
  // end of the month, end of month, end of this month, end of next month
  { re: /\bend of (?:(?:the|this|(?<rel>next)) )?month\b/gi, resolve: (g, today) => lastDayOfMonth(today, ahead(g.rel)) },
  // 三天后, 10天之后, 3日以后, 一周后, 两个星期后, 一个礼拜后, 一个月后
  {
    re: new RegExp(
      `${NOT_NUM_BEFORE}(?<n>\\d{1,3}|[${CN_DIGIT_CLASS}十百]{1,4})\\s*(?:(?<days>天|日)|个?\\s*(?<weeks>周|星期|礼拜)|个\\s*(?<months>月))\\s*[之以]?后`,
      'g',
    ),
    resolve: offset,
  },
  // in 3 days, in two weeks, in a month; 3 days later, two weeks from now
  {
    re: new RegExp(`\\b(?:in\\s+(?<n>${COUNT})\\s+(?<unit>day|week|month)s?|(?<n2>${COUNT})\\s+(?<unit2>day|week|month)s?\\s+(?:later|from now))\\b`, 'gi'),
    resolve: (g, today) => offset({ n: g.n ?? g.n2, unit: g.unit ?? g.unit2 }, today),
  },
  // 大后天, 后天, 明天, 今天, 昨天, 前天, the day after tomorrow, tomorrow, today, yesterday
  {
    re: /大后天|后天|大前天|前天|明[天日]|今[天日]|昨[天日]|\b(?:(?:the\s+)?day\s+(?:after\s+tomorrow|before\s+yesterday)|tomorrow|tmrw?|today|yesterday)\b/gi,
    resolve: (g, today) => {
      const days = DAY_WORDS[(g.word ?? '').toLowerCase().replace(/^the\s+/, '').replace(/\s+/g, ' ')];
      return days === undefined ? undefined : today.plus({ days });
    },
  },
  // 下周五, 下星期五, 下个礼拜五, 下下周一, 这周五, 本周五, 周五, 星期天
  {
    re: /(?<rel>下下?个?|这个?|本)?\s*(?:周|星期|礼拜)(?<wd>[一二三四五六日天1-7])/g,
    resolve: (g, today) => {
      const weekday = CN_WEEKDAYS[g.wd ?? ''] ?? int(g.wd);
      const weeks = ahead(g.rel);
      return weeks ? weekdayOfWeek(today, weeks, weekday) : comingWeekday(today, weekday);
    },
  },
  // next Friday, this Friday, on Friday, Friday
  {
    re: new RegExp(`\\b(?:(?<rel>next|this|on)\\s+)?(?<wd>${Object.keys(EN_WEEKDAYS).join('|')})\\b`, 'gi'),
    resolve: (g, today) => {
      const weekday = EN_WEEKDAYS[(g.wd ?? '').toLowerCase()] ?? NaN;
      return ahead(g.rel) ? weekdayOfWeek(today, 1, weekday) : comingWeekday(today, weekday);
    },
  },
  // 15号, 15日, 十五号, 三十一日 (not 3号楼, 1号线, 3日内)
  { re: new RegExp(`${NOT_NUM_BEFORE}(?<d>${NUM})\\s*(?:号(?![楼线床码])|日(?!内))`, 'g'), resolve: (g, today) => nextDayOfMonth(today, int(g.d)) },
  // on the 10th, the 10th, 10th (not "the 2nd installment")
  {
    re: new RegExp(`\\b(?:on\\s+)?(?:the\\s+)?(?<d>\\d{1,2})${ORDINAL}\\b(?!\\s+(?:installment|instalment|payment|time|period))`, 'gi'),
    resolve: (g, today) => nextDayOfMonth(today, int(g.d)),
  },
];

export function extractDates(text: string, ref: DateReference): DateEntity[] {
  const norm = normalizeKeepingOffsets(text);
  // Most messages hold no date: today is worked out only for one that does.
  let today: Day | undefined;
  const taken: Span[] = [];
  const found: DateEntity[] = [];
  for (const form of FORMS) {
    for (const m of matchesOf(norm, form.re)) {
      const start = m.index;
      const end = start + m[0].length;
      if (overlaps(taken, start, end)) continue;
      // Claimed even when it is no date ("2月30日"), so a shorter form cannot read part of it ("30日").
      taken.push({ start, end });
      const date = form.resolve({ ...m.groups, word: m[0] }, (today ??= localToday(ref)));
      if (date) found.push({ date: date.toISODate() as string, start, end, raw: text.slice(start, end) });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}
