/**
 * Shared helpers of the benchmark: child processes (the real server, the echo bot, the load
 * driver), free ports, readiness, resident memory, the machine's description, PostgreSQL
 * throwaway databases. Everything talks to 127.0.0.1 only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(benchDir, '..');
export const require = createRequire(path.join(root, 'package.json'));

export const APP_NOW = '2026-11-22T10:00:00+08:00';
/**
 * The PostgreSQL server the benchmark makes its throwaway databases on. By default the one on this
 * machine, over its Unix socket when it has one, as a bot deployed on the database's own host
 * connects (README, Configuration): over TCP on loopback every statement also crosses the network
 * stack on the two cores the bot and the database share, which no deployment combines (a database
 * on another host has cores of its own). BENCH_POSTGRES_URL chooses another server, or TCP.
 */
const LOCAL_SOCKET_DIR = '/var/run/postgresql';
export const PG_ADMIN_URL =
  process.env.BENCH_POSTGRES_URL ??
  (fs.existsSync(path.join(LOCAL_SOCKET_DIR, '.s.PGSQL.5432')) ? `postgresql://postgres@localhost/postgres?host=${LOCAL_SOCKET_DIR}` : 'postgresql://postgres@127.0.0.1:5432/postgres');

/** How a database URL reaches its server, for the log and results.json. */
export function postgresTransport(url) {
  const socketDir = new URL(url).searchParams.get('host');
  return socketDir?.startsWith('/') ? `Unix socket in ${socketDir}` : `TCP to ${new URL(url).host}`;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port nobody listens on right now (tiny race until the child binds it: fine on loopback). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** One POST of an activity with deliveryMode expectReplies; resolves { status, body }. */
export function postActivity(port, activity, agent) {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(JSON.stringify(activity));
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/messages', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = JSON.parse(raw);
          } catch {
            json = raw;
          }
          resolve({ status: res.statusCode ?? 0, body: json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let seq = 0;
export function activity(conversation, text, locale = 'zh-CN') {
  return {
    type: 'message',
    id: `b${++seq}`,
    channelId: 'bench',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: `u-${conversation}`, name: 'borrower' },
    recipient: { id: 'bot', name: 'bot' },
    conversation: { id: conversation },
    text,
    locale,
    timestamp: new Date().toISOString(),
    deliveryMode: 'expectReplies',
  };
}

/** The replies of an expectReplies answer. */
export const repliesOf = (body) => (body && typeof body === 'object' && Array.isArray(body.activities) ? body.activities : []);

/**
 * Starts a child process and resolves once /api/messages answers a message with a reply
 * (the "first answer"): { child, port, firstAnswerMs, stop() }. Rejects with the child's output
 * if it exits first or takes longer than `timeoutMs`.
 */
export async function startProcess({ name, args, env = {}, cwd = root, timeoutMs = 60_000, ipc = false, onSpawn = () => {} }) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  onSpawn(child);
  let output = '';
  const keep = (d) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  const agent = new http.Agent({ keepAlive: false });
  let firstAnswerMs;
  for (;;) {
    if (exited) throw new Error(`${name} exited (${exited.code ?? exited.signal}) before answering:\n${output}`);
    if (performance.now() - t0 > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer within ${timeoutMs} ms:\n${output}`);
    }
    try {
      const r = await postActivity(port, activity(`ready-${port}`, 'hello'), agent);
      if (r.status === 200 && repliesOf(r.body).length > 0) {
        firstAnswerMs = performance.now() - t0;
        break;
      }
    } catch {
      /* not listening yet */
    }
    await sleep(10);
  }
  return {
    name,
    child,
    port,
    firstAnswerMs,
    output: () => output,
    /** SIGTERM (the bot closes its server and database, and a --cpu-prof profile is written), then SIGKILL after 15 s. */
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exit;
      clearTimeout(timer);
      return r;
    },
  };
}

/** Resident memory of a process, in MiB, from /proc (Linux). */
export function rssMiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Math.round((kb / 1024) * 10) / 10;
  } catch {
    return null;
  }
}

/** Asks a child started with bench/probe.cjs (IPC) for its memory after a full GC. */
export function probeMemory(child) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('memory probe timed out')), 30_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.send({ type: 'memory' });
  });
}

export function loadAverage() {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadAverageAtStart: loadAverage(),
  };
}

/** Runs a node script to completion, collecting its output; resolves { code, stdout, stderr, ms }. */
export function runNode(args, { env = {}, cwd = root, input, onSpawn = () => {}, onExit = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    onSpawn(child);
    child.on('exit', () => onExit(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
    if (input) child.stdin.end(input);
  });
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/**
 * On-CPU seconds of each thread of a process so far, by thread id (Linux schedstat, in
 * nanoseconds: finer than /proc/…/stat's clock ticks); the main thread's id is the process's.
 * Null when the process is gone or the kernel keeps no schedstat.
 */
export function threadCpuSeconds(pid) {
  try {
    const threads = new Map();
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        threads.set(tid, Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return threads;
  } catch {
    return null;
  }
}

/**
 * How a process's threads spent a run: the main thread, its busiest other thread (the turn
 * worker in the bot; a V8 helper in the echo bot) and the rest, each in ms a turn, and the
 * share of the run's wall time the first two were on a core.
 */
export function threadShares(pid, before, after, turns, wallSeconds) {
  if (!before || !after || !turns || !wallSeconds) return null;
  const used = [...after].map(([tid, s]) => ({ tid, seconds: s - (before.get(tid) ?? 0) }));
  const main = used.find((t) => t.tid === String(pid));
  const others = used.filter((t) => t !== main).sort((a, b) => b.seconds - a.seconds);
  const busiest = others[0];
  const ms = (s) => Math.round(((s * 1000) / turns) * 1000) / 1000;
  const share = (s) => Math.round((s / wallSeconds) * 1000) / 10;
  const rest = others.slice(1).reduce((sum, t) => sum + t.seconds, 0);
  return {
    main: main ? { msPerTurn: ms(main.seconds), busyPercent: share(main.seconds) } : null,
    busiestOther: busiest ? { msPerTurn: ms(busiest.seconds), busyPercent: share(busiest.seconds) } : null,
    restMsPerTurn: ms(rest),
  };
}

/**
 * The PostgreSQL server's processes on this machine and the CPU seconds each has used so far:
 * every process named `postgres` (backends, WAL writer, checkpointer …). It shares the two cores
 * with the bot and the load generator, so its time per turn is part of what a turn costs here.
 */
export function postgresCpu() {
  const used = new Map();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    const seconds = cpuSeconds(pid);
    if (seconds !== null) used.set(pid, seconds);
  }
  return used;
}

/**
 * CPU seconds the PostgreSQL server used since `before` (postgresCpu()), counted per process: a
 * connection that closed meanwhile (an idle client's pool lets its connections go after a few
 * seconds) takes what it used before out of a plain sum, which then came out below zero.
 */
export function postgresCpuSince(before) {
  let total = 0;
  for (const [pid, seconds] of postgresCpu()) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** A fresh PostgreSQL database: { url, drop() }. */
export async function freshPostgres(label) {
  const pg = require('pg');
  const name = `bench_${label}_${process.pid}_${Date.now().toString(36)}`;
  const admin = async (sql) => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/** A fresh SQLite file in a new temp directory: { url, dir, drop() }. */
export function freshSqlite(label) {
  const dir = tempDir(`bench-${label}-`);
  return { url: `file:${path.join(dir, 'bot.db')}`, dir, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
