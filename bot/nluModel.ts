import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { classifierFromModel, modelKey, trainClassifier, type Classifier, type ClassifierModel } from '../machines/recognition/classifier';

/**
 * The intent model, trained at build time (`npm run build` runs scripts/buildNluModel.ts) so a
 * start loads it in milliseconds instead of training for a second or more (issue #9: cold start).
 * The file is used only when it was trained on exactly the current phrases and options (its key);
 * otherwise the model is trained here. Either way once per process per set of phrases, so a studio
 * publish that leaves the phrases alone reuses it.
 */
export const MODEL_FILE = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..', 'dist', 'nlu-model.json');

const floats = z
  .string()
  .transform((b64) => Buffer.from(b64, 'base64'))
  .refine((bytes) => bytes.byteLength % 8 === 0, 'not a whole number of 64-bit floats')
  // Copied into an aligned buffer: a Float64Array view needs an offset divisible by 8.
  .transform((bytes) => new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
const modelFileSchema = z.object({
  key: z.string(),
  options: z.object({ minN: z.number(), maxN: z.number(), words: z.boolean(), epochs: z.number(), learningRate: z.number(), seed: z.number() }),
  intents: z.array(z.string()),
  vocabulary: z.array(z.string()),
  idf: floats,
  weights: floats,
  bias: floats,
});

const encode = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export function writeModelFile(model: ClassifierModel, file = MODEL_FILE): void {
  const json = JSON.stringify({ ...model, idf: encode(model.idf), weights: encode(model.weights), bias: encode(model.bias) });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, json);
  fs.renameSync(`${file}.tmp`, file); // never a half-written model for a starting process
}

/** The model in `file` if it is the one for `key`; a missing, stale or damaged file is simply not used. */
export function readModelFile(key: string, file = MODEL_FILE): ClassifierModel | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // The key comes first in the file: a stale model is recognised without parsing megabytes.
  if (!raw.startsWith(`{"key":${JSON.stringify(key)}`)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = modelFileSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const model = parsed.data;
  return model.weights.length === model.vocabulary.length * model.intents.length && model.idf.length === model.vocabulary.length && model.bias.length === model.intents.length
    ? model
    : undefined;
}

const loaded = new Map<string, Classifier>();

/** The classifier for these phrases: from memory, from the build's model file, or trained now. */
export function classifierFor(phrases: Record<string, string[]>): Classifier {
  const key = modelKey(phrases);
  let classifier = loaded.get(key);
  if (!classifier) {
    const model = readModelFile(key);
    classifier = model ? classifierFromModel(model) : trainClassifier(phrases);
    loaded.set(key, classifier);
  }
  return classifier;
}
