import { loadDialogs } from '../../dialogs/loadDialogs';
import { LOCALES } from '../../dialogs/schemas';
import { normalizeForClassifier, trainClassifier } from '../../machines/recognition/classifier';

/** The intent classifier (character n-gram TF-IDF + logistic regression) and the data it learns from. */
const dialogs = loadDialogs();
const everything: Record<string, string[]> = {};
for (const locale of LOCALES) for (const [intent, list] of Object.entries(dialogs.nlu.training[locale])) (everything[intent] ??= []).push(...list);

// Every intent the conversation machine reads or issue 7 names, plus the explicit off-topic one.
const INTENTS = [
  'greeting', 'goodbye', 'identify', 'amountDue', 'explainPenalty', 'whyMuch', 'rateQuestion', 'waiver', 'repaymentOptions', 'installments',
  'extension', 'promise', 'alreadyPaid', 'repaymentMethods', 'consequences', 'complaint', 'complaintStatus', 'human', 'dispute', 'hardship',
  'refusePay', 'abuse', 'stopContact', 'changeLanguage', 'help', 'yes', 'no', 'skip', 'none',
];

describe('normalizeForClassifier', () => {
  test.each([
    ['ＰＥＮＡＬＴＹ咋算的？', 'penalty咋算的'],
    ['下个月15号前能还2,000.50', '下个月0号前能还0'],
    ['I paid 3.5k on 2026-11-19!!', 'i paid 0k on 0'],
    ['  分６期   吧 ', '分0期 吧'],
  ])('%s → %s', (text, normalized) => expect(normalizeForClassifier(text)).toBe(normalized));

  test('amounts and dates do not change what the classifier sees', () => {
    const c = trainClassifier({ a: ['明天还500', 'pay 20 tomorrow'], b: ['罚息多少', 'what rate'] });
    expect(c.classify('明天还3500')).toEqual(c.classify('明天还12'));
  });
});

describe('training', () => {
  test('is deterministic: the same phrases give the same model', () => {
    const a = trainClassifier(everything);
    const b = trainClassifier(everything);
    for (const text of ['罚息咋这么多', 'can i pay in 6', '今天天气怎么样', 'zzz']) expect(a.classify(text)).toEqual(b.classify(text));
  });

  test('does not depend on the order intents are listed in', () => {
    const reversed = Object.fromEntries(Object.entries(everything).reverse());
    expect(trainClassifier(reversed).classify('我想分期')).toEqual(trainClassifier(everything).classify('我想分期'));
  });

  test('scores are probabilities over every intent, likeliest first', () => {
    const ranked = trainClassifier(everything).classify('能不能delay几天');
    expect(ranked.map((r) => r.intent).sort()).toEqual([...INTENTS].sort());
    expect(ranked.reduce((sum, r) => sum + r.score, 0)).toBeCloseTo(1, 6);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.score).toBeGreaterThanOrEqual(ranked[i]!.score);
    expect(ranked[0]!.intent).toBe('extension');
  });

  test('text it has never seen a character of still gets a distribution', () => {
    const ranked = trainClassifier(everything).classify('ÆØÅ ßßß');
    expect(ranked.reduce((sum, r) => sum + r.score, 0)).toBeCloseTo(1, 6);
  });

  test('speed sanity: the whole data set trains and every held-out phrase is classified in one go', () => {
    // No timing assertion (machines differ); a pathological slowdown shows as a test timeout.
    const c = trainClassifier(everything);
    const phrases = LOCALES.flatMap((l) => Object.values(dialogs.nlu.test[l]).flat());
    expect(phrases.map((p) => c.classify(p)[0]!.intent)).toHaveLength(phrases.length);
  });
});

describe('the none intent', () => {
  const c = trainClassifier(everything);

  test.each(['今天天气怎么样', '讲个笑话', 'what is the capital of france', 'asdfghjkl'])('%s is off-topic', (text) => {
    expect(c.classify(text)[0]!.intent).toBe('none');
  });

  test('most held-out off-topic phrases are recognised as such', () => {
    const offTopic = LOCALES.flatMap((l) => dialogs.nlu.test[l].none ?? []);
    const rejected = offTopic.filter((p) => c.classify(p)[0]!.intent === 'none');
    expect(rejected.length / offTopic.length).toBeGreaterThan(0.5);
  });

  test('a borrower request is not off-topic', () => {
    for (const text of ['罚息咋这么多', 'i paid yesterday', '转人工']) expect(c.classify(text)[0]!.intent).not.toBe('none');
  });
});

describe('the data in dialogs/nlu', () => {
  test.each(LOCALES)('%s: every intent has at least 40 training and 15 held-out phrases', (locale) => {
    const short = INTENTS.filter((i) => (dialogs.nlu.training[locale][i]?.length ?? 0) < 40 || (dialogs.nlu.test[locale][i]?.length ?? 0) < 15);
    expect(short).toEqual([]);
    expect(Object.keys(dialogs.nlu.training[locale]).sort()).toEqual([...INTENTS].sort());
  });

  test('no held-out phrase is a training phrase, in either language, as the classifier sees them', () => {
    const trained = new Set(LOCALES.flatMap((l) => Object.values(dialogs.nlu.training[l]).flat().map(normalizeForClassifier)));
    const both = LOCALES.flatMap((l) => Object.values(dialogs.nlu.test[l]).flat()).filter((p) => trained.has(normalizeForClassifier(p)));
    expect(both).toEqual([]);
  });
});
