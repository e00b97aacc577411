import path from 'node:path';
import { runBundle } from './bundleLoader';
import { spawnTurnThread } from './turnWorkerClient';
import { applyProcessV8Flags } from './v8Flags';

/**
 * `npm start`: the server from its bundle (dist/bundle/server.js, built by `npm run build`). The
 * turn worker's thread is spawned first, so that it loads its own bundle while this thread loads
 * the server's: the worker's start, not the main thread's, was the last to finish
 * (bench/FINDINGS.md). main() ends it when the configuration turns the worker off. The process's V8 flags
 * (./v8Flags) are set before either thread runs any of the server's code.
 */
applyProcessV8Flags();
const turnWorker = path.join(__dirname, 'launchTurns.js');
const turnThread = spawnTurnThread(turnWorker);
const { main } = runBundle(path.join(__dirname, '..', 'bundle', 'server.js')) as typeof import('./main');
void main(turnWorker, turnThread);
