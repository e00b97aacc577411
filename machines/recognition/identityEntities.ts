import { DateTime } from 'luxon';
import { matchesOf, overlaps, type Span } from './entities/text';

/**
 * Identity details in a borrower's own words (CONTRACT.md §4): a mobile number, the ID number's
 * last 4 characters and a date of birth in any common form, in any order, in one message or
 * several. Each found detail carries its span so the transcript can mask it.
 */
export interface IdentityEntities {
  phone?: string;
  idLast4?: string;
  birthDate?: string;
  /** Something that looks like an attempt at a detail but is not valid, e.g. a 10-digit number. */
  invalid: Array<'phone' | 'idLast4' | 'birthDate'>;
  spans: Span[];
}

export type ExpectedDetail = 'phone' | 'idLast4' | 'birthDate' | undefined;

/** Full-width digits and letters to ASCII, so "１３８…" reads like "138…". */
export function normalizeText(text: string): string {
  return text.normalize('NFKC');
}

const MONTHS: Record<string, number> = {
  jan: 1, january: 1, feb: 2, february: 2, mar: 3, march: 3, apr: 4, april: 4, may: 5, jun: 6, june: 6,
  jul: 7, july: 7, aug: 8, august: 8, sep: 9, sept: 9, september: 9, oct: 10, october: 10, nov: 11, november: 11,
  dec: 12, december: 12,
};

function isoDate(y: number, m: number, d: number): string | undefined {
  const dt = DateTime.fromObject({ year: y, month: m, day: d }, { zone: 'UTC' });
  return dt.isValid && y >= 1900 && y <= 2100 ? (dt.toISODate() ?? undefined) : undefined;
}

interface DateForm {
  re: RegExp;
  read: (m: RegExpMatchArray) => string | undefined;
}

const MONTH_NAME = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const n = (s: string | undefined) => Number(s);
const month = (s: string | undefined) => MONTHS[(s ?? '').toLowerCase().replace('.', '')] ?? 0;

// Order matters: longer, more specific forms first.
const DATE_FORMS: DateForm[] = [
  { re: /(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?/g, read: (m) => isoDate(n(m[1]), n(m[2]), n(m[3])) },
  { re: /(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d.])/g, read: (m) => isoDate(n(m[1]), n(m[2]), n(m[3])) },
  {
    // 01/02/1990 is read only when unambiguous (one part above 12) or both parts agree.
    re: /(?<![\d.])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?![\d.])/g,
    read: (m) => {
      const a = n(m[1]), b = n(m[2]), y = n(m[3]);
      if (a === b || b > 12) return isoDate(y, a, b);
      if (a > 12) return isoDate(y, b, a);
      return undefined;
    },
  },
  { re: new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_NAME},?\\s+(\\d{4})\\b`, 'gi'), read: (m) => isoDate(n(m[3]), month(m[2]), n(m[1])) },
  { re: new RegExp(`\\b${MONTH_NAME}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'gi'), read: (m) => isoDate(n(m[3]), month(m[1]), n(m[2])) },
  { re: /(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)/g, read: (m) => isoDate(n(m[1]), n(m[2]), n(m[3])) },
];

const PHONE = /(?<![\d+])(?:\+?86[\s-]?)?(1\d{2})[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)/g;
const FULL_ID = /(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])/g;
const ID_LAST4 = /(?<![\dA-Za-z])(\d{3}[\dXx])(?![\dA-Za-z])/g;
const LONG_DIGITS = /(?<!\d)\d{5,}(?!\d)/g;

/** Finds identity details; `expecting` is the detail the bot just asked for (context). */
export function extractIdentity(raw: string, expecting?: ExpectedDetail): IdentityEntities {
  const text = normalizeText(raw);
  const found: IdentityEntities = { invalid: [], spans: [] };

  for (const m of matchesOf(text, FULL_ID)) {
    // A whole ID number: keep only what is needed, and mask all of it.
    found.idLast4 = m[0].slice(-4).toUpperCase();
    found.spans.push({ start: m.index, end: m.index + m[0].length });
  }
  for (const form of DATE_FORMS) {
    for (const m of matchesOf(text, form.re)) {
      if (overlaps(found.spans, m.index, m.index + m[0].length)) continue;
      const date = form.read(m);
      if (date && !found.birthDate) {
        found.birthDate = date;
        found.spans.push({ start: m.index, end: m.index + m[0].length });
      } else if (!date && !found.birthDate && form !== DATE_FORMS[2]) found.invalid.push('birthDate');
    }
  }
  for (const m of matchesOf(text, PHONE)) {
    if (overlaps(found.spans, m.index, m.index + m[0].length)) continue;
    const digits = `${m[1]}${m[2]}${m[3]}`;
    if (/^1[3-9]\d{9}$/.test(digits) && !found.phone) found.phone = digits;
    else if (!found.phone) found.invalid.push('phone');
    found.spans.push({ start: m.index, end: m.index + m[0].length });
  }
  if (!found.idLast4) {
    const candidates = matchesOf(text, ID_LAST4).filter((m) => !overlaps(found.spans, m.index, m.index + m[0].length));
    const chosen = candidates.length === 1 ? candidates[0] : undefined;
    if (chosen) {
      found.idLast4 = (chosen[1] as string).toUpperCase();
      found.spans.push({ start: chosen.index as number, end: (chosen.index as number) + chosen[0].length });
    }
  }
  // Long digit runs that are none of the above: most likely a mistyped phone number or date.
  for (const m of matchesOf(text, LONG_DIGITS)) {
    if (overlaps(found.spans, m.index, m.index + m[0].length)) continue;
    found.invalid.push(expecting === 'birthDate' ? 'birthDate' : 'phone');
    found.spans.push({ start: m.index, end: m.index + m[0].length });
  }
  if (expecting === 'idLast4' && !found.idLast4 && /(?<![\dA-Za-z])[\dXx]{1,6}(?![\dA-Za-z])/.test(text) && !found.phone && !found.birthDate) {
    found.invalid.push('idLast4');
  }
  found.spans.sort((a, b) => a.start - b.start);
  return found;
}

/** The text with every identity detail replaced by asterisks of the same length. */
export function maskSpans(raw: string, spans: readonly Span[]): string {
  const text = normalizeText(raw);
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + '*'.repeat(s.end - s.start);
    at = s.end;
  }
  return out + text.slice(at);
}
