import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { startTestBot, type TestBot } from '../support/botServer';
import { amountsIn, say } from '../support/talk';

/** Borrowers in their own words: whole flows by typing only, clarifying questions, language changes. */
let bot: TestBot;
let n = 0;
beforeAll(async () => {
  bot = await startTestBot();
});
afterAll(async () => {
  await bot?.stop();
});
const CJK = /[\u3400-\u9fff]/;

function conversation(locale = 'zh-CN') {
  const id = `u-${++n}`;
  return (text: string) => say(bot.url, id, text, { locale });
}
const credentials = (id: string) => {
  const b = demoBorrowers.find((d) => d.borrowerId === id)!;
  return `${b.phone} ${b.idLast4} ${b.birthDate}`;
};

test('zh, typed only: hardship and a later date in one breath, then a plan agreed', async () => {
  const talk = conversation();
  await talk(credentials('D01'));
  const r = await talk('这个月失业了还不上，能不能晚点还');
  expect(r.text).toMatch(/延期|哪一天|最晚/);
  const d = await talk('推迟到下个月10号');
  // 2026-12-10: 48 days on inst. 1 (30.40 + 5.76), 17 on inst. 2 (10.77 + 1.93) → 2298.86
  expect(amountsIn(d.text)).toContain('2298.86');
  const ok = await talk('好的确认');
  expect(ok.text).toMatch(/AG-[A-Z0-9]{8}/);
});

test('en, typed only: colloquial questions answered', async () => {
  const talk = conversation('en-US');
  await talk(credentials('D02'));
  const why = await talk('why is the penalty so high??');
  expect(amountsIn(why.text).length).toBeGreaterThan(0);
  const six = await talk('can i split it into 6');
  expect(amountsIn(six.text)).toContain('192.10');
  for (const r of [why, six]) expect(r.text).not.toMatch(CJK);
});

test('not understood: a clarifying question with the likeliest options, then a person', async () => {
  const talk = conversation();
  await talk(credentials('D03'));
  const first = await talk('今天天气怎么样');
  expect(first.text).toMatch(/不太确定|没有理解/);
  expect(first.replies.flatMap((a) => a.suggestedActions?.actions ?? []).length).toBeGreaterThan(0);
  const second = await talk('讲个笑话吧');
  expect(second.text).toContain('人工客服');
});

test('a dispute in the borrower’s own words goes to a person', async () => {
  const talk = conversation();
  await talk(credentials('D05'));
  const r = await talk('这笔钱我根本没借过，是不是搞错了');
  expect(r.text).toContain('人工客服');
});

test('changing language mid-conversation', async () => {
  const talk = conversation('en-US');
  await talk(credentials('D02'));
  const zh = await talk('请说中文');
  expect(zh.text).toMatch(CJK);
  const menu = await talk('查看欠款');
  expect(menu.text).toContain('逾期');
  expect(menu.text).not.toMatch(/overdue/i);
});

test('refusing to pay is met with the consequences and the options, calmly', async () => {
  const talk = conversation();
  await talk(credentials('D07'));
  const r = await talk('我就是不想还了');
  expect(r.text).toContain('征信');
});
