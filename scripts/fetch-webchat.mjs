// Puts the browser bundles the pages need in web/vendor/ (gitignored): Bot Framework Web Chat
// for the borrower page, Mermaid for the studio's flow diagrams.
//
// Why not a dependency: installing botframework-webchat pulls ~530 MB into node_modules, while
// the page only needs dist/webchat.js, which is self-contained (React included). `npm pack`
// fetches just the package's own tarball (~7 MB) and npm verifies it against the registry's
// integrity; we also pin the tarball's and the extracted files' sha512 so a changed upstream
// artifact fails loudly instead of being served.
//
// The full bundle (not webchat-minimal.js) because the bot may send card attachments, which
// Web Chat renders through Adaptive Cards, absent from the minimal bundle.
//
// Mermaid the same way: `npm pack mermaid@12.3.0` (~26 MB tarball, 120 MB unpacked with its
// dependencies' types) for dist/mermaid.min.js alone, a self-contained IIFE that sets
// window.mermaid, pinned like Web Chat.
//
// Runs after every `npm install` / `npm ci` (scripts/prepare.mjs); does nothing when the files
// are already there with the right hashes. SKIP_WEBCHAT_FETCH=1 skips it (e.g. an offline CI
// that does not serve the page).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';

const WEBCHAT_PACKAGE = 'botframework-webchat@4.18.1';
const WEBCHAT_INTEGRITY =
  'sha512-7jpEUJ7olT62Xm+8eh7BhhIcXVfU2xD4pZDaeBt8K4XcNy6K/83UGIxE9BFkXmHMZ4hDEVOzs5cre07GWuaXzg==';
/** tarball path → [file name in web/vendor, pinned sha512 of its bytes] */
const WEBCHAT_FILES = {
  'package/dist/webchat.js': [
    'webchat.js',
    'sha512-/QHdP14QBRIOHw8gBEffy7VpWq0cTaGkr70Sg3ceo6KO0gaHOIWbC7OXB0Rmqp7sV1c/PU5zDh8p23uz8L88+A==',
  ],
  'package/dist/webchat.js.LICENSE.txt': [
    'webchat.js.LICENSE.txt',
    'sha512-ajPGAwznmeWTJLDZr0t7N3Vxa6zH/rEPJ/y6Xd3wwzUTsm0DQIfGvE1g7mNxeEckPxAUfNMPysh5ZTZElzGPmQ==',
  ],
};
// The tarball has no LICENSE file of its own (package.json says "MIT"); this is the license of
// github.com/microsoft/BotFramework-WebChat, kept next to the bundle.
const WEBCHAT_LICENSE = `botframework-webchat 4.18.1 (dist/webchat.js) - https://github.com/microsoft/BotFramework-WebChat

MIT License

Copyright (c) Microsoft Corporation.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

Third-party notices for the code bundled into webchat.js: webchat.js.LICENSE.txt
`;

/** Each package: its pinned tarball, the files taken from it, and a license note written beside them. */
const PACKAGES = [
  { spec: WEBCHAT_PACKAGE, integrity: WEBCHAT_INTEGRITY, files: WEBCHAT_FILES, license: ['LICENSE.webchat.txt', WEBCHAT_LICENSE] },
  {
    spec: 'mermaid@12.3.0',
    integrity: 'sha512-4113TdXeLAsMruJ79OpFL5O8+LTFXhQqZ260rF3tgUmiNAtRm4Uume04I+65PRN6yZ69J4f8rVYWW8zRk65UYw==',
    files: {
      'package/dist/mermaid.min.js': [
        'mermaid.min.js',
        'sha512-CaEn6DWYJ1MM0mFAT9nvJzd3z5gPsXTM7wzprb8wx615WzTnTSrGrbKkZUqe1s24lpW27X4HlIrSFvQm/ykqZA==',
      ],
      // The package's own MIT license (third-party notices are inside the bundle's header comments).
      'package/LICENSE': [
        'LICENSE.mermaid.txt',
        'sha512-j1nVj+EHsxj9fhPnaz+ao27/UlfwTu2YuH0Npfnbna2DLib3BQr1yItmNLtp6mDmOQ7FVUhlwBbKjphYCg1OUw==',
      ],
    },
  },
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vendorDir = join(root, 'web', 'vendor');

const sri = (buf) => `sha512-${createHash('sha512').update(buf).digest('base64')}`;

function upToDate(pkg) {
  if (pkg.license && !existsSync(join(vendorDir, pkg.license[0]))) return false;
  return Object.values(pkg.files).every(([name, hash]) => {
    const p = join(vendorDir, name);
    return existsSync(p) && sri(readFileSync(p)) === hash;
  });
}

/** `npm pack` into dir; returns the tarball path. Uses the npm running this install when known. */
function npmPack(dir, pkg) {
  const viaNpmCli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath);
  const [cmd, args] = viaNpmCli
    ? [process.execPath, [process.env.npm_execpath]]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  const r = spawnSync(cmd, [...args, 'pack', pkg.spec, '--json', '--pack-destination', dir], {
    cwd: dir,
    encoding: 'utf8',
    shell: process.platform === 'win32' && !viaNpmCli,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`npm pack ${pkg.spec} failed (exit ${r.status ?? r.signal}):\n${r.stderr || r.error}`);
  }
  const [info] = JSON.parse(r.stdout);
  if (info.integrity !== pkg.integrity) {
    throw new Error(`${pkg.spec}: tarball integrity ${info.integrity} does not match the pinned ${pkg.integrity}`);
  }
  return join(dir, info.filename);
}

/**
 * Streams the gzipped tarball and returns the bytes of the wanted entries only (the package
 * unpacks to 160 MB, mostly a stats.json, so nothing else is kept). Plain ustar plus pax
 * `path` records: what npm writes; no dependency on a system `tar`.
 */
async function extract(tgz, wanted) {
  const out = new Map();
  let buf = Buffer.alloc(0);
  let entry = null; // { name, size, remaining, chunks, type }
  let skipPad = 0;
  let paxPath = null;
  const field = (h, off, len) => h.subarray(off, off + len).toString('utf8').replace(/\0.*$/s, '');
  for await (const chunk of createReadStream(tgz).pipe(createGunzip())) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (skipPad) {
        const n = Math.min(skipPad, buf.length);
        buf = buf.subarray(n);
        skipPad -= n;
        if (skipPad) break;
      }
      if (entry) {
        const n = Math.min(entry.remaining, buf.length);
        if (entry.keep) entry.chunks.push(Buffer.from(buf.subarray(0, n)));
        buf = buf.subarray(n);
        entry.remaining -= n;
        if (entry.remaining) break;
        const data = Buffer.concat(entry.chunks);
        if (entry.type === 'x') {
          const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
          paxPath = m ? m[1] : null;
        } else if (entry.keep) {
          out.set(entry.name, data);
        }
        skipPad = (512 - (entry.size % 512)) % 512;
        entry = null;
        continue;
      }
      if (buf.length < 512) break;
      const h = buf.subarray(0, 512);
      buf = buf.subarray(512);
      if (h.every((b) => b === 0)) continue; // end-of-archive blocks
      const prefix = field(h, 345, 155);
      const name = paxPath ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
      const size = parseInt(field(h, 124, 12).trim() || '0', 8);
      const type = field(h, 156, 1) || '0';
      if (type !== 'x') paxPath = null;
      const keep = type === 'x' || ((type === '0') && wanted.has(name));
      entry = { name, size, remaining: size, chunks: [], type, keep };
      if (size === 0) {
        if (keep && type !== 'x') out.set(name, Buffer.alloc(0));
        entry = null;
      }
    }
  }
  return out;
}

async function fetchPackage(pkg) {
  const main = Object.values(pkg.files)[0][0];
  if (upToDate(pkg)) {
    console.log(`fetch-webchat: web/vendor/${main} is present and verified`);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'vendor-'));
  try {
    const files = await extract(npmPack(tmp, pkg), new Set(Object.keys(pkg.files)));
    mkdirSync(vendorDir, { recursive: true });
    for (const [path, [name, hash]] of Object.entries(pkg.files)) {
      const data = files.get(path);
      if (!data) throw new Error(`${pkg.spec}: ${path} not found in the tarball`);
      if (sri(data) !== hash) throw new Error(`${pkg.spec}: ${path} has sha512 ${sri(data)}, expected ${hash}`);
      // Write then rename so an interrupted run never leaves a truncated bundle that looks present.
      const target = join(vendorDir, name);
      writeFileSync(`${target}.tmp`, data);
      renameSync(`${target}.tmp`, target);
    }
    if (pkg.license) writeFileSync(join(vendorDir, pkg.license[0]), pkg.license[1]);
    console.log(`fetch-webchat: installed web/vendor/${main} from ${pkg.spec}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  if (process.env.SKIP_WEBCHAT_FETCH === '1') {
    console.log('fetch-webchat: skipped (SKIP_WEBCHAT_FETCH=1)');
    return;
  }
  for (const pkg of PACKAGES) await fetchPackage(pkg);
}

main().catch((err) => {
  console.error(`fetch-webchat: ${err.message}`);
  console.error('The borrower page needs web/vendor/webchat.js and the studio web/vendor/mermaid.min.js; fix the problem above and run `node scripts/fetch-webchat.mjs`.');
  process.exit(1);
});
