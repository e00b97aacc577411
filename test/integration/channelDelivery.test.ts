import { startTestBot, type TestBot } from '../support/botServer';
import { post, messageActivity } from '../support/talk';
import { startChannel, type Channel, type ChannelPost } from '../support/agentHub';

/**
 * A channel that does not ask for expectReplies (Teams, Slack, a Direct Line service): the bot
 * answers the request with 200 and no body, and posts its replies to the activity's serviceUrl.
 * The outbound clients are kept between turns (bot/adapter.ts): every turn, and every channel,
 * must still get its own replies.
 */
let bot: TestBot;
let channels: [Channel, Channel];

beforeAll(async () => {
  channels = [await startChannel(), await startChannel()];
  bot = await startTestBot();
});

afterAll(async () => {
  await bot?.stop();
  await Promise.all((channels ?? []).map((c) => c.close()));
});

/** One message, delivered the normal way: replies go to the channel, not into the answer. */
async function send(channel: Channel, conversation: string, text: string, locale = 'zh-CN') {
  const r = await post(bot.url, messageActivity(conversation, text, { serviceUrl: channel.url, deliveryMode: undefined, locale }));
  expect(r.status).toBe(200);
  expect(r.body).toBe('');
  return r;
}

/** Replies go to /v3/conversations/{conversation}/activities/{the activity answered}. */
const isTo = (conversation: string) => (p: ChannelPost) => p.path.startsWith(`/v3/conversations/${conversation}/activities/`);
const postsTo = (channel: Channel, conversation: string) => channel.posts.filter(isTo(conversation));

test('each turn of each conversation posts its replies to its own channel', async () => {
  const [first, second] = channels;
  await send(first, 'normal-zh', '你好');
  await first.waitFor((p) => isTo('normal-zh')(p) && /手机号/.test(String(p.activity.text)));

  // A second turn on the same channel: the kept client delivers again.
  const before = postsTo(first, 'normal-zh').length;
  await send(first, 'normal-zh', '13800138001 1234 1990-01-01');
  await first.waitFor((p) => postsTo(first, 'normal-zh').indexOf(p) >= before && /1,152\.60/.test(String(p.activity.text)));

  // Another channel (another serviceUrl) gets its own replies, in English when asked in English.
  await send(second, 'normal-en', 'hello', 'en-US');
  await second.waitFor((p) => isTo('normal-en')(p) && /mobile number/i.test(String(p.activity.text)));
  expect(postsTo(first, 'normal-en')).toEqual([]);
  expect(postsTo(second, 'normal-zh')).toEqual([]);
});
