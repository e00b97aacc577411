import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { MAX_TEXT_LENGTH } from '../../bot/activitySchema';
import { startTestBot, type TestBot } from '../support/botServer';
import { messageActivity, post } from '../support/talk';

/**
 * Odd input on /api/messages: a table of odd texts through real conversations, then ~2,000
 * random and mutated activities (fast-check). Never a 5xx, never a turn that fails (the bot's
 * "something went wrong" answer), the server keeps answering /healthz, and the heap does not grow
 * with the number of requests.
 */
const SORRY = /系统暂时出了点问题|something went wrong on our side/;
const VERIFY = '13800138001 1234 1990-01-01';

let bot: TestBot;
beforeAll(async () => {
  bot = await startTestBot({ env: { RATE_LIMIT_PER_ADDRESS: '0', RATE_LIMIT_PER_CONVERSATION: '0' } });
});
afterAll(async () => {
  await bot?.stop();
});

const ODD_TEXTS: Array<[string, string]> = [
  ['emoji', '😀👍🏽👨‍👩‍👧‍👦 我想还款 🙏'],
  ['right-to-left marks', '\u200f\u202eمرحبا\u202c 分3期\u200e'],
  ['zero-width characters', '分\u200b3\u200c期\u200d\ufeff'],
  ['control characters', 'hello\u0000\u0001\u0007\u001b[31m\u007f\u0085 there'],
  ['a NUL alone', '\u0000'],
  ['lone surrogates', '\ud800 and \udfff'],
  ['10,000 characters', '还'.repeat(MAX_TEXT_LENGTH)],
  ['10,000 digits', '1'.repeat(MAX_TEXT_LENGTH)],
  ['full-width digits', '我想分３期，每期１５０．５０元'],
  ['only whitespace', ' \t\n\r\u3000 '],
  ['markdown and HTML', '**粗体** <script>alert(1)</script> [x](javascript:alert(1))'],
  ['SQL-looking text', "'; DROP TABLE Message; --"],
  ['a number too large', '还款 99999999999999999999999999999 元'],
  ['a date that does not exist', '2026-02-30 还款'],
];

describe('odd text never breaks a turn', () => {
  test.each(ODD_TEXTS)('%s, before and after verification', async (label, text) => {
    const conversation = `odd-${label.replace(/\W+/g, '-')}`;
    for (const t of [text, VERIFY, text]) {
      const r = await post(bot.url, messageActivity(conversation, t));
      expect(r.status).toBe(200);
      expect(r.replies.length).toBeGreaterThan(0);
      expect(r.text).not.toMatch(SORRY);
    }
  });

  test('full-width digits verify like ASCII ones', async () => {
    const r = await post(bot.url, messageActivity('odd-fullwidth-verify', '１３８００１３８００１ １２３４ １９９０－０１－０１'));
    expect(r.text).toContain('张伟');
  });

  test('text one character over the limit is refused with the reason, not cut', async () => {
    const r = await post(bot.url, messageActivity('odd-too-long', 'x'.repeat(MAX_TEXT_LENGTH + 1)));
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain(`text is longer than ${MAX_TEXT_LENGTH} characters`);
  });
});

// ---- property-based --------------------------------------------------------------------------------

const oddChar = fc.constantFrom('\u0000', '\u0008', '\u001b', '\u007f', '\u0085', '\u200b', '\u200d', '\u200e', '\u200f', '\u202e', '\u2066', '\ufeff', '\ud800', '\udfff', '\uffff', '１', '０', '－', '😀', '👨‍👩‍👧');
const phrase = fc.constantFrom('你好', VERIFY, '13800138001', '1234', '1990-01-01', '查看欠款', '分3期', '确认', '取消', '我已经还款了', '我要投诉', '为什么有罚息', '延期', '转人工', 'hello', 'I paid yesterday', 'goodbye', '昨天用支付宝还了500');
const text = fc.oneof(
  phrase,
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.tuple(phrase, fc.array(oddChar, { maxLength: 8 }), phrase).map(([a, odd, b]) => `${a}${odd.join('')}${b}`),
  fc.integer({ min: 0, max: MAX_TEXT_LENGTH + 2 }).map((n) => 'a'.repeat(n)),
);
const weird = fc.oneof(fc.constant(null), fc.constant(''), fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 20 }), fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }), fc.object({ maxDepth: 1 }));

/** A valid activity with some fields replaced, removed or made odd. */
function mutated(serviceUrl: string) {
  const base = fc.record({
    conversation: fc.integer({ min: 0, max: 24 }).map((i) => `fuzz-${i}`),
    text,
    type: fc.constantFrom('message', 'message', 'message', 'conversationUpdate', 'event', 'typing', 'invoke', 'endOfConversation', 'messageReaction', 'bogus'),
    deliveryMode: fc.constantFrom('expectReplies', 'expectReplies', 'normal', undefined),
  });
  const overrides = fc.dictionary(
    fc.constantFrom('id', 'channelId', 'serviceUrl', 'from', 'recipient', 'conversation', 'text', 'locale', 'timestamp', 'attachments', 'membersAdded', 'value', 'name', 'channelData', 'entities', 'textFormat', 'replyToId'),
    fc.oneof(
      weird,
      fc.constant(undefined),
      fc.constant([{ contentType: 'image/png', contentUrl: 'data:image/png;base64,iVBORw0KGgo=' }]),
      fc.constant([{ contentType: 'image/png', contentUrl: `${serviceUrl}nothing-here.png` }]),
      fc.constant([{ id: 'user-1' }, { id: 'bot' }]),
      fc.constant({ state: 'accepted' }),
      fc.string({ unit: 'binary', maxLength: 40 }),
    ),
    { maxKeys: 3 },
  );
  return fc.tuple(base, overrides).map(([b, o]) => ({
    ...messageActivity(b.conversation, b.text, { type: b.type, deliveryMode: b.deliveryMode, serviceUrl }),
    ...(b.type === 'event' ? { name: 'handoff.status', value: { state: 'completed' } } : {}),
    ...o,
  }));
}

/** What a channel might send that is not an activity at all. */
const garbage = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('{"type":', '{', '[]', 'null', '"a string"', '{"type":"message","text":"\\ud800"}', `{"a":${'['.repeat(2000)}`),
);

function gc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

test('~2,000 random and mutated activities: no 5xx, no failed turn, /healthz still 200, the heap stays bounded', async () => {
  // The bot's own Direct Line stand-in acknowledges replies posted to it: activities with
  // deliveryMode "normal" have somewhere to go.
  const serviceUrl = `${bot.url}/v3/directline/`;
  const counts = new Map<number, number>();
  const failures: string[] = [];
  const send = async (body: unknown) => {
    const r = await post(bot.url, body);
    counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    if (r.status >= 500 || (r.status === 200 && SORRY.test(r.text))) failures.push(`${r.status} for ${JSON.stringify(body).slice(0, 300)}`);
    return r.status < 500 && !(r.status === 200 && SORRY.test(r.text));
  };
  // Eight at a time, so turns of the same conversation also meet.
  const batch = fc.array(fc.oneof({ weight: 4, arbitrary: mutated(serviceUrl) }, { weight: 1, arbitrary: garbage }), { minLength: 8, maxLength: 8 });
  const property = fc.asyncProperty(batch, async (bodies) => (await Promise.all(bodies.map(send))).every(Boolean));

  await fc.assert(property, { numRuns: 25, seed: 42 }); // warm-up: caches, pools, compiled code
  gc();
  const before = process.memoryUsage().heapUsed;
  await fc.assert(property, { numRuns: 225 });
  gc();
  const grown = process.memoryUsage().heapUsed - before;

  expect(failures).toEqual([]);
  expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  // Enough turns ran to mean something, and the rest were refused as 4xx.
  expect(counts.get(200) ?? 0).toBeGreaterThan(400);
  expect([...counts.keys()].every((s) => s < 500)).toBe(true);
  expect(grown).toBeLessThan(48 * 1024 * 1024);
});
