import path from 'node:path';
import { runBundle } from './bundleLoader';

/** The turn worker thread (bot/turnWorker.ts) of `npm start`, from its own bundle: it loads without the HTTP and Bot Framework side. */
const { runTurnWorker } = runBundle(path.join(__dirname, '..', 'bundle', 'turns.js')) as typeof import('./turnWorker');
void runTurnWorker();
