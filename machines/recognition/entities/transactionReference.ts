import { normalizeText } from '../identityEntities';

/**
 * A payment's transaction reference (流水号, 交易号, "ref"): after a marker anywhere, or the whole
 * message when the bot just asked for it. Letters, digits and dashes, 6–40 of them.
 */
const MARKED = /(?:流水号|交易号|交易单号|订单号|单号|参考号|凭证号|reference|ref\.?|txn|transaction(?:\s+(?:id|no\.?|number))?)\s*(?:是|为|[:：#])?\s*([A-Za-z0-9][A-Za-z0-9-]{5,39})/i;
const WHOLE = /^[A-Za-z0-9][A-Za-z0-9-]{5,39}$/;

export function extractTransactionReference(raw: string, options: { expecting?: string } = {}): string | undefined {
  const text = normalizeText(raw).trim();
  const marked = MARKED.exec(text)?.[1];
  if (marked) return marked;
  return options.expecting === 'proofReference' && WHOLE.test(text) && /\d/.test(text) ? text : undefined;
}
