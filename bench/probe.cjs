/**
 * Preloaded into the server by the benchmark (`node -r ./bench/probe.cjs dist/bot/launch.js`,
 * started with an IPC channel). Changes nothing in the bot; answers the benchmark's questions:
 *
 * - { type: 'memory' } → a full GC, then process.memoryUsage() (MiB) and the live handle count;
 * - { type: 'sql' }    → how many SQL statements ran (SQLite: better-sqlite3 Statement#run/get/all/iterate; PostgreSQL:
 *   pg Client#query), grouped by their first words, since the last { type: 'sql-reset' }.
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
if (process.send) {
  process.on('message', (m) => {
    if (m?.type === 'memory') {
      collect();
      const u = process.memoryUsage();
      process.send({ gc: true, rssMiB: mib(u.rss), heapUsedMiB: mib(u.heapUsed), heapTotalMiB: mib(u.heapTotal), externalMiB: mib(u.external), arrayBuffersMiB: mib(u.arrayBuffers) });
    } else if (m?.type === 'sql') {
      process.send({ statements, byStatement: [...counts].sort((a, b) => b[1] - a[1]).map(([key, n]) => [key, n, nanos.has(key) ? Number(nanos.get(key)) / 1e6 : null]) });
    } else if (m?.type === 'sql-reset') {
      statements = 0;
      counts.clear();
      nanos.clear();
      process.send({ ok: true });
    }
  });
  // The IPC channel must not keep a stopped server alive.
  process.channel?.unref?.();
}
