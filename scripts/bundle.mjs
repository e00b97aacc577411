// The server as one file (dist/bundle/server.js), what `npm start` runs: a start loads one
// script instead of some 1,800 modules, which is most of a start's time (bench/run.mjs measures
// it). Built from tsc's output, so the bundle runs exactly the code the type checker saw.
// It lives two folders under the project like every dist/<folder>/*.js, so the code that finds
// dialogs/, web/ and prisma/ from __dirname finds them from here too.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [path.join(root, 'dist/bot/main.js')],
  outfile: path.join(root, 'dist/bundle/server.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Native addons, and the optional native pg driver nobody installs, load from node_modules.
  external: ['better-sqlite3', '@node-rs/argon2', 'pg-native'],
  // Smaller to read and parse; names kept so that logged errors still say where they came from.
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
});
