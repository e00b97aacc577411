import { normalizeKeepingOffsets } from './text';

/**
 * How a borrower says they paid (CONTRACT.md §6: bank transfer / Alipay / WeChat Pay / other).
 * A wallet named anywhere wins over generic transfer words, because "用支付宝转账" and "微信转账"
 * are wallet payments; between two wallets, the one named first. Short Latin forms (zfb, wx, vx)
 * count only as whole words so they are not read inside other words.
 */
export type PaymentMethod = 'bank_transfer' | 'alipay' | 'wechat_pay' | 'other';

// In priority order: wallets, then banks, then anything else.
const METHODS: Array<{ method: PaymentMethod; re: RegExp }> = [
  { method: 'alipay', re: /支付宝|支付寶|(?<![a-z])(?:ali\s*pay|zfb)(?![a-z])/i },
  { method: 'wechat_pay', re: /微信|v信|(?<![a-z])(?:we\s*chat(?:\s*pay)?|weixin|wx|vx)(?![a-z])/i },
  { method: 'bank_transfer', re: /银行|转账|网银|汇款|(?<![a-z])(?:bank|wire|transfer(?:red)?)(?![a-z])/i },
  { method: 'other', re: /其他|其它|现金|(?<![a-z])(?:other|cash)(?![a-z])/i },
];

export function extractPaymentMethod(text: string): PaymentMethod | undefined {
  const norm = normalizeKeepingOffsets(text);
  const wallets = METHODS.slice(0, 2)
    .map(({ method, re }) => ({ method, at: re.exec(norm)?.index }))
    .filter((w): w is { method: PaymentMethod; at: number } => w.at !== undefined)
    .sort((a, b) => a.at - b.at);
  if (wallets[0]) return wallets[0].method;
  return METHODS.slice(2).find(({ re }) => re.test(norm))?.method;
}
