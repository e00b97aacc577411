import { resolveIdentityKey } from '../../db/identityKey';
import { loadDialogs } from '../../dialogs/loadDialogs';
import { openDatabase, type Database } from '../../db/client';
import { importPortfolioText } from '../../portfolio/portfolioImport';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { startTestBot, type TestBot } from '../support/botServer';
import { amountsIn, say, type TurnResult } from '../support/talk';

/**
 * Penalty explanations and repayment plans over real HTTP, in both languages, on the demo
 * portfolio at 2026-11-22 (Asia/Shanghai). Every expected amount is worked out by hand in the
 * comment beside it from CONTRACT.md §5; none comes from the code under test.
 */
let bot: TestBot;
let database: Database;
let n = 0;
beforeAll(async () => {
  bot = await startTestBot();
  database = await openDatabase(bot.databaseUrl);
});
afterAll(async () => {
  await database?.close();
  await bot?.stop();
});

const CJK = /[\u3400-\u9fff]/;
const details = (id: string) => {
  const b = demoBorrowers.find((d) => d.borrowerId === id)!;
  return `${b.phone} ${b.idLast4} ${b.birthDate}`;
};
/** A fresh conversation with the borrower verified; returns a function to talk in it. */
async function verified(id: string, locale = 'zh-CN') {
  const conversation = `rp-${id}-${++n}`;
  const talk = (text: string) => say(bot.url, conversation, text, { locale });
  const first = await talk(details(id));
  expect(amountsIn(first.text).length + (first.text.match(/nothing is overdue|没有逾期/i) ? 1 : 0)).toBeGreaterThan(0);
  return { talk, conversation };
}
const buttons = (r: TurnResult) => r.replies.flatMap((a) => a.suggestedActions?.actions.map((s) => s.title) ?? []);

describe('the penalty explained', () => {
  test('zh: every input and result for the borrower’s own installment, the cap, the daily growth', async () => {
    const { talk } = await verified('D01');
    const r = await talk('罚息怎么算的');
    // P 950.00, I 180.00, 30 days; 18% × 1.5 = 27% > 24% cap; 950 × 24% / 360 × 30 = 19.00; 180 × … = 3.60
    for (const a of ['950.00', '180.00', '19.00', '3.60', '1152.60']) expect(amountsIn(r.text)).toContain(a);
    expect(r.text).toContain('24%');
    expect(r.text).toContain('上限');
    expect(r.text).toContain('30 天');
    // (950 + 180) × 24% / 360 = 0.7533… → 0.75 a day
    expect(amountsIn(r.text)).toContain('0.75');
  });

  test('zh: "为什么这么多" is answered, not looped', async () => {
    const { talk } = await verified('D01');
    const first = await talk('解释罚息');
    const why = await talk('为什么这么多');
    expect(why.text).not.toEqual(first.text);
    // 19.00 + 3.60 = 22.60 so far
    expect(amountsIn(why.text)).toEqual(expect.arrayContaining(['22.60', '0.75']));
  });

  test('en: the explanation and "how is the rate calculated"', async () => {
    const { talk } = await verified('D02', 'en-US');
    const r = await talk('Explain the penalty');
    expect(amountsIn(r.text)).toEqual(expect.arrayContaining(['19.00', '3.60', '1152.60']));
    expect(r.text).toMatch(/cap/i);
    const rate = await talk('how is the rate calculated');
    expect(rate.text).toMatch(/18%/);
    expect(rate.text).toMatch(/24%/);
    expect(rate.text).toMatch(/360/);
    for (const x of [r, rate]) expect(x.text).not.toMatch(CJK);
  });

  test('another product (flex: ×1.3, 365-day basis, no compound, a 30.00 late fee) explains itself accordingly', async () => {
    const csv = [
      'borrower_id,name,phone,id_number,date_of_birth,locale,loan_id,product,annual_rate,installment_no,due_date,principal_due,interest_due,principal_paid,interest_paid',
      'F1,赵磊,13800138099,110101198806061236,1988-06-06,zh-CN,FL1,flex,0.15,1,2026-10-23,1000.00,200.00,0,0',
    ].join('\n');
    const imported = await importPortfolioText(database.prisma, csv, { identitySecret: await resolveIdentityKey(database.sql, undefined), products: new Set(Object.keys(loadDialogs().products)) });
    expect(imported.ok).toBe(true);
    const talk = (text: string) => say(bot.url, `rp-flex-${++n}`, text);
    const r = await talk('13800138099 1236 1988-06-06 解释罚息');
    expect(amountsIn(r.text)).toContain('1246.03');
    const e = await say(bot.url, `rp-flex-${n}`, '解释罚息');
    // 15% × 1.3 = 19.5% (below the cap); 1000 × 19.5% / 365 × 30 = 16.03; no compound; late fee 30.00
    expect(e.text).toContain('19.5%');
    expect(e.text).toContain('365');
    expect(amountsIn(e.text)).toEqual(expect.arrayContaining(['16.03', '30.00', '1246.03']));
    expect(e.text).toContain('不对利息计收复利');
    expect(e.text).not.toContain('上限，按');
  });
});

describe('repayment options', () => {
  test('zh: the hardship question is asked once, then the options with their numbers', async () => {
    const { talk } = await verified('D01');
    const q = await talk('还款方案');
    expect(q.text).toContain('原因');
    expect(buttons(q)).toEqual(expect.arrayContaining(['失业了', '跳过']));
    const o = await talk('失业了');
    expect(o.text).toContain('失业');
    // 3 × 384.20 from 2026-12-22; extension to 2026-12-22: 60 days on inst. 1 (38.00 + 7.20), 29 days on
    // inst. 2 (18.37 + 3.29): 1130 + 1120 + 66.86 = 2316.86; waiver round(0.5 × 22.60) = 11.30 → 1141.30
    for (const a of ['1152.60', '384.20', '2316.86', '1141.30', '11.30']) expect(amountsIn(o.text)).toContain(a);
    expect(o.text).toContain('2026-12-22');
    expect(o.text).toContain('2026-11-25');
    // job loss: installments are offered first
    expect(o.text.indexOf('分期还款')).toBeLessThan(o.text.indexOf('延期还款'));
    const again = await talk('还款方案');
    expect(again.text).not.toContain('原因');
  });

  test('zh: a borrower who names what they want sees it at once, without the hardship question', async () => {
    const { talk } = await verified('D01');
    const r = await talk('分6期吧');
    // 1152.60 / 6 = 192.10 exactly
    expect(amountsIn(r.text)).toContain('192.10');
    expect(r.text).not.toContain('原因');
    expect(r.text).toContain('2027-05-22');
  });

  test('zh: installments chosen, changed before confirming, then confirmed and stored', async () => {
    const { talk, conversation } = await verified('D01');
    const three = await talk('我想分期');
    expect(three.text).toContain('3/6/12');
    const q3 = await talk('3');
    expect(amountsIn(q3.text)).toContain('384.20');
    const q6 = await talk('还是分6期吧');
    expect(amountsIn(q6.text)).toContain('192.10');
    const ok = await talk('确认');
    const ref = /AG-[A-Z0-9]{8}/.exec(ok.text)?.[0];
    expect(ref).toBeDefined();
    const stored = await database.prisma.agreement.findMany({ where: { conversationId: `test:${conversation}` }, include: { payments: true } });
    expect(stored).toHaveLength(1);
    const a = stored[0]!;
    expect([a.id, a.kind, a.amountFen, a.payments.length]).toEqual([ref, 'installments', 115260, 6]);
    expect(a.payments.reduce((s, p) => s + p.amountFen, 0)).toBe(115260);
    expect(JSON.parse(a.shown).schedule[5].dueDate).toBe('2027-05-22');
    expect(a.confirmedAt.getTime()).toBeGreaterThanOrEqual(a.shownAt.getTime());
    // the summary now shows the plan
    const summary = await talk('查看欠款');
    expect(summary.text).toContain(ref!);
  });

  test('zh: cancelling records nothing', async () => {
    const { talk, conversation } = await verified('D03');
    await talk('结清减免');
    const no = await talk('取消');
    expect(no.text).toContain('已取消');
    expect(await database.prisma.agreement.count({ where: { conversationId: `test:${conversation}` } })).toBe(0);
  });

  test('zh: an extension to a date in free text quotes the amount due on that date', async () => {
    const { talk } = await verified('D01');
    const r = await talk('能推迟到12月10日吗');
    // 48 days on inst. 1: 30.40 + 5.76; 17 days on inst. 2: 10.77 + 1.93 → 1130 + 1120 + 48.86 = 2298.86
    expect(amountsIn(r.text)).toContain('2298.86');
    expect(r.text).toContain('2026-12-10');
  });

  test('zh: a date beyond the policy is refused with the limit, and a person is offered', async () => {
    const { talk } = await verified('D01');
    const r = await talk('延期到2027年3月1日');
    expect(r.text).toContain('2026-12-22');
    expect(buttons(r)).toContain('转人工');
    const many = await talk('分24期');
    expect(many.text).toContain('3/6/12');
    expect(buttons(many)).toContain('转人工');
  });

  test('zh: an option the policy does not allow says why (120 days overdue: no extension)', async () => {
    const { talk } = await verified('D05');
    const r = await talk('申请延期');
    expect(r.text).toContain('90 天');
    expect(amountsIn(r.text)).toEqual([]);
  });

  test('beyond the self-service limit a person takes over and the request is recorded', async () => {
    const { talk, conversation } = await verified('D06', 'en-US');
    const r = await talk('Repayment options');
    expect(r.text).toMatch(/arranged by a person/);
    expect(r.text).toMatch(/queue/);
    expect(r.replies.some((a) => a.type === 'event' && a.name === 'handoff.initiate')).toBe(true);
    const handoffs = await database.prisma.handoff.findMany({ where: { conversationId: `test:${conversation}` } });
    expect(handoffs.map((h) => [h.rule, h.status])).toEqual([['beyondSelfService', 'queued']]);
  });

  test('zh: a promise to pay, confirmed; asking again shows it', async () => {
    const { talk, conversation } = await verified('D07');
    const r = await talk('我11月28日前能还500');
    expect(amountsIn(r.text)).toContain('500.00');
    expect(r.text).toContain('2026-11-28');
    const ok = await talk('确认');
    expect(ok.text).toMatch(/AG-/);
    const again = await talk('承诺还款');
    expect(again.text).toContain('2026-11-28');
    expect(amountsIn(again.text)).toContain('500.00');
    const stored = await database.prisma.agreement.findFirstOrThrow({ where: { conversationId: `test:${conversation}` } });
    expect([stored.kind, stored.amountFen]).toEqual(['promise', 50000]);
  });

  test.each([
    ['zh', 'D09', 'zh-CN', '我11月28日前能还500', '我想分3期', '确认', '查看欠款', /将替换您正在执行的安排（编号 (AG-[A-Z0-9]{8})）/],
    ['en', 'D10', 'en-US', 'I can pay 500 by Nov 28', '3 installments please', 'Confirm', 'How much do I owe', /replaces your current arrangement \(ref\. (AG-[A-Z0-9]{8})\)/],
  ])('%s: a new arrangement on the same loans says it replaces the active one, and does once confirmed', async (_l, id, locale, promise, plan, confirm, summary, replacing) => {
    const { talk } = await verified(id, locale);
    await talk(promise);
    const first = /AG-[A-Z0-9]{8}/.exec((await talk(confirm)).text)?.[0];
    expect(first).toBeDefined();
    const quote = await talk(plan);
    expect(replacing.exec(quote.text)?.[1]).toBe(first);
    // Shown, not yet done: until the borrower confirms, the first one stands.
    expect((await database.prisma.agreement.findUniqueOrThrow({ where: { id: first! } })).status).toBe('active');
    const second = /AG-[A-Z0-9]{8}/.exec((await talk(confirm)).text)?.[0];
    expect(second).toBeDefined();
    const rows = await database.prisma.agreement.findMany({ where: { borrowerId: id }, orderBy: { confirmedAt: 'asc' } });
    expect(rows.map((a) => [a.id, a.kind, a.status])).toEqual([[first, 'promise', 'replaced'], [second, 'installments', 'active']]);
    const audit = await database.prisma.auditLog.findFirstOrThrow({ where: { action: 'agreement.confirmed', borrowerId: id }, orderBy: { id: 'desc' } });
    expect(JSON.parse(audit.details)).toMatchObject({ reference: second, replaces: [first] });
    // The summary shows the arrangement in force only; reminders follow active arrangements only.
    const now = await talk(summary);
    expect(now.text).toContain(second!);
    expect(now.text).not.toContain(first!);
  });

  test('zh: a promise beyond 7 days or above the amount due is refused', async () => {
    const { talk } = await verified('D07');
    const late = await talk('12月20日前还500');
    expect(late.text).toContain('2026-11-29');
    // D07 owes 1013.33
    const much = await talk('明天还5000');
    expect(amountsIn(much.text)).toContain('1013.33');
  });

  test('en: options, skip the question, 6 installments, confirm', async () => {
    const { talk, conversation } = await verified('D02', 'en-US');
    const q = await talk('Repayment options');
    expect(q.text).toMatch(/reason/i);
    const o = await talk('Skip');
    expect(amountsIn(o.text)).toEqual(expect.arrayContaining(['1152.60', '384.20', '1141.30']));
    const six = await talk('6 installments please');
    expect(amountsIn(six.text)).toContain('192.10');
    const ok = await talk('Confirm');
    expect(ok.text).toMatch(/AG-[A-Z0-9]{8}/);
    for (const x of [q, o, six, ok]) expect(x.text).not.toMatch(CJK);
    expect(await database.prisma.agreement.count({ where: { conversationId: `test:${conversation}` } })).toBe(1);
  });

  test('en: extend to a date in words', async () => {
    const { talk } = await verified('D02', 'en-US');
    const r = await talk('can I extend to Dec 15');
    // 53 days on inst. 1: 33.57 + 6.36; 22 days on inst. 2: 13.93 + 2.49 → 2306.35
    expect(amountsIn(r.text)).toContain('2306.35');
  });

  test('en: a hardship reason named with the request is kept and the request answered at once', async () => {
    const { talk, conversation } = await verified('D04', 'en-US');
    const r = await talk('I lost my job, can I have more time? extend to Dec 1');
    expect(r.text).toMatch(/2026-12-01/);
    const reports = await database.prisma.hardshipReport.findMany({ where: { conversationId: `test:${conversation}` } });
    expect(reports.map((h) => h.reason)).toEqual(['job_loss']);
  });

  test('how to pay and what happens if I do not', async () => {
    const { talk } = await verified('D01');
    const how = await talk('怎么还款');
    expect(how.text).toContain('银行转账');
    const then = await talk('不还会怎样');
    expect(then.text).toContain('征信');
    expect(amountsIn(then.text)).toContain('0.75');
  });
});
