import { createHash } from 'node:crypto';

/**
 * The intent classifier: character n-gram TF-IDF features and a multinomial logistic regression,
 * trained at start-up from the staff-edited phrases in dialogs/nlu/. Chosen on evidence
 * (shared/notes/nlu.md and docs/nlu-eval.md): on colloquial Chinese with typos and English mixed
 * in, character n-grams beat word segmentation and every library tried, and need no dependency.
 * Pure and deterministic: the same phrases always give the same model.
 */
export interface IntentScore {
  intent: string;
  score: number;
}

export interface Classifier {
  /** Every intent with its probability, likeliest first. */
  classify(text: string): IntentScore[];
}

export interface ClassifierOptions {
  /** Character n-gram lengths, inclusive. */
  minN: number;
  maxN: number;
  /** Adds Latin-script word unigrams and bigrams: English meaning sits in words more than in letters. */
  words: boolean;
  epochs: number;
  learningRate: number;
  seed: number;
}

/** The defaults the eval chose; docs/nlu-eval.md lists the alternatives measured with `trainClassifier(phrases, overrides)`. */
export const DEFAULT_OPTIONS: ClassifierOptions = { minN: 1, maxN: 3, words: true, epochs: 10, learningRate: 5, seed: 7 };

/**
 * NFKC (full-width to ASCII), lower case, every number folded to one placeholder so amounts,
 * dates and phone numbers do not drive the intent, punctuation and symbols dropped (borrowers
 * mostly leave them out, and "？" should not separate two phrasings of one question).
 */
export function normalizeForClassifier(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\d+(?:[.,:/-]\d+)*/g, '0')
    // "don't" and "dont", "i'm" and "im" are written both ways: one spelling for the model.
    .replace(/['’]/g, '')
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function features(text: string, options: ClassifierOptions): string[] {
  const chars = Array.from(` ${text} `);
  const out: string[] = [];
  for (let n = options.minN; n <= options.maxN; n++) {
    for (let i = 0; i + n <= chars.length; i++) {
      let gram = chars[i] as string;
      for (let j = 1; j < n; j++) gram += chars[i + j] as string;
      // A lone space carries nothing (word boundaries show in the longer grams).
      if (gram !== ' ') out.push(gram);
    }
  }
  if (options.words) {
    const words = text.match(/[a-z]+/g) ?? [];
    words.forEach((w, i) => {
      out.push(`w:${w}`);
      if (i + 1 < words.length) out.push(`w:${w} ${words[i + 1]}`);
    });
  }
  return out;
}

/** A sparse vector: feature indices and their weights, L2-normalised. */
interface Vector {
  index: Int32Array;
  value: Float64Array;
}

/** An example the model already gives this probability would move the weights by under 1% of a step: its update is skipped. */
const SKIP_LEARNT = 0.99;

/** Small deterministic PRNG (mulberry32): training order is shuffled the same way every start. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function softmaxInPlace(scores: Float64Array): void {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  let sum = 0;
  for (let k = 0; k < scores.length; k++) {
    const e = Math.exp((scores[k] as number) - max);
    scores[k] = e;
    sum += e;
  }
  for (let k = 0; k < scores.length; k++) scores[k] = (scores[k] as number) / sum;
}

/**
 * A trained model as data: what `classifierFromModel` needs to classify, so a model trained once
 * (at build time, bot/nluModel.ts) is loaded instead of retrained at every start. `key` names the
 * phrases and options it was trained on.
 */
export interface ClassifierModel {
  key: string;
  options: ClassifierOptions;
  intents: string[];
  vocabulary: string[];
  idf: Float64Array;
  /** vocabulary.length × intents.length, row-major by feature */
  weights: Float64Array;
  bias: Float64Array;
}

/** What a model trained on these phrases with these options is called: equal inputs, equal key. */
export function modelKey(data: Readonly<Record<string, readonly string[]>>, overrides: Partial<ClassifierOptions> = {}): string {
  const options = { ...DEFAULT_OPTIONS, ...overrides };
  const intents = Object.keys(data).sort();
  return createHash('sha256')
    .update(JSON.stringify([options, intents.map((i) => [i, data[i]])]))
    .digest('hex');
}

/** Trains on `{ intent: phrases }` (one model for every language: mixed messages need both). */
export function trainClassifier(data: Readonly<Record<string, readonly string[]>>, overrides: Partial<ClassifierOptions> = {}): Classifier & { model: ClassifierModel } {
  const options = { ...DEFAULT_OPTIONS, ...overrides };
  const intents = Object.keys(data).sort();
  const K = intents.length;
  const examples = intents.flatMap((intent, label) => (data[intent] ?? []).map((phrase) => ({ grams: features(normalizeForClassifier(phrase), options), label })));

  const vocabulary = new Map<string, number>();
  const documentFrequency: number[] = [];
  for (const { grams } of examples) {
    for (const g of new Set(grams)) {
      let i = vocabulary.get(g);
      if (i === undefined) {
        i = vocabulary.size;
        vocabulary.set(g, i);
        documentFrequency.push(0);
      }
      documentFrequency[i] = (documentFrequency[i] as number) + 1;
    }
  }
  const idf = Float64Array.from(documentFrequency, (df) => Math.log((1 + examples.length) / (1 + df)) + 1);
  const model: ClassifierModel = {
    key: modelKey(data, overrides),
    options,
    intents,
    vocabulary: [...vocabulary.keys()],
    idf,
    weights: new Float64Array(vocabulary.size * K),
    bias: new Float64Array(K),
  };
  const { vectorize, score } = scorer(model, vocabulary);
  const { weights, bias } = model;
  const vectors = examples.map((e) => ({ x: vectorize(e.grams), label: e.label }));
  const scores = new Float64Array(K);

  // Stochastic gradient descent on the cross-entropy, with a decaying step.
  const next = random(options.seed);
  const order = vectors.map((_, i) => i);
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const at of order) {
      const { x, label } = vectors[at] as (typeof vectors)[number];
      const rate = options.learningRate / (1 + step++ / vectors.length);
      score(x, scores);
      if ((scores[label] as number) > SKIP_LEARNT) continue;
      scores[label] = (scores[label] as number) - 1;
      for (let k = 0; k < K; k++) bias[k] = (bias[k] as number) - rate * (scores[k] as number);
      for (let j = 0; j < x.index.length; j++) {
        const row = (x.index[j] as number) * K;
        const v = x.value[j] as number;
        for (let k = 0; k < K; k++) weights[row + k] = (weights[row + k] as number) - rate * (scores[k] as number) * v;
      }
    }
  }
  return { ...classifierFromModel(model, vocabulary), model };
}

/** A classifier from a trained model (the vocabulary index is rebuilt when not given). */
export function classifierFromModel(model: ClassifierModel, vocabulary = new Map(model.vocabulary.map((g, i) => [g, i]))): Classifier {
  const { vectorize, score } = scorer(model, vocabulary);
  const { intents, options } = model;
  return {
    classify(text) {
      const out = new Float64Array(intents.length);
      score(vectorize(features(normalizeForClassifier(text), options)), out);
      return intents.map((intent, k) => ({ intent, score: out[k] as number })).sort((a, b) => b.score - a.score || a.intent.localeCompare(b.intent));
    },
  };
}

/** TF-IDF vectors over the model's vocabulary, and the softmax scores of the model's weights. */
function scorer(model: ClassifierModel, vocabulary: ReadonlyMap<string, number>) {
  const { idf, weights, bias } = model;
  const K = model.intents.length;
  const vectorize = (grams: readonly string[]): Vector => {
    const counts = new Map<number, number>();
    for (const g of grams) {
      const i = vocabulary.get(g);
      if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    const index = Int32Array.from(counts.keys());
    // Sublinear term frequency: a repeated character ("不还不还不还") should not outweigh the rest.
    const value = Float64Array.from(index, (i) => (1 + Math.log(counts.get(i) as number)) * (idf[i] as number));
    const norm = Math.hypot(...value) || 1;
    for (let j = 0; j < value.length; j++) value[j] = (value[j] as number) / norm;
    return { index, value };
  };
  const score = (x: Vector, out: Float64Array): void => {
    out.set(bias);
    for (let j = 0; j < x.index.length; j++) {
      const row = (x.index[j] as number) * K;
      const v = x.value[j] as number;
      for (let k = 0; k < K; k++) out[k] = (out[k] as number) + v * (weights[row + k] as number);
    }
    softmaxInPlace(out);
  };
  return { vectorize, score };
}
