import { loadDialogs } from '../../dialogs/loadDialogs';
import { LOCALES } from '../../dialogs/schemas';
import { createRecognizer, type RecognitionContext } from '../../machines/recognition/recognizer';

/** The whole recognizer: buttons, entities, the classifier, keywords and context, as the bot runs it. */
const dialogs = loadDialogs();
const recognize = createRecognizer(dialogs.keywords, dialogs.copy, dialogs.nlu.training);
/** Friday 2026-11-20, 10:00 in Shanghai. */
const clock: RecognitionContext = { now: new Date('2026-11-20T02:00:00Z'), timeZone: 'Asia/Shanghai' };
const read = (text: string, context: RecognitionContext = {}) => recognize(text, { ...clock, ...context });

/** What a phone's full-width keyboard sends: ＡＢＣ, １２３ and the ideographic space. */
const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).replace(/ /g, '\u3000');

describe('buttons and typed titles are equivalent', () => {
  const actions = LOCALES.flatMap((locale) =>
    Object.entries(dialogs.copy[locale])
      .filter(([key]) => key.startsWith('actions.'))
      .map(([key, title]) => ({ locale, key: key.slice('actions.'.length), title })),
  );
  const intentOf = (key: string) => (key.startsWith('hardship.') ? 'hardship' : key);
  /** Every action a title names: a title can be shared ("Something else" is a hardship reason and a complaint category). */
  const sharing = (title: string) => actions.filter((a) => a.title.trim().toLowerCase() === title.trim().toLowerCase()).map((a) => intentOf(a.key));

  test('there are titles in both languages', () => {
    expect(actions.filter((a) => a.locale === 'zh-CN').length).toBeGreaterThan(20);
    expect(actions.filter((a) => a.locale === 'en').length).toBeGreaterThan(20);
  });

  test.each(actions.filter((a) => !a.title.includes('{')))('$locale $key: "$title"', ({ key, title }) => {
    const clicked = read(title);
    expect(sharing(title)).toContain(clicked.intent);
    expect(clicked.confidence).toBe(1);
    if (key.startsWith('hardship.')) expect(clicked.entities.hardship).toBe(key.slice('hardship.'.length));
    // Typed by hand: other case, stray spaces, a full-width keyboard.
    for (const typed of [title.toUpperCase(), title.toLowerCase(), `  ${title} `, fullWidth(title)]) expect(read(typed)).toEqual(clicked);
  });

  test.each(actions.filter((a) => a.title.includes('{count}')))('$locale $key: "$title" with a count', ({ title }) => {
    for (const count of [3, 6, 12]) {
      const r = read(title.replace('{count}', String(count)));
      expect([r.intent, r.entities.count]).toEqual(['installments', count]);
    }
  });
});

describe('the examples of issue 7', () => {
  test('这个月失业了还不上，能不能晚点还: an extension, and the job loss kept', () => {
    const r = read('这个月失业了还不上，能不能晚点还');
    expect(r.intent).toBe('extension');
    expect(r.entities.hardship).toBe('job_loss');
  });

  test('罚息咋这么多: why so much, or the penalty explained', () => {
    expect(['whyMuch', 'explainPenalty']).toContain(read('罚息咋这么多').intent);
  });

  test('I paid 3.5k yesterday via alipay: already paid, 3500.00', () => {
    const r = read('I paid 3.5k yesterday via alipay');
    expect([r.intent, r.entities.amount, r.language]).toEqual(['alreadyPaid', '3500.00', 'en']);
  });

  test('分6期吧: six installments', () => {
    const r = read('分6期吧');
    expect([r.intent, r.entities.count]).toEqual(['installments', 6]);
  });

  test('下个月15号前能还两千: a promise of 2000.00 by December 15', () => {
    const r = read('下个月15号前能还两千');
    expect([r.intent, r.entities.amount, r.entities.date]).toEqual(['promise', '2000.00', '2026-12-15']);
  });

  test.each([
    ['能不能delay几天', 'extension'],
    ['penalty咋算的', 'explainPenalty'],
    ['发息怎么算', 'explainPenalty'],
    ['能分其吗', 'installments'],
    ['这钱不是我借的', 'dispute'],
    ['别再给我打电话了', 'stopContact'],
    ['English please', 'changeLanguage'],
    ['I never borrowed this money', 'dispute'],
    ["I'm not paying", 'refusePay'],
    ['我的投诉处理得怎么样了', 'complaintStatus'],
  ])('%s → %s', (text, intent) => expect(read(text).intent).toBe(intent));
});

describe('entities and patterns that decide on their own', () => {
  test('a count names installments whatever the words around it', () => {
    expect(read('那就12期吧').intent).toBe('installments');
    expect(read('6 installments please').entities.count).toBe(6);
  });

  test('identity details alone are identify, and their numbers are not amounts or dates', () => {
    const r = read('13800138001 1234 1990-01-01');
    expect(r.intent).toBe('identify');
    expect(r.entities.identity).toMatchObject({ phone: '13800138001', idLast4: '1234', birthDate: '1990-01-01' });
    expect([r.entities.amount, r.entities.date]).toEqual([undefined, undefined]);
  });

  test('identity details with a request: the request is the intent, the details are still read', () => {
    const r = read('13800138001 罚息咋这么多');
    expect(r.intent).toBe('whyMuch');
    expect(r.entities.identity.phone).toBe('13800138001');
  });

  test('the classifier alone never decides identify: numbers look alike to it', () => {
    expect(read('12月20日 500').intent).not.toBe('identify');
  });

  test('an amount and a date still ahead, and nothing else understood, are a promise', () => {
    const r = read('12月20日 500');
    expect([r.intent, r.entities.amount, r.entities.date]).toEqual(['promise', '500.00', '2026-12-20']);
  });

  test('hardship the classifier hears without a known reason is hardship "other"', () => {
    const r = read('最近手头紧');
    expect([r.intent, r.entities.hardship]).toEqual(['hardship', 'other']);
  });
});

describe('context: what the bot just asked', () => {
  test('"6" after "how many installments?" is six installments; on its own it is not', () => {
    const asked = read('6', { expecting: 'installmentCount' });
    expect([asked.intent, asked.entities.count]).toEqual(['installments', 6]);
    const alone = read('6');
    expect(alone.intent).not.toBe('installments');
    expect(alone.entities.count).toBeUndefined();
  });

  test('"1234" after "the last 4 of your ID?" is identify and not an amount', () => {
    const r = read('1234', { expecting: 'idLast4' });
    expect([r.intent, r.entities.identity.idLast4, r.entities.amount]).toEqual(['identify', '1234', undefined]);
  });

  test('after a confirmation question, yes or no as the likeliest request is the answer', () => {
    const text = 'that should do';
    expect(read(text).intent).not.toMatch(/^(yes|no)$/);
    expect(['yes', 'no']).toContain(read(text, { expecting: 'confirmation' }).intent);
  });

  test('after a confirmation question, something unrelated is still not a yes', () => {
    expect(read('凑合吧', { expecting: 'confirmation' }).intent).not.toBe('yes');
  });
});

describe('not understood', () => {
  test.each(['今天天气怎么样', 'what is the capital of France', '讲个笑话', 'qwertyuiop', '？？？'])('%s is none, with alternatives to ask about', (text) => {
    const r = read(text);
    expect(r.intent).toBe('none');
    expect(r.alternatives!.length).toBeGreaterThan(0);
    expect(r.alternatives!.length).toBeLessThanOrEqual(3);
  });

  test('alternatives are requests, likeliest first, never none or identify', () => {
    const r = read('罚息 延期');
    const alternatives = r.alternatives!;
    expect(alternatives.map((a) => a.intent)).not.toContain('none');
    expect(alternatives.map((a) => a.intent)).not.toContain('identify');
    for (let i = 1; i < alternatives.length; i++) expect(alternatives[i - 1]!.score).toBeGreaterThanOrEqual(alternatives[i]!.score);
  });

  test('the confidence of a decision is the classifier probability', () => {
    const r = read('能不能减免一点罚息');
    expect(r.intent).toBe('waiver');
    expect(r.confidence).toBe(r.alternatives![0]!.score);
    expect(r.confidence).toBeGreaterThan(0.3);
  });
});
