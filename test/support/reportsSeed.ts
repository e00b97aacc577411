/**
 * A small, known day of work for the reports' tests (test/unit/reports.test.ts, the browser test):
 * real conversations through the real server at TEST_NOW (2026-11-22, Asia/Shanghai), and the
 * numbers they must produce.
 */
import { openDatabase } from '../../db/client';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import type { TestBot } from './botServer';
import { agentApi, createStaffAccounts, login, type Channel } from './agentHub';
import { say, type TurnResult } from './talk';

export const SEED_DAY = '2026-11-22';
export const SUPERVISOR = { username: 'sue', password: 'sue-reports-pw', role: 'supervisor' as const };
export const AGENT = { username: 'alice', password: 'alice-reports-pw', role: 'agent' as const };

const details = (id: string) => {
  const b = demoBorrowers.find((d) => d.borrowerId === id)!;
  return `${b.phone} ${b.idLast4} ${b.birthDate}`;
};

/** Every turn must be answered, or the seed is not what the numbers below assume. */
async function turn(bot: TestBot, channel: Channel, conversation: string, text: string, expected: RegExp): Promise<TurnResult> {
  const r = await say(bot.url, conversation, text, { serviceUrl: channel.url });
  if (r.status !== 200 || !expected.test(r.text)) throw new Error(`seed: "${text}" in ${conversation} got ${r.status}: ${r.text}`);
  return r;
}

/**
 * Five conversations:
 *  1. D07 verifies, promises 500.00 by 2026-11-28 and confirms (promise, contained);
 *  2. D03 verifies, is shown the options (after giving a hardship reason), sends a proof of 700.00
 *     by Alipay (pending review), contained;
 *  3. D03 again in another conversation: a service complaint (normal severity, due 2026-12-07), contained;
 *  4. D01 gets the details wrong once, then verifies and asks for a person (explicitRequest),
 *     claimed by an agent 5 minutes later;
 *  5. someone who never verifies: one failed attempt, then opts out of reminders ("退订");
 *  6. the agent verifies D03's proof at 10:05: the reminder pass it starts tells D03 (sent).
 */
export async function seedReportDay(bot: TestBot, channel: Channel): Promise<void> {
  await createStaffAccounts(bot.databaseUrl, [SUPERVISOR, AGENT]);

  await turn(bot, channel, 'rep-promise', details('D07'), /¥/);
  await turn(bot, channel, 'rep-promise', '我11月28日前能还500', /2026-11-28/);
  await turn(bot, channel, 'rep-promise', '确认', /AG-/);

  await turn(bot, channel, 'rep-options', details('D03'), /¥/);
  await turn(bot, channel, 'rep-options', '有什么还款方案', /./);
  await turn(bot, channel, 'rep-options', '失业了', /分期/);
  const proofId = (await turn(bot, channel, 'rep-options', '昨天用支付宝还了700，交易号 ZFB2026112100077', /PP-/)).text.match(/PP-[A-Z0-9]+/)![0];

  await turn(bot, channel, 'rep-complaint', details('D03'), /¥/);
  await turn(bot, channel, 'rep-complaint', '我要投诉', /哪方面/);
  await turn(bot, channel, 'rep-complaint', '服务态度', /具体情况/);
  await turn(bot, channel, 'rep-complaint', '客服电话里态度很差，还挂了我的电话', /怎么处理/);
  await turn(bot, channel, 'rep-complaint', '希望你们道歉', /CP-/);

  await turn(bot, channel, 'rep-person', '13800138001 9999 1990-01-01', /./);
  await turn(bot, channel, 'rep-person', details('D01'), /¥/);
  await turn(bot, channel, 'rep-person', '转人工', /人工客服队列/);
  bot.advance(5);
  const token = await login(bot.url, AGENT.username, AGENT.password);
  const queue = await agentApi(bot.url, token, 'GET', '/api/agent/handoffs?status=queued');
  const handoff = (queue.body.handoffs as Array<{ id: string; conversationId: string }>).find((h) => h.conversationId === 'test:rep-person');
  if (!handoff) throw new Error('seed: the handoff is not queued');
  const claimed = await agentApi(bot.url, token, 'POST', `/api/agent/handoffs/${handoff.id}/claim`);
  if (claimed.status !== 200) throw new Error(`seed: claim answered ${claimed.status}`);

  await turn(bot, channel, 'rep-stranger', '13900000000 1111 1980-01-01', /./);
  await turn(bot, channel, 'rep-stranger', '退订', /不会再主动/);

  const verified = await agentApi(bot.url, token, 'POST', `/api/review/proofs/${proofId}`, { decision: 'verified' });
  if (verified.status !== 200) throw new Error(`seed: proof review answered ${verified.status}`);
  await expectReminder(bot, proofId, 'sent');
}

/** Waits for the reminder pass a review decision started to settle the reminder about `subject`. */
async function expectReminder(bot: TestBot, subject: string, status: 'sent'): Promise<void> {
  const database = await openDatabase(bot.databaseUrl);
  try {
    for (const deadline = Date.now() + 10_000; ; ) {
      const reminder = await database.prisma.reminder.findFirst({ where: { subject, status: { not: 'claimed' } } });
      if (reminder) {
        if (reminder.status !== status) throw new Error(`seed: the reminder about ${subject} is ${reminder.status} (${reminder.reason}), not ${status}`);
        return;
      }
      if (Date.now() > deadline) throw new Error(`seed: no reminder about ${subject} within 10 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    await database.close();
  }
}
