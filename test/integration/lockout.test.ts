import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { startTestBot, type TestBot } from '../support/botServer';
import { amountsIn, say } from '../support/talk';

/** Lockout and session expiry move the bot's clock, so they get a bot of their own. */
let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot();
});
afterAll(async () => {
  await bot?.stop();
});

const details = (id: string) => {
  const b = demoBorrowers.find((d) => d.borrowerId === id)!;
  return { right: `${b.phone} ${b.idLast4} ${b.birthDate}`, wrong: `${b.phone} 0000 ${b.birthDate}`, phone: b.phone };
};

test('three failures in a conversation lock it and the phone for 30 minutes, then it works again', async () => {
  const d03 = details('D03');
  const d04 = details('D04');
  const r1 = await say(bot.url, 'lock-a', d03.wrong);
  expect(r1.text).toContain('还可以再试 2 次');
  const r2 = await say(bot.url, 'lock-a', d03.wrong);
  expect(r2.text).toContain('还可以再试 1 次');
  const r3 = await say(bot.url, 'lock-a', d03.wrong);
  expect(r3.text).toContain('锁定 30 分钟');
  expect(r3.text).toContain('转人工'); // a person is offered
  // the right details do not help while locked, in this conversation (even for another borrower)...
  for (const m of [d03.right, d04.right]) {
    const r = await say(bot.url, 'lock-a', m);
    expect(r.text).toContain('锁定');
    expect(amountsIn(r.text)).toEqual([]);
  }
  // ...nor for the same phone in another conversation
  const other = await say(bot.url, 'lock-b', d03.right);
  expect(other.text).toContain('锁定');
  expect(amountsIn(other.text)).toEqual([]);
  // another phone in another conversation is not affected
  expect(amountsIn((await say(bot.url, 'lock-c', d04.right, { locale: 'en-US' })).text).length).toBeGreaterThan(0);

  bot.advance(29);
  expect((await say(bot.url, 'lock-b', d03.right)).text).toContain('锁定');
  bot.advance(2);
  const after = await say(bot.url, 'lock-b', d03.right);
  expect(after.text).toContain('李娜');
  const back = await say(bot.url, 'lock-a', d03.right);
  expect(back.text).toContain('李娜');
});

test('failures on one phone count across conversations', async () => {
  const d05 = details('D05');
  await say(bot.url, 'spread-1', d05.wrong);
  await say(bot.url, 'spread-2', d05.wrong);
  const third = await say(bot.url, 'spread-3', d05.wrong);
  expect(third.text).toContain('锁定');
  expect((await say(bot.url, 'spread-4', d05.right)).text).toContain('锁定');
  bot.advance(31);
});

test('failures older than 30 minutes no longer count', async () => {
  const d07 = details('D07');
  await say(bot.url, 'old-1', d07.wrong);
  await say(bot.url, 'old-1', d07.wrong);
  bot.advance(31);
  const r = await say(bot.url, 'old-1', d07.wrong);
  expect(r.text).toContain('还可以再试 2 次');
});

test('after 30 minutes without a message, verification is required again', async () => {
  const d09 = details('D09');
  const first = await say(bot.url, 'idle', d09.right);
  expect(first.text).toContain('陈静');
  bot.advance(20);
  expect(amountsIn((await say(bot.url, 'idle', '我欠多少')).text).length).toBeGreaterThan(0);
  bot.advance(31);
  const later = await say(bot.url, 'idle', '我欠多少');
  expect(later.text).toContain('重新验证');
  expect(amountsIn(later.text)).toEqual([]);
  const again = await say(bot.url, 'idle', d09.right);
  expect(again.text).toContain('陈静');
});
