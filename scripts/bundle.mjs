// The server as one file (dist/bundle/server.js), what `npm start` runs: a start reads and
// compiles one script instead of resolving and loading some 1,800 modules (about 150 ms less of a
// 1.3 s start; bench/run.mjs measures starts). Built from tsc's output, so it runs exactly the
// code the type checker saw.
// It lives two folders under the project like every dist/<folder>/*.js, so the code that finds
// dialogs/, web/ and prisma/ from __dirname finds them from here too.
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

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

/**
 * Packages' async methods compiled down to generators (TypeScript's `__awaiter`) become native
 * async functions again (scripts/nativeAsync.ts: why, and when a call is left as it is).
 */
const { nativeAsync } = createRequire(import.meta.url)(path.join(root, 'dist/scripts/nativeAsync.js'));
const nativeAsyncPackages = {
  name: 'native-async',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => ({
      contents: nativeAsync(readFileSync(args.path, 'utf8'), args.path).code,
      loader: 'js',
    }));
  },
};

// Two bundles: the server (main thread) and the turn worker's thread, which leaves out HTTP and
// Bot Framework and so starts sooner (a start waits for both).
const bundles = [
  ['dist/bot/main.js', 'dist/bundle/server.js'],
  ['dist/bot/turnWorker.js', 'dist/bundle/turns.js'],
];
for (const [entry, outfile] of bundles) {
  const { metafile, outputFiles } = await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(root, outfile),
    // Kept in memory, then written whole under a temporary name and renamed (below).
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // From node_modules at run time: native addons (and the optional ones restify and pg try),
    // and the migration engine, whose .wasm is read from beside its glue.
    // pg too: loaded only for PostgreSQL, and the benchmark's probe counts its queries.
    external: ['better-sqlite3', '@node-rs/argon2', 'pg', 'pg-native', 'dtrace-provider', '@prisma/schema-engine-wasm'],
    plugins: [prismaClientsBeside, nativeAsyncPackages],
    // Not minified: a minified bundle started no faster, and stack traces stay readable.
    logLevel: 'warning',
    // The inputs, for asciiOnly (below), with paths from the project's root.
    metafile: true,
    absWorkingDir: root,
  });
  const ascii = asciiOnly(outputFiles[0].text, Object.keys(metafile.inputs).map((input) => path.resolve(root, input)));
  // A server starting meanwhile (another terminal, a test's) reads the old bundle or the new one,
  // never half of one (rewritten in place, a test's server once failed with "Missing initializer"
  // where the file was cut).
  const target = path.join(root, outfile);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(`${target}.tmp`, ascii);
  renameSync(`${target}.tmp`, target);
}

/**
 * The bundle's code in ASCII. V8 keeps a script's source as two-byte text when one character is
 * outside Latin-1, twice the memory to read and hold (19 MB for the server's bundle), and the
 * recognition patterns are Chinese: restarts about 0.07 s sooner (bench/FINDINGS.md). esbuild
 * escapes strings, identifiers and template literals; what it leaves is in comments, regular
 * expression literals and a tagged template's raw text. `\uXXXX` means the same character in the
 * first two but not in the third, so a bundle with such a template is refused, naming it.
 */
function asciiOnly(code, inputs) {
  const raw = inputs.filter((file) => /\.[cm]?js$/.test(file)).flatMap(nonAsciiTaggedTemplates);
  if (raw.length) throw new Error(`bundle.mjs: a tagged template with non-ASCII text, which would change if escaped (write it as a string):\n${raw.join('\n')}`);
  return code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** file:line of each tagged template in `file` whose text holds a non-ASCII character. */
function nonAsciiTaggedTemplates(file) {
  const text = readFileSync(file, 'utf8');
  if (!/[^\x00-\x7f]/.test(text)) return [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const found = [];
  const visit = (node) => {
    if (ts.isTaggedTemplateExpression(node) && /[^\x00-\x7f]/.test(node.template.getText(source))) {
      found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

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
