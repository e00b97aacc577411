import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBundle } from '../../bot/bundleLoader';

/** bot/bundleLoader.ts runs `npm start`'s bundle with a V8 code cache beside it. */
function bundleDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-loader-'));
  fs.writeFileSync(path.join(dir, 'helper.js'), 'module.exports = (x) => x * 2;');
  fs.writeFileSync(
    path.join(dir, 'server.js'),
    "const twice = require('./helper.js');\nexports.where = __dirname;\nexports.file = __filename;\nexports.answer = () => twice(21);\nexports.dynamic = () => import('node:path').then((m) => typeof m.join);\n",
  );
  return dir;
}

test('runs the bundle as a CommonJS module of its own folder, and writes the cache the build makes', async () => {
  const dir = bundleDir();
  const file = path.join(dir, 'server.js');
  const built = runBundle(file, { writeCache: true }) as { where: string; file: string; answer: () => number; dynamic: () => Promise<string> };
  expect([built.where, built.file, built.answer()]).toEqual([dir, file, 42]);
  // import() works inside it (the Prisma clients use it).
  await expect(built.dynamic()).resolves.toBe('function');
  expect(fs.statSync(`${file}.v8cache`).size).toBeGreaterThan(0);
  expect(fs.existsSync(`${file}.v8cache.tmp`)).toBe(false);
  // A start: the cache is read, and the bundle behaves the same.
  expect((runBundle(file) as { answer: () => number }).answer()).toBe(42);
});

test('a cache V8 refuses, or none, only means compiling from the source', () => {
  const dir = bundleDir();
  const file = path.join(dir, 'server.js');
  expect((runBundle(file) as { answer: () => number }).answer()).toBe(42);
  fs.writeFileSync(`${file}.v8cache`, 'not a code cache');
  expect((runBundle(file) as { answer: () => number }).answer()).toBe(42);
});
