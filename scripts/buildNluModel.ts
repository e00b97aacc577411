/**
 * Part of `npm run build`: trains the intent model on dialogs/nlu/training.*.json and writes it to
 * dist/nlu-model.bin, which every start then loads instead of training (bot/nluModel.ts).
 */
import { loadDialogs } from '../dialogs/loadDialogs';
import { modelKey, trainClassifier } from '../machines/recognition/classifier';
import { trainingPhrases } from '../machines/recognition/recognizer';
import { readModelFile, writeModelFile } from '../bot/nluModel';

const phrases = trainingPhrases(loadDialogs().nlu.training);
// Unchanged phrases, unchanged model: an incremental build does not retrain.
if (!readModelFile(modelKey(phrases))) writeModelFile(trainClassifier(phrases).model);
