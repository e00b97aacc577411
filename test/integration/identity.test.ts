import { startTestBot, type TestBot } from '../support/botServer';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { amountsIn, messageActivity, post, say } from '../support/talk';

/** Identity check over real HTTP (CONTRACT.md §4), on the demo portfolio, in both languages. */
let bot: TestBot;
let n = 0;
const conv = (tag: string) => `${tag}-${++n}-${Date.now()}`;
const CJK = /[\u3400-\u9fff]/;

beforeAll(async () => {
  bot = await startTestBot();
});
afterAll(async () => {
  await bot?.stop();
});

describe('verification', () => {
  test('all three details in one message (zh-CN): verified, then the amount due now', async () => {
    const c = conv('one');
    const hello = await say(bot.url, c, '你好');
    expect(hello.status).toBe(200);
    expect(hello.text).toContain('手机号');
    const r = await say(bot.url, c, '13800138001 1234 1990-01-01');
    expect(r.text).toContain('张伟');
    expect(amountsIn(r.text)).toContain('1152.60');
    expect(r.text).toContain('逾期 30 天');
    // the menu of what to do next, as suggested actions
    const titles = r.replies.flatMap((a) => a.suggestedActions?.actions.map((s) => s.title) ?? []);
    expect(titles).toEqual(expect.arrayContaining(['解释罚息', '还款方案', '我已还款', '投诉', '转人工']));
  });

  test('step by step in English, one detail at a time, never asked again for what was given', async () => {
    const c = conv('steps');
    const first = await say(bot.url, c, 'hi', { locale: 'en-US' });
    expect(first.text).toMatch(/verify your identity/i);
    const afterPhone = await say(bot.url, c, '13800138002', { locale: 'en-US' });
    expect(afterPhone.text).toMatch(/last 4 characters/i);
    expect(afterPhone.text).not.toMatch(/mobile number/i);
    const afterId = await say(bot.url, c, '448x', { locale: 'en-US' });
    expect(afterId.text).toMatch(/date of birth/i);
    const done = await say(bot.url, c, '5 May 1985', { locale: 'en-US' });
    expect(done.text).toContain('Emily Chen');
    expect(amountsIn(done.text)).toContain('1152.60');
    for (const r of [first, afterPhone, afterId, done]) expect(r.text).not.toMatch(CJK);
  });

  test('the details in another order, with words around them', async () => {
    const r = await say(bot.url, conv('order'), '生日1990年1月1日，身份证后四位1234，手机号13800138001');
    expect(amountsIn(r.text)).toContain('1152.60');
  });

  test.each(['1990-01-01', '1990/1/1', '19900101', '1990年1月1日', '1 Jan 1990', 'January 1, 1990'])('date of birth written as %s', async (dob) => {
    const r = await say(bot.url, conv('dob'), `13800138001 1234 ${dob}`);
    expect(r.text).toContain('张伟');
    expect(amountsIn(r.text)).toContain('1152.60');
  });

  test('a birth date given first, then the rest', async () => {
    const c = conv('dobfirst');
    const a = await say(bot.url, c, '1990年1月1日');
    expect(a.text).toContain('手机号');
    const b = await say(bot.url, c, '13800138001');
    expect(b.text).toContain('后 4 位');
    const d = await say(bot.url, c, '1234');
    expect(amountsIn(d.text)).toContain('1152.60');
  });

  test('an invalid detail is pointed out and asked for again', async () => {
    const c = conv('invalid');
    const r = await say(bot.url, c, '1380013800');
    expect(r.text).toContain('不是一个有效的手机号');
    const r2 = await say(bot.url, c, '1990-02-30');
    expect(r2.text).toContain('出生日期');
  });
});

describe('nothing is disclosed before verification', () => {
  test('a known and an unknown phone get exactly the same answers, step by step', async () => {
    const known = conv('known');
    const unknown = conv('unknown');
    const steps = (phone: string) => ['你好', phone, '1234', '1991-01-01'];
    const a: string[] = [];
    const b: string[] = [];
    for (const m of steps('13800138001')) a.push((await say(bot.url, known, m)).text);
    for (const m of steps('13911112222')) b.push((await say(bot.url, unknown, m)).text);
    expect(a).toEqual(b);
    const all = a.join('\n');
    expect(all).not.toContain('张伟');
    expect(amountsIn(all)).toEqual([]);
    expect(all).toContain('不一致');
  });

  test('asking about the debt before verification asks for identity instead', async () => {
    const c = conv('early');
    for (const m of ['我欠多少钱', '解释罚息', 'how much do I owe']) {
      const r = await say(bot.url, c, m);
      expect(amountsIn(r.text)).toEqual([]);
      expect(r.text).not.toMatch(/张伟|DL01|2026-10-23/);
    }
  });

  test('a wrong ID last four on a known phone gives the same answer as a wrong phone', async () => {
    // phones no other test uses, so both are on their first attempt
    const x = await say(bot.url, conv('w1'), '13800138005 9999 1979-11-02');
    const y = await say(bot.url, conv('w2'), '13912345678 1234 1979-11-02');
    expect(x.text).toEqual(y.text);
  });
});

describe('the summary for several demo borrowers (amounts computed by hand)', () => {
  const details = (id: string) => {
    const b = demoBorrowers.find((d) => d.borrowerId === id);
    if (!b) throw new Error(`no demo borrower ${id}`);
    return `${b.phone} ${b.idLast4} ${b.birthDate}`;
  };

  test.each([
    // 950 + 180 + 19.00 + 3.60
    ['D01', 'zh-CN', ['1152.60', '19.00', '3.60']],
    // 3 × (1500 + 275) + (65.00 + 11.92) + (35.00 + 6.42) + (5.00 + 0.92), capped at 24%
    ['D04', 'en-US', ['5449.26']],
    // 1000 × 0.24 / 360 × 20 = 13.33 on the unpaid principal only
    ['D07', 'zh-CN', ['1013.33', '13.33']],
    // 2 × (700 + 125) + (21.00 + 3.75) + (7.00 + 1.25)
    ['D09', 'zh-CN', ['1683.00']],
  ])('%s', async (id, locale, expected) => {
    const r = await say(bot.url, conv('sum'), details(id), { locale });
    for (const amount of expected) expect(amountsIn(r.text)).toContain(amount);
  });

  test('D08: nothing overdue, the next installment shown', async () => {
    const r = await say(bot.url, conv('none'), details('D08'), { locale: 'en-US' });
    expect(r.text).toMatch(/nothing is overdue/i);
    expect(amountsIn(r.text)).toContain('690.00');
  });
});

describe('ending the session', () => {
  test('after goodbye, verification is required again', async () => {
    const c = conv('bye');
    await say(bot.url, c, '13800138001 1234 1990-01-01');
    const bye = await say(bot.url, c, '再见');
    expect(bye.text).toContain('再见');
    const again = await say(bot.url, c, '我欠多少');
    expect(amountsIn(again.text)).toEqual([]);
    expect(again.text).toContain('验证');
  });
});

describe('malformed activities', () => {
  test('invalid JSON: 400 with a JSON error, not 500', async () => {
    const r = await post(bot.url, '{"type":');
    expect(r.status).toBe(400);
    expect(typeof r.body).toBe('object');
  });

  test('a missing conversation: 400 naming the field', async () => {
    const r = await post(bot.url, { type: 'message', channelId: 'test', serviceUrl: 'http://127.0.0.1:9/', from: { id: 'u' }, text: 'hi' });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('conversation');
  });

  test('a body that is not an object: 400', async () => {
    for (const body of ['[]', '"hello"', '42']) expect((await post(bot.url, body)).status).toBe(400);
  });
});

describe('opening the chat', () => {
  test('a borrower joining the conversation is greeted in the language of the channel; the bot joining is not a borrower', async () => {
    const c = conv('join');
    const r = await post(bot.url, {
      ...messageActivity(c, ''),
      type: 'conversationUpdate',
      text: undefined,
      locale: 'en-US',
      membersAdded: [{ id: `user-${c}` }],
    });
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/verify your identity/i);
    const bot2 = await post(bot.url, { ...messageActivity(conv('join-bot'), ''), type: 'conversationUpdate', text: undefined, membersAdded: [{ id: 'bot' }] });
    expect(bot2.replies).toEqual([]);
  });
});
