/**
 * The bot as a real process (`node dist/bot/launch.js`, what `npm start` runs), for tests that need
 * several instances, a SIGKILL or a SIGTERM. Loopback only, on a free port picked here (main does
 * not report an ephemeral one).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_NOW } from './botServer';

const ROOT = path.resolve(__dirname, '../..');
const SOURCES = ['bot', 'machines', 'dialogs', 'db', 'portfolio', 'scripts', 'proofs'];
const STAMP = path.join(ROOT, 'dist', '.test-build-stamp');
const LOCK = path.join(ROOT, 'dist', '.test-build-lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

const stale = () => {
  const built = fs.existsSync(STAMP) ? fs.statSync(STAMP).mtimeMs : 0;
  return SOURCES.some((d) => newestSource(path.join(ROOT, d)) > built);
};

/**
 * `npm run build` once for all the test files that spawn the server (jest runs them in parallel
 * workers): a lock directory serializes the builds and a stamp skips them while dist/ is current.
 */
export async function ensureBuilt(): Promise<void> {
  if (!stale()) return;
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  for (const started = Date.now(); ; ) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      // Another worker is building; a lock left by a killed run is taken over after 3 minutes.
      if (Date.now() - started > 180_000) fs.rmSync(LOCK, { recursive: true, force: true });
      await sleep(200);
    }
  }
  try {
    if (!stale()) return;
    const startedAt = new Date();
    // The whole build: the server runs from its bundles (bot/launch.ts), which tsc alone leaves as they were.
    const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
    fs.writeFileSync(STAMP, '');
    // The build's start, so that a source saved during it is seen as newer next time.
    fs.utimesSync(STAMP, startedAt, startedAt);
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** What the process wrote to stderr so far (start failures, crashes). */
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServerProcessOptions {
  databaseUrl: string;
  proofDir?: string;
  env?: Record<string, string>;
  /** Where stdout (the JSON log) goes; discarded when omitted. */
  logFile?: string;
  /** How long to wait for /healthz to answer 200. */
  readyTimeoutMs?: number;
}

/** Starts `node dist/bot/launch.js` (call ensureBuilt first) and resolves once /healthz answers 200. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const log = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/bot/launch.js')], {
    cwd: ROOT,
    stdio: ['ignore', log, 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      APP_NOW: TEST_NOW,
      APP_TIMEZONE: 'Asia/Shanghai',
      SEED_DEMO: 'true',
      LOG_LEVEL: 'warn',
      PROOF_STORAGE_DIR: options.proofDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'proofs-')),
      ...options.env,
    },
  });
  if (typeof log === 'number') fs.closeSync(log);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (done) throw new Error(`the server exited before it was ready:\n${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready in time:\n${stderr}`);
    }
    await sleep(50);
  }
  return {
    url,
    child,
    stderr: () => stderr,
    exited,
    async kill(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
      return exited;
    },
  };
}
