/**
 * `npm run bench`: the bot against the floor its own stack sets, measured side by side in one run.
 *
 *   npm run bench                  SQLite (a fresh file in a temp directory)
 *   npm run bench -- --pg          PostgreSQL (a fresh database on BENCH_POSTGRES_URL, dropped after;
 *                                  default: this machine's server over its Unix socket in
 *                                  /var/run/postgresql when there is one, else
 *                                  postgresql://postgres@127.0.0.1:5432/postgres; see bench/lib.mjs)
 *   npm run bench -- --both        both, one after the other
 *   npm run bench -- --smoke       everything, tiny and fast (CI: proves the benchmark still runs;
 *                                  results go to a temp file, never to bench/results.json)
 *   options: --seconds N (measured seconds per load phase, default 5), --rounds N (alternating echo
 *            and bot phases per concurrency, default 3), --only throughput,turnpath,
 *            coldstart,memory,portfolio,profile  --rows N (portfolio installments, default 1000000)
 *            --memory 1000,10000,100000 (conversation counts)  --no-build
 *
 * What runs: `npm run -s build`; the real server as production runs it (`node dist/bot/launch.js`,
 * SEED_DEMO=true, APP_NOW=2026-11-22T10:00:00+08:00, LOG_LEVEL=warn, rate limits off: all the
 * load comes from one address) and a bare echo bot on the same restify + CloudAdapter stack
 * (bench/echoBot.mjs); on PostgreSQL also the stateful echo (the same echo bot, reading and
 * writing each conversation's row on a PostgreSQL database of its own: what the database alone
 * costs a turn on these cores); the load comes from bench/driver.mjs, a separate process, over keep-alive
 * HTTP on 127.0.0.1 with deliveryMode expectReplies. Each conversation is new and whole (see
 * bench/conversations.mjs). The same conversations also go through the turn path alone, in one
 * thread with no HTTP (bench/turnPath.mjs): the most the turn worker can give, next to the echo
 * bot. With each load it reads how the bot's threads used the cores (/proc schedstat): the main
 * thread, the turn worker (its busiest other thread) and V8's and libuv's helpers, over the whole
 * run, warm-up included. Prints a table and the machine; writes bench/results.json (the
 * latest run per database). Exit 1 when a turn failed or the flows did not do what they should;
 * a missed target is reported, not an error (this is a measurement).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  APP_NOW, cpuSeconds, require, freshPostgres, postgresTransport, freshSqlite, loadAverage, machine, percentile, postgresCpu, postgresCpuSince, probeMemory, root, runNode, startProcess, tempDir, threadCpuSeconds, threadShares,
} from './lib.mjs';
import { writePortfolioCsv } from './portfolioCsv.mjs';
import { printSummary, summarize } from './profile.mjs';

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const smoke = flag('smoke');
const databases = flag('both') ? ['sqlite', 'postgres'] : flag('pg') ? ['postgres'] : ['sqlite'];
const SECTIONS = ['throughput', 'turnpath', 'coldstart', 'memory', 'portfolio', 'profile'];
const only = new Set(option('only', SECTIONS.join(',')).split(','));
for (const s of only) if (!SECTIONS.includes(s)) fail(`unknown section "${s}" (${SECTIONS.join(', ')})`);

const cfg = smoke
  ? { concurrencies: [1, 10], rounds: 1, warmupMs: 300, measureMs: 1000, memory: [100], rows: 500, portfolioConcurrencies: [10], profileMs: 0, restarts: 0 }
  : {
      concurrencies: [1, 10, 50],
      rounds: Number(option('rounds', 3)),
      warmupMs: 2000,
      measureMs: Number(option('seconds', 5)) * 1000,
      memory: option('memory', '1000,10000,100000').split(',').map(Number),
      rows: Number(option('rows', 1_000_000)),
      portfolioConcurrencies: [1, 10, 50],
      profileMs: 15_000,
      restarts: 3,
    };
if (!Number.isInteger(cfg.rounds) || cfg.rounds < 1) fail(`--rounds takes a whole number of at least 1, not "${option('rounds')}"`);
if (!(cfg.measureMs > 0)) fail(`--seconds takes a number of seconds above 0, not "${option('seconds')}"`);
const TARGETS = { throughputRatioMin: 0.5, p99RatioMax: 2, importSecondsMax: 60, coldStartMsMax: 2000 };

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Every child process from the moment it is spawned, and the databases to drop, for an early exit. */
const children = new Set();
const databasesToDrop = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const c of children) c.kill('SIGKILL');
    const drops = [...databasesToDrop].map((d) => d.drop().catch(() => {}));
    Promise.race([Promise.all(drops), new Promise((r) => setTimeout(r, 5000))]).then(() => process.exit(130));
  });
}

async function start(name, args, env, opts = {}) {
  let child;
  const p = await startProcess({ name, args, env, ...opts, onSpawn: (c) => children.add((child = c)) });
  const stop = p.stop;
  p.stop = async () => {
    const r = await stop();
    children.delete(child);
    return r;
  };
  return p;
}

const tracked = { onSpawn: (c) => children.add(c), onExit: (c) => children.delete(c) };

/** A fresh database of `kind`, dropped at the end (also when the run is interrupted). */
async function freshDatabase(kind, label) {
  const db = kind === 'sqlite' ? freshSqlite(label) : await freshPostgres(label);
  databasesToDrop.add(db);
  const drop = db.drop;
  db.drop = async () => {
    databasesToDrop.delete(db);
    await drop();
  };
  return db;
}

/** Production wants its own identity secret; one per run, the same for the server and the importer. */
const IDENTITY_SECRET = randomBytes(32).toString('hex');

function serverEnv(databaseUrl, dir) {
  return {
    IDENTITY_SECRET,
    DATABASE_URL: databaseUrl,
    SEED_DEMO: 'true',
    APP_NOW,
    APP_TIMEZONE: 'Asia/Shanghai',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    PROOF_STORAGE_DIR: path.join(dir, 'proofs'),
    // All the load comes from one address; the per-conversation limit (60 a minute) stays on,
    // as in production: no conversation here comes near it.
    RATE_LIMIT_PER_ADDRESS: '0',
  };
}

/**
 * The real server, production build (`npm start`'s bundle, or `modules`: the same code as tsc
 * emitted it, one file per module, so that a profile can say which module and package the time
 * went to); `node` flags before the script (profiling).
 */
async function startBot(databaseUrl, dir, { nodeFlags = [], probe = false, modules = false } = {}) {
  const args = [...nodeFlags, ...(probe ? ['-r', path.join(root, 'bench/probe.cjs')] : []), path.join(root, modules ? 'dist/bot/main.js' : 'dist/bot/launch.js')];
  const bot = await start('server', args, { ...serverEnv(databaseUrl, dir), BENCH_COUNT_SQL: probe ? '1' : '0' }, { ipc: probe });
  bot.usesPostgres = databaseUrl.startsWith('postgres');
  return bot;
}

/** The echo bot; with a PostgreSQL URL, the stateful echo (bench/echoBot.mjs). */
function startEcho(databaseUrl) {
  return start(databaseUrl ? 'stateful echo' : 'echo bot', [path.join(root, 'bench/echoBot.mjs')], databaseUrl ? { ECHO_DATABASE_URL: databaseUrl } : {});
}

/** The stateful echo on a fresh PostgreSQL database of its own; `stop` stops it and drops the database. */
async function startStatefulEcho() {
  const db = await freshDatabase('postgres', 'echo');
  try {
    const echo = await startEcho(db.url);
    echo.usesPostgres = true;
    return {
      echo,
      stop: async () => {
        await echo.stop();
        await db.drop();
      },
    };
  } catch (e) {
    await db.drop();
    throw e;
  }
}

/**
 * `fn` with the echo bot and, on PostgreSQL, the stateful echo; both are stopped after it, and the
 * stateful echo's database dropped, also when it (or starting the stateful echo) fails.
 */
async function withEchoes(kind, fn) {
  const echo = await startEcho();
  try {
    const stateful = kind === 'postgres' ? await startStatefulEcho() : undefined;
    try {
      return await fn(echo, stateful?.echo);
    } finally {
      await stateful?.stop();
    }
  } finally {
    await echo.stop();
  }
}

let runSeq = 0;
/** One driver run against `target`; adds the CPU time per turn of the target (and of PostgreSQL when the target uses it). */
async function drive(target, opts) {
  const pid = target.child.pid;
  const cpu0 = cpuSeconds(pid);
  const threads0 = threadCpuSeconds(pid);
  const t0 = performance.now();
  const db0 = target.usesPostgres ? postgresCpu() : null;
  const r = await runNode([path.join(root, 'bench/driver.mjs'), JSON.stringify({ port: target.port, prefix: `r${process.pid}x${++runSeq}`, ...opts })], tracked);
  const cpu1 = cpuSeconds(pid);
  const threads1 = threadCpuSeconds(pid);
  const wallSeconds = (performance.now() - t0) / 1000;
  const db = db0 === null ? null : postgresCpuSince(db0);
  if (r.code !== 0) throw new Error(`driver failed (${r.code}): ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  // Every turn the server answered in this run (warm-up included), against the CPU it used meanwhile.
  if (cpu0 !== null && cpu1 !== null && out.allTurns) out.serverCpuMsPerTurn = round(((cpu1 - cpu0) * 1000) / out.allTurns, 2);
  if (db !== null && out.allTurns) out.databaseCpuMsPerTurn = round((db * 1000) / out.allTurns, 2);
  // Which thread is the bottleneck: the turn worker busy nearly all the time caps the throughput.
  out.threads = threadShares(pid, threads0, threads1, out.allTurns, wallSeconds);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sections

const problems = [];
const log = (...a) => console.log(...a);
const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : Number(x).toFixed(d));

/** Each demo borrower once through the full flow: verified, and the plan confirmed where the story allows. */
async function flowCheck(bot) {
  const r = await drive(bot, { concurrency: 1, conversations: 10, script: 'full', transcripts: 10 });
  const rows = r.transcripts.map((t) => {
    const said = (i) => (t.turns[i]?.replies ?? []).join('\n');
    return {
      borrower: t.borrower,
      verified: /验证通过|you are verified/i.test(said(0)),
      confirmed: /已确认并记录|Confirmed and recorded/i.test(said(6)),
      handedOver: /排队|in the queue/i.test(said(3)),
      silentTurns: t.turns.filter((x) => x.replies.length === 0).length,
    };
  });
  const summary = {
    conversations: rows.length,
    verified: rows.filter((x) => x.verified).length,
    confirmed: rows.filter((x) => x.confirmed).length,
    handedOver: rows.filter((x) => x.handedOver).length,
    errors: r.errors,
    perBorrower: rows,
  };
  // The demo stories: D06 (200 days) goes to a person, D08 owes nothing; the other 8 confirm a plan.
  if (summary.verified !== 10 || summary.confirmed < 8 || summary.handedOver < 1 || r.errors) {
    problems.push(`flow check: ${JSON.stringify({ ...summary, perBorrower: undefined })}`);
  }
  return summary;
}

/** `stateful`: the stateful echo (PostgreSQL runs), driven in every round after the echo bot. */
async function throughput(echo, bot, stateful) {
  const coldStartFreshMs = Math.round(bot.firstAnswerMs);
  log(`  server up: first answer ${coldStartFreshMs} ms after spawn (fresh database: migrate + seed); echo bot ${Math.round(echo.firstAnswerMs)} ms`);
  const flow = await flowCheck(bot);
  log(`  flow check: ${flow.verified}/10 verified, ${flow.confirmed} plans confirmed, ${flow.handedOver} handed to a person`);
  const rows = [];
  for (const concurrency of cfg.concurrencies) {
    const load = { concurrency, durationMs: cfg.measureMs, warmupMs: cfg.warmupMs, script: 'full' };
    const la = loadAverage();
    // Echo and bot take turns, round after round: this machine's speed drifts from one minute to
    // the next (neighbours on the host), and a slow phase on one side alone would move the ratio.
    const rounds = [];
    for (let n = 0; n < cfg.rounds; n++) {
      const e = await drive(echo, load);
      const s = stateful ? await drive(stateful, load) : undefined;
      const b = await drive(bot, load);
      for (const [name, r] of [['echo', e], ['stateful echo', s], ['bot', b]]) {
        if (!r) continue;
        if (r.errors) problems.push(`${name} at ${concurrency}: ${r.errors} failed turns: ${r.errorSamples.join('; ')}`);
        if (!r.turns) problems.push(`${name} at ${concurrency}: no turn completed in the measured window`);
      }
      rounds.push({ echo: pick(e), bot: pick(b), ratio: ratioOf(e, b), ...(s ? { statefulEcho: pick(s), statefulEchoRatio: ratioOf(e, s) } : {}) });
    }
    // Each figure is the median of the rounds' (counts are summed), each ratio the median of the rounds' ratios.
    const row = {
      concurrency,
      echo: { ...medianOf(rounds.map((r) => r.echo)), ...totalsOf(rounds.map((r) => r.echo)) },
      bot: { ...medianOf(rounds.map((r) => r.bot)), ...totalsOf(rounds.map((r) => r.bot)) },
      ratio: medianOf(rounds.map((r) => r.ratio)),
      ...(stateful
        ? {
            statefulEcho: { ...medianOf(rounds.map((r) => r.statefulEcho)), ...totalsOf(rounds.map((r) => r.statefulEcho)) },
            // The stateful echo against the echo bot, as the bot's ratio is.
            statefulEchoRatio: medianOf(rounds.map((r) => r.statefulEchoRatio)),
          }
        : {}),
      rounds: rounds.map((r) => ({
        echoTurnsPerSec: r.echo.turnsPerSec,
        botTurnsPerSec: r.bot.turnsPerSec,
        ratio: r.ratio,
        ...(r.statefulEcho ? { statefulEchoTurnsPerSec: r.statefulEcho.turnsPerSec, statefulEchoRatio: r.statefulEchoRatio } : {}),
      })),
      loadAverage: [la, loadAverage()],
    };
    rows.push(row);
    const shares = (ratios) => (rounds.length > 1 ? `; rounds: ${ratios.map((r) => (r.throughput === null ? '—' : `${fmt(r.throughput * 100)}%`)).join(' ')}` : '');
    log(`  ${concurrency} concurrent: bot ${fmt(row.bot.turnsPerSec)} turns/s p99 ${fmt(row.bot.latencyMs.p99)} ms; echo ${fmt(row.echo.turnsPerSec)} turns/s p99 ${fmt(row.echo.latencyMs.p99)} ms${shares(rounds.map((r) => r.ratio))}`);
    if (stateful) log(`  ${concurrency} concurrent: stateful echo ${fmt(row.statefulEcho.turnsPerSec)} turns/s p99 ${fmt(row.statefulEcho.latencyMs.p99)} ms${shares(rounds.map((r) => r.statefulEchoRatio))}`);
  }
  return { coldStartFreshMs, flowCheck: flow, rows };
}

const round = (x, d) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);
const ratioOf = (e, b) => ({
  throughput: b.turns && e.turns ? round(b.turnsPerSec / e.turnsPerSec, 3) : null,
  p99: b.turns && e.turns ? round(b.latencyMs.p99 / e.latencyMs.p99, 1) : null,
});

/** What is counted, summed over the rounds. */
const totalsOf = (results) => Object.fromEntries(['turns', 'conversations', 'errors', 'silentTurns'].map((k) => [k, results.reduce((sum, r) => sum + (r[k] ?? 0), 0)]));

/** The median (nearest rank, like the percentiles) of each number over results of one shape, nested objects too; null where any is missing. */
function medianOf(results) {
  const [first] = results;
  if (typeof first === 'number') {
    return results.some((x) => typeof x !== 'number') ? null : percentile([...results].sort((a, b) => a - b), 50);
  }
  if (first === null || typeof first !== 'object' || results.some((x) => x === null || typeof x !== 'object')) return first ?? null;
  return Object.fromEntries(Object.keys(first).map((k) => [k, medianOf(results.map((x) => x[k]))]));
}
const pick = (r) => ({
  turnsPerSec: r.turnsPerSec,
  latencyMs: r.latencyMs,
  turns: r.turns,
  conversations: r.conversationsCompleted,
  errors: r.errors,
  silentTurns: r.silent,
  serverCpuMsPerTurn: r.serverCpuMsPerTurn ?? null,
  serverThreads: r.threads ?? null,
  databaseCpuMsPerTurn: r.databaseCpuMsPerTurn ?? null,
  driverCpuMsPerTurn: r.cpuMsPerTurn ?? null,
});

/**
 * The turn path alone (bench/turnPath.mjs): the same conversations through the turn worker's code
 * in one thread of its own, no HTTP, on a database of its own. What the worker's thread can give
 * at most, next to what the echo bot does over HTTP (the throughput section of this run).
 */
async function turnPath(kind, dir, throughputRows) {
  const tdb = await freshDatabase(kind, 'turnpath');
  try {
    // The turn worker's heap (bot/turnWorkerClient.ts): its young generation is three semi-spaces.
    const { TURN_WORKER_RESOURCE_LIMITS } = require(path.join(root, 'dist/bot/turnWorkerClient.js'));
    const semiSpaceMb = TURN_WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb / 3;
    const args = [`--max-semi-space-size=${semiSpaceMb}`, path.join(root, 'bench/turnPath.mjs'), JSON.stringify({ concurrencies: cfg.concurrencies, warmupMs: cfg.warmupMs, measureMs: cfg.measureMs })];
    const r = await runNode(args, {
      env: serverEnv(tdb.url, dir),
      ...tracked,
    });
    if (r.code !== 0) throw new Error(`turn path run failed (${r.code}): ${r.stderr}`);
    const { rows } = JSON.parse(r.stdout);
    for (const row of rows) {
      if (row.errors) problems.push(`turn path at ${row.concurrency}: ${row.errors} failed turns`);
      const echo = throughputRows?.find((t) => t.concurrency === row.concurrency)?.echo.turnsPerSec;
      row.shareOfEcho = echo ? round(row.turnsPerSec / echo, 3) : null;
      log(`  turn path alone, ${row.concurrency} concurrent: ${fmt(row.turnsPerSec)} turns/s, p99 ${fmt(row.latencyMs.p99)} ms, ${fmt(row.cpuMsPerTurn, 2)} ms CPU a turn${row.databaseCpuMsPerTurn === null ? '' : ` (PostgreSQL ${fmt(row.databaseCpuMsPerTurn, 2)} ms)`}${row.shareOfEcho === null ? '' : ` (${fmt(row.shareOfEcho * 100)}% of the echo bot's turns/s over HTTP)`}`);
    }
    return { rows };
  } finally {
    await tdb.drop();
  }
}

async function coldStart(db, dir) {
  // The database exists (migrated, seeded): a restart, as after a deploy.
  const times = [];
  for (let i = 0; i < cfg.restarts; i++) {
    const bot = await startBot(db.url, dir);
    times.push(Math.round(bot.firstAnswerMs));
    await bot.stop();
  }
  log(`  restart to first answer: ${times.join(', ')} ms`);
  // Where a start's time goes: a profile from spawn to the first answer.
  const profDir = tempDir('bench-startprofile-');
  const t0 = Number(process.hrtime.bigint() / 1000n);
  const bot = await startBot(db.url, dir, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const t1 = Number(process.hrtime.bigint() / 1000n);
  await bot.stop();
  const startup = threadProfiles(profDir, 15, { fromUs: t0, toUs: t1 });
  for (const p of startup) log(`  start-up profile, ${p.thread} (${Math.round(bot.firstAnswerMs)} ms under the profiler): ${p.selfByFunction.slice(0, 4).map((f) => `${f.fn.split(' ')[0]} ${f.ms} ms`).join(', ')}`);
  return { restartMs: times, startupProfiles: startup };
}

async function memory(bot) {
  await drive(bot, { concurrency: 20, conversations: smoke ? 20 : 200, script: 'short' }); // warm-up: code paths compiled, pools open
  const baseline = { conversations: 0, ...(await probeMemory(bot.child)) };
  log(`  after warm-up: heap ${baseline.heapUsedMiB} MiB, RSS ${baseline.rssMiB} MiB`);
  const points = [baseline];
  let done = 0;
  for (const target of cfg.memory) {
    const r = await drive(bot, { concurrency: 50, conversations: target - done, script: 'short' });
    if (r.errors) problems.push(`memory run to ${target}: ${r.errors} failed turns: ${r.errorSamples.join('; ')}`);
    done = target;
    const m = await probeMemory(bot.child);
    points.push({ conversations: target, ...m, turnsPerSec: r.turnsPerSec, p99Ms: r.latencyMs.p99 });
    log(`  after ${target} conversations: heap ${m.heapUsedMiB} MiB, RSS ${m.rssMiB} MiB (${fmt(r.turnsPerSec)} turns/s)`);
  }
  const first = points[1] ?? baseline;
  const last = points.at(-1);
  const perConversationBytes = last.conversations > first.conversations ? Math.round(((last.heapUsedMiB - first.heapUsedMiB) * 2 ** 20) / (last.conversations - first.conversations)) : null;
  return { script: 'verify + 再见, 50 concurrent', points, heapGrowthBytesPerConversation: perConversationBytes };
}

let csvFile;
async function portfolio(db, dir, baselineRows, seeded = false) {
  if (!csvFile) {
    const csvDir = tempDir('bench-portfolio-');
    csvFile = path.join(csvDir, 'portfolio.csv');
    const g = await writePortfolioCsv(csvFile, cfg.rows);
    log(`  generated ${g.rows} installments (${g.borrowers} borrowers, ${(g.bytes / 2 ** 20).toFixed(0)} MiB) in ${g.ms} ms`);
  }
  // The demo borrowers first (the bot seeds an empty database only), then the portfolio.
  if (!seeded) {
    const seed = await startBot(db.url, dir);
    await seed.stop();
  }
  const t0 = performance.now();
  // Peak resident memory of the importer: the kernel's high-water mark, read until it exits.
  let peakRssMiB = 0;
  let importerPid;
  const importer = runNode([path.join(root, 'dist/scripts/importPortfolio.js'), csvFile], {
    env: { DATABASE_URL: db.url, APP_NOW, LOG_LEVEL: 'warn', NODE_ENV: 'production', IDENTITY_SECRET },
    onSpawn: (c) => {
      tracked.onSpawn(c);
      importerPid = c.pid;
    },
    onExit: tracked.onExit,
  });
  const sampler = setInterval(() => {
    const hwm = peakRssOf(importerPid);
    if (hwm !== null) peakRssMiB = Math.max(peakRssMiB, hwm);
  }, 100);
  const r = await importer;
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  if (r.code !== 0) {
    problems.push(`import failed (${r.code}): ${r.stderr.slice(0, 500)}`);
    return { error: r.stderr.slice(0, 500) };
  }
  const summary = r.stdout.trim().split('\n').at(-1);
  log(`  import: ${summary} — ${seconds.toFixed(1)} s, ${Math.round(cfg.rows / seconds)} rows/s, peak RSS ${peakRssMiB} MiB`);
  const bot = await startBot(db.url, dir);
  const coldStartMs = Math.round(bot.firstAnswerMs);
  log(`  restart with the portfolio: first answer ${coldStartMs} ms`);
  const rows = [];
  for (const concurrency of cfg.portfolioConcurrencies) {
    const b = await drive(bot, { concurrency, durationMs: cfg.measureMs, warmupMs: cfg.warmupMs, script: 'full' });
    if (b.errors) problems.push(`portfolio bot at ${concurrency}: ${b.errors} failed turns: ${b.errorSamples.join('; ')}`);
    const without = baselineRows?.find((x) => x.concurrency === concurrency)?.bot;
    rows.push({ concurrency, bot: pick(b), withoutPortfolio: without ?? null });
    log(`  ${concurrency} concurrent with ${cfg.rows} installments: ${fmt(b.turnsPerSec)} turns/s, p50 ${fmt(b.latencyMs.p50)} p99 ${fmt(b.latencyMs.p99)} ms`);
  }
  await bot.stop();
  return { installments: cfg.rows, import: { seconds: round(seconds, 1), rowsPerSec: Math.round(cfg.rows / seconds), peakRssMiB, summary }, coldStartMs, rows };
}

/** A process's peak resident memory so far (VmHWM), in MiB; null once it is gone. */
function peakRssOf(pid) {
  try {
    const kb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

async function profile(db, dir) {
  const profDir = tempDir('bench-cpuprofile-');
  const bot = await startBot(db.url, dir, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`], probe: true, modules: true });
  await drive(bot, { concurrency: 10, durationMs: Math.min(2000, cfg.profileMs), script: 'full' }); // warm-up
  await sqlCounts(bot, 'sql-reset');
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const r = await drive(bot, { concurrency: 10, durationMs: cfg.profileMs, script: 'full' });
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const sql = await sqlCounts(bot, 'sql');
  await bot.stop();
  // Only the load phase: start-up (classifier training, migration) and shutdown are not turns.
  const summaries = threadProfiles(profDir, 20, { fromUs, toUs });
  if (!summaries.length) {
    problems.push('profile: no .cpuprofile was written');
    return null;
  }
  const turns = r.allTurns;
  const perTurn = turns ? round(sql.statements / turns, 1) : null;
  log(`  profile: ${r.turns} turns at 10 concurrent (${fmt(r.turnsPerSec)} turns/s under the profiler); ${perTurn} SQL statements a turn`);
  return { turns: r.turns, turnsPerSec: r.turnsPerSec, sqlStatementsPerTurn: perTurn, topStatements: sql.byStatement.slice(0, 15).map(([q, n, ms]) => ({ perTurn: round(n / turns, 2), msPerTurn: ms === null ? null : round(ms / turns, 3), sql: q })), threads: summaries };
}

/**
 * One summary per thread: node --cpu-prof writes a profile for each (CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile),
 * the main thread's (HTTP, Bot Framework) as thread 0, the turn worker's as another.
 */
function threadProfiles(profDir, top, window) {
  return fs
    .readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ f, thread: Number(f.split('.').at(-3)) }))
    .sort((a, b) => a.thread - b.thread)
    .map(({ f, thread }) => ({ thread: thread === 0 ? 'main thread' : `worker thread ${thread}`, ...summarize(path.join(profDir, f), top, window) }));
}

function sqlCounts(bot, type) {
  return new Promise((resolve) => {
    bot.child.once('message', resolve);
    bot.child.send({ type });
  });
}

// ---------------------------------------------------------------------------------------------
// Report

function table(result) {
  const out = [];
  if (result.throughput) {
    const phases = cfg.rounds > 1 ? `medians of ${cfg.rounds} alternating rounds, ` : '';
    out.push('', `  full conversations (${phases}${cfg.measureMs / 1000} s a phase after ${cfg.warmupMs / 1000} s warm-up), ${result.database}:`);
    out.push('  conc │ bot turns/s   p50    p95    p99 │ echo turns/s  p50    p95    p99 │ throughput  p99 ratio │ CPU ms/turn: bot    db  load │ echo  load');
    for (const r of result.throughput.rows) {
      const b = r.bot;
      const e = r.echo;
      out.push(
        `  ${String(r.concurrency).padStart(4)} │ ${fmt(b.turnsPerSec).padStart(12)} ${fmt(b.latencyMs.p50).padStart(6)} ${fmt(b.latencyMs.p95).padStart(6)} ${fmt(b.latencyMs.p99).padStart(6)} │` +
          ` ${fmt(e.turnsPerSec).padStart(12)} ${fmt(e.latencyMs.p50).padStart(5)} ${fmt(e.latencyMs.p95).padStart(6)} ${fmt(e.latencyMs.p99).padStart(6)} │` +
          ` ${(r.ratio.throughput === null ? '—' : fmt(r.ratio.throughput * 100, 1) + '%').padStart(10)} ${(r.ratio.p99 === null ? '—' : fmt(r.ratio.p99, 1) + '×').padStart(10)} │ ${fmt(b.serverCpuMsPerTurn, 2).padStart(16)} ${fmt(b.databaseCpuMsPerTurn, 2).padStart(5)} ${fmt(b.driverCpuMsPerTurn, 2).padStart(5)} │ ${fmt(e.serverCpuMsPerTurn, 2).padStart(4)} ${fmt(e.driverCpuMsPerTurn, 2).padStart(5)}`,
      );
    }
    const withStateful = result.throughput.rows.filter((r) => r.statefulEcho);
    if (withStateful.length) {
      out.push('', '  the stateful echo (the echo bot reading and writing its conversation row on PostgreSQL; bench/echoBot.mjs):');
      for (const r of withStateful) {
        const s = r.statefulEcho;
        const q = r.statefulEchoRatio;
        out.push(
          `  ${String(r.concurrency).padStart(4)} │ ${fmt(s.turnsPerSec).padStart(12)} turns/s, p50 ${fmt(s.latencyMs.p50)} p99 ${fmt(s.latencyMs.p99)} ms; ${q.throughput === null ? '—' : `${fmt(q.throughput * 100)}%`} of the echo bot's turns/s, p99 ${q.p99 === null ? '—' : `${fmt(q.p99)}×`}; CPU ms/turn: ${fmt(s.serverCpuMsPerTurn, 2)} echo, ${fmt(s.databaseCpuMsPerTurn, 2)} db, ${fmt(s.driverCpuMsPerTurn, 2)} load`,
        );
      }
    }
  }
  const withThreads = (result.throughput?.rows ?? []).filter((r) => r.bot.serverThreads?.main && r.bot.serverThreads.busiestOther);
  if (withThreads.length) {
    out.push('', "  the bot's threads (CPU a turn, and the share of the run, warm-up included, each was on a core):");
    for (const r of withThreads) {
      const t = r.bot.serverThreads;
      out.push(
        `  ${String(r.concurrency).padStart(4)} │ main thread ${fmt(t.main.msPerTurn, 2)} ms (${fmt(t.main.busyPercent)}%), turn worker ${fmt(t.busiestOther.msPerTurn, 2)} ms (${fmt(t.busiestOther.busyPercent)}%), V8 and libuv helpers ${fmt(t.restMsPerTurn, 2)} ms`,
      );
    }
  }
  if (result.turnPath) {
    out.push('', '  the turn path alone (one thread, no HTTP, no load generator; bench/turnPath.mjs):');
    for (const r of result.turnPath.rows) {
      out.push(
        `  ${String(r.concurrency).padStart(4)} │ ${fmt(r.turnsPerSec).padStart(12)} turns/s, p50 ${fmt(r.latencyMs.p50)} p99 ${fmt(r.latencyMs.p99)} ms, ${fmt(r.cpuMsPerTurn, 2)} ms CPU a turn` +
          (r.databaseCpuMsPerTurn === null ? '' : ` + ${fmt(r.databaseCpuMsPerTurn, 2)} ms PostgreSQL`) +
          (r.shareOfEcho === null ? '' : `; ${fmt(r.shareOfEcho * 100)}% of the echo bot's turns/s`),
      );
    }
  }
  if (result.memory) {
    out.push('', `  memory (${result.memory.script}; after a full GC):`);
    for (const p of result.memory.points) out.push(`    ${String(p.conversations).padStart(7)} conversations: heap ${fmt(p.heapUsedMiB)} MiB, RSS ${fmt(p.rssMiB)} MiB`);
    out.push(`    heap growth: ${result.memory.heapGrowthBytesPerConversation ?? '—'} bytes a conversation`);
  }
  if (result.portfolio?.rows) {
    const p = result.portfolio;
    out.push('', `  ${p.installments} installments: import ${p.import.seconds} s (${p.import.rowsPerSec} rows/s, peak RSS ${p.import.peakRssMiB} MiB); restart ${p.coldStartMs} ms`);
    for (const r of p.rows) {
      const w = r.withoutPortfolio;
      out.push(`    ${String(r.concurrency).padStart(3)} concurrent: ${fmt(r.bot.turnsPerSec)} turns/s, p50 ${fmt(r.bot.latencyMs.p50)} p99 ${fmt(r.bot.latencyMs.p99)} ms` + (w ? `   (demo data only: ${fmt(w.turnsPerSec)} turns/s, p99 ${fmt(w.latencyMs.p99)} ms)` : ''));
    }
  }
  if (result.targets?.length) {
    out.push('', '  targets:');
    for (const t of result.targets) out.push(`    ${t.met ? 'met ' : 'MISS'}  ${t.name}: ${t.value} (target ${t.target})`);
  }
  return out.join('\n');
}

function targets(result) {
  const t = [];
  for (const r of result.throughput?.rows ?? []) {
    const { throughput: share, p99 } = r.ratio;
    if (r.concurrency >= 10) t.push({ name: `throughput at ${r.concurrency} concurrent, share of echo`, value: share === null ? 'no turns measured' : `${fmt(share * 100)}%`, target: `≥ ${TARGETS.throughputRatioMin * 100}%`, met: share !== null && share >= TARGETS.throughputRatioMin });
    t.push({ name: `p99 at ${r.concurrency} concurrent, multiple of echo`, value: p99 === null ? 'no turns measured' : `${fmt(p99)}×`, target: `≤ ${TARGETS.p99RatioMax}×`, met: p99 !== null && p99 <= TARGETS.p99RatioMax });
  }
  if (result.portfolio?.import) {
    const s = result.portfolio.import.seconds;
    t.push({ name: `import of ${result.portfolio.installments} rows`, value: `${s} s`, target: `< ${TARGETS.importSecondsMax} s`, met: s < TARGETS.importSecondsMax });
  }
  const starts = [result.throughput?.coldStartFreshMs, ...(result.coldStart?.restartMs ?? []), result.portfolio?.coldStartMs].filter((x) => typeof x === 'number');
  if (starts.length) {
    const worst = Math.max(...starts);
    t.push({ name: 'cold start to first answer (worst of all starts)', value: `${worst} ms`, target: `< ${TARGETS.coldStartMsMax} ms`, met: worst < TARGETS.coldStartMsMax });
  }
  if (result.memory?.heapGrowthBytesPerConversation !== undefined && result.memory.heapGrowthBytesPerConversation !== null) {
    const g = result.memory.heapGrowthBytesPerConversation;
    t.push({ name: 'heap growth per conversation (flat: no conversation kept in memory)', value: `${g} B`, target: '< 100 B', met: g < 100 });
  }
  return t;
}

// ---------------------------------------------------------------------------------------------

async function runFor(kind) {
  const db = await freshDatabase(kind, 'db');
  const dir = tempDir('bench-files-');
  const result = { database: kind, date: new Date().toISOString(), machine: machine(), smoke, config: cfg };
  if (kind === 'postgres') result.transport = postgresTransport(db.url);
  log(`\n${kind === 'sqlite' ? `SQLite (${db.url})` : `PostgreSQL (${result.transport})`}`);
  // When and under what load each section ran (a run of some sections keeps the others' stamps).
  result.sections = {};
  const stamp = (name, started) => (result.sections[name] = { date: started.date, loadAverage: { start: started.load, end: loadAverage() } });
  const section = async (name, fn) => {
    const started = { date: new Date().toISOString(), load: loadAverage() };
    result[name] = await fn();
    stamp(name, started);
  };
  try {
    if (smoke) return await smokeRun(result, db, dir);
    await section('throughput', async () => {
      if (!only.has('throughput')) return undefined;
      return withEchoes(kind, async (echo, stateful) => {
        const bot = await startBot(db.url, dir);
        const r = await throughput(echo, bot, stateful);
        await bot.stop();
        return r;
      });
    });
    if (only.has('turnpath')) await section('turnPath', () => turnPath(kind, dir, result.throughput?.rows));
    if (only.has('coldstart')) await section('coldStart', () => coldStart(db, dir));
    if (only.has('profile')) await section('profile', () => profile(db, dir));
    if (only.has('memory')) {
      await section('memory', async () => {
        // A database of its own: the counts are of conversations this server saw.
        const mdb = await freshDatabase(kind, 'memory');
        try {
          const bot = await startBot(mdb.url, dir, { probe: true });
          const r = await memory(bot);
          await bot.stop();
          return r;
        } finally {
          await mdb.drop();
        }
      });
    }
    if (only.has('portfolio')) {
      await section('portfolio', async () => {
        const pdb = await freshDatabase(kind, 'portfolio');
        try {
          return await portfolio(pdb, dir, result.throughput?.rows);
        } finally {
          await pdb.drop();
        }
      });
    }
    if (!result.throughput) delete result.throughput;
  } finally {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return finish(result);
}

function finish(result) {
  result.loadAverageAtEnd = loadAverage();
  result.targets = targets(result);
  return result;
}

/**
 * --smoke: every part once, tiny, on as few server starts as possible (two; three on PostgreSQL,
 * with the stateful echo): the load on echo and bot, the flow check, memory probes, the turn path
 * alone, an import through the command line, a restart on it.
 */
async function smokeRun(result, db, dir) {
  await withEchoes(result.database, async (echo, stateful) => {
    const bot = await startBot(db.url, dir, { probe: true });
    result.throughput = await throughput(echo, bot, stateful);
    result.memory = await memory(bot);
    await bot.stop();
  });
  result.turnPath = await turnPath(result.database, dir, result.throughput.rows);
  result.portfolio = await portfolio(db, dir, result.throughput.rows, true);
  return finish(result);
}

async function main() {
  const m = machine();
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, ${m.os}; ${m.date}; load average ${m.loadAverageAtStart.join(' ')}`);
  if (!flag('no-build')) {
    const t0 = performance.now();
    const b = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) fail('npm run -s build failed');
    log(`build: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const results = {};
  for (const kind of databases) results[kind] = await runFor(kind);
  if (csvFile) fs.rmSync(path.dirname(csvFile), { recursive: true, force: true });

  for (const r of Object.values(results)) {
    log(table(r));
    if (r.profile) {
      log('');
      for (const t of r.profile.threads) {
        log(`\n  ${t.thread}:`);
        printSummary({ ...t, selfByFunction: t.selfByFunction.slice(0, 12) }, (l) => log(`  ${l}`));
      }
      log(`\n  SQL statements a turn: ${r.profile.sqlStatementsPerTurn}`);
      for (const s of r.profile.topStatements.slice(0, 12)) log(`    ${fmt(s.perTurn, 2).padStart(6)}  ${s.msPerTurn === null ? '' : `${fmt(s.msPerTurn, 3)} ms  `}${s.sql}`);
    }
  }
  log(`\nmachine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}; ${m.date}; load average at start ${m.loadAverageAtStart.join(' ')}, at end ${loadAverage().join(' ')}`);

  // The latest run per database (a run of some sections replaces those); a smoke run never
  // replaces them, and keeps its own results only when something went wrong.
  if (!smoke || problems.length) {
    const file = smoke ? path.join(os.tmpdir(), `bench-smoke-results-${process.pid}.json`) : path.join(root, 'bench/results.json');
    let all = {};
    if (!smoke && fs.existsSync(file)) {
      try {
        all = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        all = {};
      }
    }
    for (const [kind, r] of Object.entries(results)) {
      const merged = { ...(all[kind] ?? {}), ...r, sections: { ...(all[kind]?.sections ?? {}), ...r.sections } };
      merged.targets = targets(merged);
      all[kind] = merged;
    }
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(all, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
    log(`results: ${path.relative(process.cwd(), file) || file}`);
  } else {
    log('smoke run: every section ran, no turn failed (results not kept)');
  }

  if (problems.length) {
    console.error('\nproblems:');
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
