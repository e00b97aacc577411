import path from 'node:path';
import { runBundle } from './bundleLoader';

/** `npm start`: the server from its bundle (dist/bundle/server.js, built by `npm run build`). */
const { main } = runBundle(path.join(__dirname, '..', 'bundle', 'server.js')) as typeof import('./main');
void main(path.join(__dirname, 'launchTurns.js'));
