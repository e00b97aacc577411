// The server as one file (dist/bundle/server.js), what `npm start` runs: a start reads and
// compiles one script instead of resolving and loading some 1,800 modules (about 150 ms less of a
// 1.3 s start; bench/run.mjs measures starts). Built from tsc's output, so it runs exactly the
// code the type checker saw.
// It lives two folders under the project like every dist/<folder>/*.js, so the code that finds
// dialogs/, web/ and prisma/ from __dirname finds them from here too.
import { copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The generated Prisma clients stay in dist/db/generated, loaded on first use (db/client.ts). */
const prismaClientsBeside = {
  name: 'prisma-clients-beside',
  setup(b) {
    b.onResolve({ filter: /\/generated\/(sqlite|postgres)\/client$/ }, (args) => ({
      path: `../db/generated/${/(sqlite|postgres)\/client$/.exec(args.path)[1]}/client.js`,
      external: true,
    }));
  },
};

// Two bundles: the server (main thread) and the turn worker's thread, which leaves out HTTP and
// Bot Framework and so starts sooner (a start waits for both).
const bundles = [
  ['dist/bot/main.js', 'dist/bundle/server.js'],
  ['dist/bot/turnWorker.js', 'dist/bundle/turns.js'],
];
for (const [entry, outfile] of bundles) await build({
  entryPoints: [path.join(root, entry)],
  outfile: path.join(root, outfile),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // From node_modules at run time: native addons (and the optional ones restify and pg try),
  // and the migration engine, whose .wasm is read from beside its glue.
  // pg too: loaded only for PostgreSQL, and the benchmark's probe counts its queries.
  external: ['better-sqlite3', '@node-rs/argon2', 'pg', 'pg-native', 'dtrace-provider', '@prisma/schema-engine-wasm'],
  plugins: [prismaClientsBeside],
  // Not minified: a minified bundle started no faster, and stack traces stay readable.
  logLevel: 'warning',
});

// The clients load their query compilers from beside them (scripts/generate-prisma.mjs), and tsc
// copies only code.
for (const kind of ['sqlite', 'postgres']) {
  copyFileSync(path.join(root, 'db/generated', kind, 'query_compiler.wasm'), path.join(root, 'dist/db/generated', kind, 'query_compiler.wasm'));
}

// V8's code cache for each (bot/bundleLoader.ts), made by this same Node: every start uses it.
const { runBundle } = createRequire(import.meta.url)(path.join(root, 'dist/bot/bundleLoader.js'));
for (const [, outfile] of bundles) runBundle(path.join(root, outfile), { writeCache: true });
// Loading the modules may have left handles open (none of them is needed here).
process.exit(0);
