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

/** Every match of each pattern, as spans (the patterns must be global). */
export function spansOf(text: string, patterns: readonly RegExp[]): Span[] {
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => ({ start: m.index, end: m.index + m[0].length })));
}
