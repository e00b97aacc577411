import path from 'node:path';
import { runBundle } from './bundleLoader';

/** `npm start`: the server from its bundle (dist/bundle/server.js, built by `npm run build`). */
const { main, isTurnWorker, runTurnWorker } = runBundle(path.join(__dirname, '..', 'bundle', 'server.js')) as typeof import('./main');
void (isTurnWorker() ? runTurnWorker() : main(__filename));
