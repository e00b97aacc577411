/**
 * Text helpers shared by the entity extractors. Spans returned to callers index the borrower's
 * own text, so normalisation here never changes a string's length.
 */
export interface Span {
  start: number;
  end: number;
}

/**
 * NFKC one character at a time, keeping a character as it is when NFKC would change the length
 * ("…" → "..."). Full-width digits, letters, "￥" and the ideographic space all map one-to-one,
 * which is what borrowers' IMEs produce; offsets in the result are offsets in the input.
 */
export function normalizeKeepingOffsets(text: string): string {
  let out = '';
  for (const ch of text) {
    const n = ch.normalize('NFKC');
    out += n.length === ch.length ? n : ch;
  }
  return out;
}

export function overlaps(spans: readonly Span[], start: number, end: number): boolean {
  return spans.some((s) => start < s.end && end > s.start);
}

/**
 * Every match of a global pattern, as `[...text.matchAll(re)]` gives them, without the copy of the
 * pattern that String#matchAll makes on every call (V8 builds and initialises a new RegExp each
 * time: recognising one message called it about 40 times, 1.7% of the turn worker's CPU). The
 * pattern's lastIndex is left at 0, as a shared global pattern must be.
 */
export function matchesOf(text: string, re: RegExp): RegExpExecArray[] {
  if (!re.global) throw new TypeError(`matchesOf needs a global pattern: ${re}`);
  const found: RegExpExecArray[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    found.push(m);
    // An empty match would be found again at the same place: step over it (a whole code point in unicode mode, as matchAll does).
    if (m[0] === '') re.lastIndex += re.unicode && (text.codePointAt(re.lastIndex) ?? 0) > 0xffff ? 2 : 1;
  }
  re.lastIndex = 0;
  return found;
}

/** Every match of each pattern, as spans (the patterns must be global). */
export function spansOf(text: string, patterns: readonly RegExp[]): Span[] {
  return patterns.flatMap((re) => matchesOf(text, re).map((m) => ({ start: m.index, end: m.index + m[0].length })));
}
