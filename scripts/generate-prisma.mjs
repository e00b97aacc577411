// Generates the two Prisma clients (db/generated/sqlite and db/generated/postgres, gitignored)
// from prisma/<kind>/schema.prisma + the shared prisma/models.prisma. Runs after every
// `npm install` / `npm ci` (scripts/prepare.mjs) and on its own: `node scripts/generate-prisma.mjs [--force]`.
//
// Offline-safe: each prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY at an existing file, so
// the CLI does not try to download the native engine that `generate` never uses.
// Fast: both run in parallel, and a kind is skipped when its inputs (schema files, Prisma
// version, this script) hash to the stamp left by the last successful run. Quiet on success.
//
// One change to what Prisma generates (compilerFromFile): the client loads its query compiler
// from a .wasm file written beside it, instead of importing the 4.4 MB JavaScript module that
// holds it as base64. Node took that module's format from parsing it, looked for its exports
// with a second parser, compiled it as CommonJS and decoded the string, in each of the two
// threads that open a client. Restarts came about 0.15 s sooner, with 29 MiB less peak memory
// (medians of six restarts taken in turn with the build before, two runs; issue #9: cold start).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const prismaVersion = JSON.parse(readFileSync(require.resolve('prisma/package.json'), 'utf8')).version;
const force = process.argv.includes('--force');

function inputsHash(kind) {
  const h = createHash('sha256').update(prismaVersion);
  for (const file of [`prisma/${kind}/schema.prisma`, 'prisma/models.prisma', 'scripts/generate-prisma.mjs']) {
    h.update(file).update(readFileSync(join(root, file)));
  }
  return h.digest('hex');
}

/** The query compiler, beside the generated client (the build copies it into dist/ with it). */
const WASM_FILE = 'query_compiler.wasm';

/**
 * Writes the query compiler the generated client imports as base64 into WASM_FILE, and has the
 * client compile it from there. Fails, naming the file, when Prisma generated something else.
 */
function compilerFromFile(out) {
  const file = join(out, 'internal', 'class.ts');
  const source = readFileSync(file, 'utf8');
  const decoder = /async function decodeBase64AsWasm[^]*?\n}\n/;
  const loader = /getQueryCompilerWasmModule: async \(\) => \{\n    const \{ wasm \} = await import\("([^"]+\.wasm-base64\.js)"\)\n    return await decodeBase64AsWasm\(wasm\)\n  \},/;
  const found = loader.exec(source);
  if (!found || !decoder.test(source)) throw new Error(`${file}: the query compiler's loader is not the one scripts/generate-prisma.mjs knows (did Prisma change?); update compilerFromFile`);
  writeFileSync(join(out, WASM_FILE), Buffer.from(require(found[1]).wasm, 'base64'));
  const fromFile = [
    '// Written by scripts/generate-prisma.mjs from the base64 module Prisma imports here.',
    `  getQueryCompilerWasmModule: async () => new WebAssembly.Module(await (await import('node:fs/promises')).readFile((await import('node:path')).join(__dirname, '..', ${JSON.stringify(WASM_FILE)}))),`,
  ].join('\n');
  writeFileSync(file, source.replace(decoder, '').replace(loader, fromFile));
}

function generate(kind) {
  const out = join(root, 'db/generated', kind);
  const stamp = join(out, '.inputs-sha256');
  const hash = inputsHash(kind);
  if (!force && existsSync(join(out, 'client.ts')) && existsSync(join(out, WASM_FILE)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prismaCli, 'generate', '--config', `prisma/${kind}/prisma.config.ts`], {
      cwd: root,
      env: { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && existsSync(join(out, 'client.ts'))) {
        try {
          compilerFromFile(out);
        } catch (e) {
          reject(e);
          return;
        }
        writeFileSync(stamp, hash);
        resolve();
      } else {
        reject(new Error(`prisma generate (${kind}) failed with exit code ${code}:\n${output}`));
      }
    });
  });
}

const results = await Promise.allSettled([generate('sqlite'), generate('postgres')]);
const failures = results.filter((r) => r.status === 'rejected');
for (const f of failures) console.error(f.reason instanceof Error ? f.reason.message : f.reason);
process.exit(failures.length ? 1 : 0);
