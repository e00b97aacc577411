import { startTestBot, type TestBot } from '../support/botServer';
import { startChannel, type Channel } from '../support/agentHub';
import { say } from '../support/talk';

/** No agent in time: the borrower is told once, through their channel, and offered a call back or a complaint. */
let bot: TestBot;
let channel: Channel;
beforeAll(async () => {
  bot = await startTestBot();
  channel = await startChannel();
});
afterAll(async () => {
  await bot?.stop();
  await channel?.close();
});

test('a queued handoff past the wait limit is told once; the request stays queued for agents', async () => {
  const talk = (text: string) => say(bot.url, 'wait-1', text, { serviceUrl: channel.url });
  await talk('13800138001 1234 1990-01-01');
  const queued = await talk('转人工');
  expect(queued.text).toContain('队列');
  expect(await bot.checkHandoffWaits()).toBe(0);
  bot.advance(11);
  expect(await bot.checkHandoffWaits()).toBe(1);
  const post = await channel.waitFor((p) => (p.activity.text ?? '').includes('回电'));
  expect(post.activity.text).toContain('投诉');
  expect(await bot.checkHandoffWaits()).toBe(0);
  // the borrower's next message still reaches nobody but the agents: the bot stays silent
  const after = await talk('好的');
  expect(after.replies.filter((a) => a.type === 'message')).toEqual([]);
});
