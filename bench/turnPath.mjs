/**
 * The turn path alone: what one thread does with the same whole conversations when nothing else
 * runs, no HTTP, no Bot Framework, no load generator sharing the cores. It builds the turn side
 * exactly as the turn worker does (bot/turnSide.ts, from the build's dist/) on the database it is
 * given, migrated and seeded as the server would, and calls the pipeline directly, `concurrency`
 * conversations at a time.
 *
 *   node --max-semi-space-size=32 bench/turnPath.mjs '{"concurrencies":[1,10,50],"warmupMs":2000,"measureMs":10000}'
 *   (the flag gives this thread the turn worker's young generation: bench/run.mjs passes it)
 *   (DATABASE_URL, APP_NOW, IDENTITY_SECRET … in the environment, as for the server)
 *
 * Prints one JSON object: per concurrency, turns/s, latency percentiles, this process's CPU per
 * turn (and PostgreSQL's, which shares the cores), failed turns and turns answered with silence.
 * Its turns/s is the most the turn worker's thread can give the server, whatever the HTTP side
 * does: with the echo bot's figures it bounds the share of the echo bot a full run can reach
 * (bench/run.mjs prints both).
 */
import path from 'node:path';
import { activity, percentile, postgresCpu, postgresCpuSince, require, root } from './lib.mjs';
import { conversationOf, demoBorrowers } from './conversations.mjs';

const { concurrencies = [1, 10, 50], warmupMs = 2000, measureMs = 10_000 } = JSON.parse(process.argv[2] ?? '{}');
const dist = (m) => require(path.join(root, 'dist', m));
// The server's process runs with these V8 flags (bot/launch.ts), so the turn worker's thread does.
dist('bot/v8Flags.js').applyProcessV8Flags();
const { loadConfig } = dist('bot/config.js');
const { createLogger } = dist('bot/logger.js');
const { createClock } = dist('bot/clock.js');
const { createTurnSide } = dist('bot/turnSide.js');
const { migrateDatabase } = dist('db/migrator.js');
const { openDatabase } = dist('db/client.js');
const { resolveIdentityKey } = dist('db/identityKey.js');
const { seedDemoPortfolio } = dist('portfolio/demoPortfolio.js');
const { parseDialogs, readDialogFiles } = dist('dialogs/loadDialogs.js');
const { localDateOf } = dist('machines/domain/calendar.js');

const config = loadConfig();
const onPostgres = config.databaseUrl.startsWith('postgres');
const logger = createLogger(config.logLevel);
await migrateDatabase(config.databaseUrl, () => {});
const database = await openDatabase(config.databaseUrl);
const identityKey = await resolveIdentityKey(database.sql, config.identitySecret);
const clock = createClock(config.appNow);
await seedDemoPortfolio(database, { today: localDateOf(clock(), config.timeZone), identitySecret: identityKey });
const shipped = readDialogFiles();
const { pipeline, warm } = createTurnSide({ database, config, identityKey, logger, clock, shipped, shippedDialogs: parseDialogs(shipped) });
await warm(); // as the turn worker does before it takes turns
// Nothing here reaches an agent or a channel: no conversation of the load is handed over proactively.
pipeline.link({ publish: () => {}, proactive: { send: async () => {} } });

const borrowers = demoBorrowers();
let conversationSeq = 0;

async function phase(concurrency) {
  const latencies = [];
  let errors = 0;
  let silent = 0;
  let measuring = false;
  let stop = false;
  const lane = async () => {
    while (!stop) {
      const n = conversationSeq++;
      const { locale, messages } = conversationOf(borrowers, n, 'full');
      for (const text of messages) {
        if (stop) return;
        const t0 = performance.now();
        try {
          // Silent by design once a person has the conversation (bench/driver.mjs counts the same).
          if ((await pipeline.handle(activity(`p${n}`, text, locale))).length === 0 && measuring) silent++;
        } catch {
          errors++;
        }
        if (measuring) latencies.push(performance.now() - t0);
      }
    }
  };
  const lanes = Array.from({ length: concurrency }, lane);
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const db0 = onPostgres ? postgresCpu() : null;
  await new Promise((r) => setTimeout(r, measureMs));
  const cpu = process.cpuUsage(cpu0);
  const dbMs = db0 === null ? null : postgresCpuSince(db0) * 1000;
  const elapsedMs = performance.now() - t0;
  measuring = false;
  const turns = latencies.length;
  stop = true;
  await Promise.all(lanes);
  latencies.sort((a, b) => a - b);
  const r2 = (x) => Math.round(x * 100) / 100;
  return {
    concurrency,
    turns,
    turnsPerSec: r2((turns * 1000) / elapsedMs),
    latencyMs: { p50: r2(percentile(latencies, 50)), p95: r2(percentile(latencies, 95)), p99: r2(percentile(latencies, 99)) },
    cpuMsPerTurn: turns ? r2((cpu.user + cpu.system) / 1000 / turns) : null,
    databaseCpuMsPerTurn: turns && dbMs !== null ? r2(dbMs / turns) : null,
    errors,
    silentTurns: silent,
  };
}

const rows = [];
for (const c of concurrencies) rows.push(await phase(c));
await database.close();
console.log(JSON.stringify({ rows }));
