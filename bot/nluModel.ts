import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { classifierFromModel, modelKey, trainClassifier, type Classifier, type ClassifierModel } from '../machines/recognition/classifier';

/**
 * The intent model, trained at build time (`npm run build` runs scripts/buildNluModel.ts) so a
 * start loads it in milliseconds instead of training for a second or more (issue #9: cold start).
 * The file is used only when it was trained on exactly the current phrases and options (its key);
 * otherwise the model is trained here. Either way once per process per set of phrases, so a studio
 * publish that leaves the phrases alone reuses it.
 *
 * The file is binary: a JSON header (key, options, intents, vocabulary) and then the model's
 * numbers as stored in memory, which a start reads as views of the file's buffer. The numbers are
 * 3.4 MB of the 3.5; as base64 in JSON, a thread read 4.7 MB of text, parsed it, decoded it and
 * copied it (60 ms of the turn worker's start in its profile). With the main thread no longer
 * loading the model at all (bot/dialogsRuntime.ts), restarts came about 0.1 s sooner, with 41 MiB
 * less peak memory (bench/FINDINGS.md). Written here because no package fits better: a typed
 * array's bytes are already its serialisation.
 */
export const MODEL_FILE = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..', 'dist', 'nlu-model.bin');

/** "NLU" and the format's version, then the header's length in bytes (uint32, little-endian). */
const MAGIC = 'NLU1';
const PREFIX_BYTES = 8;
const FLOAT_BYTES = Float64Array.BYTES_PER_ELEMENT;

const headerSchema = z.object({
  key: z.string(),
  // The numbers are in this machine's byte order; a file from another is not read.
  endianness: z.literal(os.endianness()),
  options: z.object({ minN: z.number(), maxN: z.number(), words: z.boolean(), epochs: z.number(), learningRate: z.number(), seed: z.number() }),
  intents: z.array(z.string()),
  vocabulary: z.array(z.string()),
});

/** Where the numbers start: after the header, at a multiple of 8 so they can be viewed in place. */
const numbersAt = (headerBytes: number) => Math.ceil((PREFIX_BYTES + headerBytes) / FLOAT_BYTES) * FLOAT_BYTES;

export function writeModelFile(model: ClassifierModel, file = MODEL_FILE): void {
  const { key, options, intents, vocabulary, idf, weights, bias } = model;
  const header = Buffer.from(JSON.stringify({ key, endianness: os.endianness(), options, intents, vocabulary }));
  const arrays = [idf, weights, bias];
  const at = numbersAt(header.byteLength);
  const bytes = Buffer.alloc(at + arrays.reduce((n, a) => n + a.byteLength, 0));
  bytes.write(MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(header.byteLength, MAGIC.length);
  header.copy(bytes, PREFIX_BYTES);
  let offset = at;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(bytes, offset);
    offset += a.byteLength;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, bytes);
  fs.renameSync(`${file}.tmp`, file); // never a half-written model for a starting process
}

/** The model in `file` if it is the one for `key`; a missing, stale or damaged file is simply not used. */
export function readModelFile(key: string, file = MODEL_FILE): ClassifierModel | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.byteLength < PREFIX_BYTES || bytes.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const headerBytes = bytes.readUInt32LE(MAGIC.length);
  if (PREFIX_BYTES + headerBytes > bytes.byteLength) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes));
  } catch {
    return undefined;
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success || parsed.data.key !== key) return undefined;
  const { options, intents, vocabulary } = parsed.data;
  const at = numbersAt(headerBytes);
  const V = vocabulary.length;
  const K = intents.length;
  if (bytes.byteLength !== at + (V + V * K + K) * FLOAT_BYTES) return undefined;
  // A view's offset in its ArrayBuffer must be a multiple of 8: a file's own buffer starts at 0, another is copied.
  const aligned = bytes.byteOffset % FLOAT_BYTES === 0 ? bytes : new Uint8Array(bytes);
  const floats = (from: number, count: number) => new Float64Array(aligned.buffer, aligned.byteOffset + at + from * FLOAT_BYTES, count);
  return { key, options, intents, vocabulary, idf: floats(0, V), weights: floats(V, V * K), bias: floats(V + V * K, K) };
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
