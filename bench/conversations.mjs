/**
 * What the load says: whole conversations through the real flows, each with a fresh
 * conversation id, the demo borrowers in rotation (credentials from portfolio/demoPortfolio.ts,
 * compiled into dist/ by the build).
 *
 * full:  verify → summary → 解释罚息 → 还款方案 → 跳过 (the hardship question) → 分3期 → 确认 → 再见
 * short: verify → 再见 (for the memory runs over 100,000 conversations)
 */
import path from 'node:path';
import { require, root } from './lib.mjs';

export const FULL = ['我欠多少钱', '解释罚息', '还款方案', '跳过', '分3期', '确认', '再见'];
export const SHORT = ['再见'];

export function demoBorrowers() {
  const { demoBorrowers } = require(path.join(root, 'dist/portfolio/demoPortfolio.js'));
  return demoBorrowers.map((b) => ({ id: b.borrowerId, locale: b.locale, verify: `${b.phone} ${b.idLast4} ${b.birthDate}` }));
}

/** The messages of conversation number `n`: the n-th borrower (in rotation) verifies, then the script. */
export function conversationOf(borrowers, n, script) {
  const b = borrowers[n % borrowers.length];
  return { borrower: b.id, locale: 'zh-CN', messages: [b.verify, ...(script === 'short' ? SHORT : FULL)] };
}
