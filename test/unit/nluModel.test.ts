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
const file = path.join(dir, 'nlu-model.json');
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
  expect(readModelFile(modelKey(phrases), path.join(dir, 'absent.json'))).toBeUndefined();
  writeModelFile(trained.model, file);
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.slice(0, text.length / 2));
  expect(() => readModelFile(modelKey(phrases), file)).not.toThrow();
  expect(readModelFile(modelKey(phrases), file)).toBeUndefined();
  fs.writeFileSync(file, text.replace(/"bias":"[^"]*"/, '"bias":"AAAA"'));
  expect(readModelFile(modelKey(phrases), file)).toBeUndefined();
});
