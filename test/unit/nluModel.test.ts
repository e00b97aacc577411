import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readModelFile, writeModelFile } from '../../bot/nluModel';
import { classifierFromModel, modelKey, trainClassifier } from '../../machines/recognition/classifier';
import { trainingPhrases } from '../../machines/recognition/recognizer';
import { loadDialogs } from '../../dialogs/loadDialogs';

/** The build-time intent model (bot/nluModel.ts): loaded, it classifies exactly as the trained one. */
const dialogs = loadDialogs();
const phrases = trainingPhrases(dialogs.nlu.training);
const trained = trainClassifier(phrases);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlu-model-'));
const file = path.join(dir, 'nlu-model.bin');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('written and read back, the model gives the same probabilities for every held-out phrase', () => {
  writeModelFile(trained.model, file);
  const model = readModelFile(modelKey(phrases), file);
  expect(model).toBeDefined();
  const loaded = classifierFromModel(model!);
  const texts = Object.values(dialogs.nlu.test).flatMap((f) => Object.values(f).flat());
  expect(texts.length).toBeGreaterThan(100);
  for (const text of texts) expect(loaded.classify(text)).toEqual(trained.classify(text));
});

test('a model trained on other phrases or options is not used', () => {
  writeModelFile(trained.model, file);
  const changed = { ...phrases, none: [...(phrases.none ?? []), '今天天气不错'] };
  expect(readModelFile(modelKey(changed), file)).toBeUndefined();
  expect(readModelFile(modelKey(phrases, { epochs: 3 }), file)).toBeUndefined();
});

test('a missing, truncated or damaged file is not used', () => {
  expect(readModelFile(modelKey(phrases), path.join(dir, 'absent.bin'))).toBeUndefined();
  writeModelFile(trained.model, file);
  const bytes = fs.readFileSync(file);
  const damaged = (b: Buffer) => {
    fs.writeFileSync(file, b);
    expect(() => readModelFile(modelKey(phrases), file)).not.toThrow();
    expect(readModelFile(modelKey(phrases), file)).toBeUndefined();
  };
  damaged(bytes.subarray(0, bytes.length / 2)); // cut in the numbers
  damaged(bytes.subarray(0, 100)); // cut in the header
  damaged(bytes.subarray(0, bytes.length - 8)); // one number short
  damaged(Buffer.concat([bytes, Buffer.alloc(8)])); // one number too many
  const header = Buffer.from(bytes);
  header.writeUInt32LE(bytes.readUInt32LE(4) - 1, 4); // the header's length off by one: not JSON
  damaged(header);
  const other = Buffer.from(bytes);
  other.write('NLU0', 0, 'latin1'); // another format
  damaged(other);
  damaged(Buffer.from(JSON.stringify({ key: modelKey(phrases) }))); // the former JSON file
});

test('the numbers are read in place, in the machine\'s byte order recorded in the header', () => {
  writeModelFile(trained.model, file);
  const model = readModelFile(modelKey(phrases), file)!;
  const bytesOf = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  expect(bytesOf(model.weights).equals(bytesOf(trained.model.weights))).toBe(true);
  expect(model.idf.buffer).toBe(model.weights.buffer);
  const bytes = fs.readFileSync(file);
  const text = bytes.toString('latin1');
  const order = `"endianness":"${os.endianness()}"`;
  const swapped = Buffer.from(text.replace(order, `"endianness":"${os.endianness() === 'LE' ? 'BE' : 'LE'}"`), 'latin1');
  fs.writeFileSync(file, swapped);
  expect(readModelFile(modelKey(phrases), file)).toBeUndefined();
});
