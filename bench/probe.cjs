/**
 * Preloaded into the server by the benchmark (`node -r ./bench/probe.cjs dist/bot/launch.js`,
 * started with an IPC channel). Changes nothing in the bot; answers the benchmark's questions:
 *
 * - { type: 'memory' } → a full GC in every thread, then the process's memory (MiB), its heap the sum of all threads';
 * - { type: 'sql' }    → how many SQL statements ran (SQLite: better-sqlite3 Statement#run/get/all/iterate; PostgreSQL:
 *   pg Client#query), grouped by their first words, since the last { type: 'sql-reset' }.
 *
 * Worker threads inherit the preload (`-r`): the turn worker counts its own statements and heap,
 * and the main thread adds them in, asking over a BroadcastChannel.
 */
const counts = new Map();
/** Nanoseconds spent in each statement (SQLite only: its statements run synchronously). */
const nanos = new Map();
let statements = 0;
function count(sql) {
  statements++;
  // The statement's first words are enough to tell it (and cheap: this runs on every statement).
  const key = String(typeof sql === 'string' ? sql : (sql?.text ?? '')).slice(0, 160).replace(/\s+/g, ' ').replace(/\$\d+/g, '?').trim().slice(0, 110);
  counts.set(key, (counts.get(key) ?? 0) + 1);
  return key;
}

if (process.env.BENCH_COUNT_SQL === '1') {
  try {
    const Database = require(require.resolve('better-sqlite3', { paths: [process.cwd()] }));
    const prepare = Database.prototype.prepare;
    // Counted where statements run, not where they are prepared: the turn path reuses prepared statements.
    let patched = false;
    Database.prototype.prepare = function (sql, ...rest) {
      const statement = prepare.call(this, sql, ...rest);
      if (!patched) {
        patched = true;
        const proto = Object.getPrototypeOf(statement);
        for (const method of ['run', 'get', 'all', 'iterate']) {
          const original = proto[method];
          proto[method] = function (...args) {
            const key = count(this.source);
            const start = process.hrtime.bigint();
            try {
              return original.apply(this, args);
            } finally {
              nanos.set(key, (nanos.get(key) ?? 0n) + process.hrtime.bigint() - start);
            }
          };
        }
      }
      return statement;
    };
  } catch {
    /* not installed */
  }
  try {
    const pg = require(require.resolve('pg', { paths: [process.cwd()] }));
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (config, ...rest) {
      count(config);
      return query.call(this, config, ...rest);
    };
  } catch {
    /* not installed */
  }
}

const mib = (b) => Math.round((b / 2 ** 20) * 10) / 10;
/**
 * The collector, exposed when first asked for: started with --expose-gc, the server's V8 flags
 * would differ from the build's and V8 would refuse the bundle's code cache (bot/bundleLoader.ts).
 */
let gc;
function collect() {
  if (!gc) {
    require('node:v8').setFlagsFromString('--expose-gc');
    gc = require('node:vm').runInNewContext('gc');
  }
  gc();
  gc();
}
/** This thread's part of an answer. */
function local(type) {
  if (type === 'memory') {
    collect();
    return { heapUsed: process.memoryUsage().heapUsed };
  }
  if (type === 'sql') return { statements, byStatement: [...counts].map(([key, n]) => [key, n, nanos.has(key) ? Number(nanos.get(key)) : null]) };
  statements = 0;
  counts.clear();
  nanos.clear();
  return {};
}

const { isMainThread, BroadcastChannel, threadId } = require('node:worker_threads');
const channel = new BroadcastChannel('bench-probe');
channel.unref();
if (!isMainThread) {
  channel.onmessage = ({ data }) => {
    if (data?.ask) channel.postMessage({ answer: data.ask, threadId, ...local(data.type) });
  };
} else if (process.send) {
  let asks = 0;
  /** Every worker thread's part (they answer at once; a thread that does not within 500 ms has none). */
  const fromWorkers = (type) =>
    new Promise((resolve) => {
      const ask = ++asks;
      const parts = [];
      channel.onmessage = ({ data }) => data?.answer === ask && parts.push(data);
      channel.postMessage({ ask, type });
      setTimeout(() => resolve(parts), 500);
    });
  process.on('message', async (m) => {
    if (!['memory', 'sql', 'sql-reset'].includes(m?.type)) return;
    const parts = [local(m.type), ...(await fromWorkers(m.type))];
    if (m.type === 'memory') {
      const u = process.memoryUsage();
      const heapUsed = parts.reduce((sum, p) => sum + p.heapUsed, 0);
      process.send({ gc: true, threads: parts.length, rssMiB: mib(u.rss), heapUsedMiB: mib(heapUsed), externalMiB: mib(u.external), arrayBuffersMiB: mib(u.arrayBuffers) });
    } else if (m.type === 'sql') {
      const merged = new Map();
      for (const p of parts) {
        for (const [key, n, ns] of p.byStatement) {
          const [n0, ns0] = merged.get(key) ?? [0, null];
          merged.set(key, [n0 + n, ns === null ? ns0 : (ns0 ?? 0) + ns]);
        }
      }
      process.send({
        statements: parts.reduce((sum, p) => sum + p.statements, 0),
        byStatement: [...merged].sort((a, b) => b[1][0] - a[1][0]).map(([key, [n, ns]]) => [key, n, ns === null ? null : ns / 1e6]),
      });
    } else process.send({ ok: true });
  });
  // The IPC channel must not keep a stopped server alive.
  process.channel?.unref?.();
}
