import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * Runs a CommonJS bundle (scripts/bundle.mjs) with V8's code cache for it, kept beside it: the
 * start then skips compiling the bundle's modules, a fifth of a restart. Written here because
 * Node 20 has no compile cache of its own (module.enableCompileCache came in Node 22), and
 * v8-compile-cache compiles every module without a dynamic import() callback, which the Prisma
 * clients need. A cache V8 refuses (another Node version, other V8 flags, a rebuilt bundle)
 * costs nothing but the time it would have saved: the bundle is compiled from its source.
 *
 * `writeCache` (the build) runs the bundle's top level, which loads every module it holds, then
 * stores what V8 compiled.
 */
export function runBundle(file: string, { writeCache = false }: { writeCache?: boolean } = {}): unknown {
  const cacheFile = `${file}.v8cache`;
  let cachedData: Buffer | undefined;
  if (!writeCache) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      // none yet: compiled from source
    }
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const bundle = { exports: {} as unknown, filename: file, id: file, loaded: false };
  (script.runInThisContext() as (...args: unknown[]) => void)(bundle.exports, createRequire(file), bundle, file, path.dirname(file));
  bundle.loaded = true;
  if (writeCache) {
    fs.writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
    fs.renameSync(`${cacheFile}.tmp`, cacheFile); // a starting server never reads half a cache
  }
  return bundle.exports;
}
