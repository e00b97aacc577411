/**
 * The load generator, run as its own process: `concurrency` workers, each talking one
 * conversation at a time (a fresh conversation id each), turn after turn, over keep-alive HTTP
 * to 127.0.0.1 with deliveryMode expectReplies. A turn counts as answered when the status is 200;
 * a turn answered with no reply at all is counted as `silent` (the bot is silent by design once a
 * conversation is with a person: demo borrower D06 is handed over at "还款方案").
 *
 *   node bench/driver.mjs '{"port":3978,"concurrency":10,"durationMs":10000,"warmupMs":2000,"script":"full"}'
 *   node bench/driver.mjs '{"port":3978,"concurrency":50,"conversations":1000,"script":"short"}'
 *
 * Prints one JSON object: turns, conversations, elapsedMs, turnsPerSec, latency percentiles (ms),
 * errors and a few error samples; with "transcripts": N also the replies of the first N conversations.
 */
import http from 'node:http';
import { activity, percentile, postActivity, repliesOf } from './lib.mjs';
import { conversationOf, demoBorrowers } from './conversations.mjs';

const opts = JSON.parse(process.argv[2] ?? '{}');
const { port, concurrency = 1, durationMs, warmupMs = 0, conversations: conversationLimit, script = 'full', prefix = `c${process.pid}`, transcripts = 0 } = opts;
if (!port || (!durationMs && !conversationLimit)) {
  console.error('usage: node bench/driver.mjs \'{"port":N,"concurrency":N,"durationMs":N|"conversations":N,...}\'');
  process.exit(2);
}
const borrowers = demoBorrowers();
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });

const latencies = [];
let turns = 0;
let allTurns = 0;
let errors = 0;
let silent = 0;
const errorSamples = [];
let started = 0;
let completed = 0;
const kept = [];

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const measureFrom = t0 + warmupMs;
const deadline = durationMs ? measureFrom + durationMs : Infinity;

async function worker() {
  for (;;) {
    if (conversationLimit !== undefined && started >= conversationLimit) return;
    if (performance.now() >= deadline) return;
    const n = started++;
    const conversation = `${prefix}-${n}`;
    const { borrower, locale, messages } = conversationOf(borrowers, n, script);
    const transcript = n < transcripts ? { borrower, turns: [] } : undefined;
    let whole = true;
    for (const text of messages) {
      const start = performance.now();
      if (start >= deadline) return;
      let ok = false;
      let detail = '';
      try {
        const r = await postActivity(port, activity(conversation, text, locale), agent);
        const replies = repliesOf(r.body);
        ok = r.status === 200;
        if (ok && replies.length === 0 && start >= measureFrom && performance.now() <= deadline) silent++;
        if (!ok) detail = `status ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`;
        if (transcript) transcript.turns.push({ said: text, replies: replies.map((a) => a.text ?? a.type) });
      } catch (e) {
        detail = String(e?.message ?? e);
      }
      const end = performance.now();
      allTurns++;
      // Turns that END inside the measured window count (throughput = completions per second).
      if (end >= measureFrom && end <= deadline) {
        latencies.push(end - start);
        turns++;
        if (!ok) errors++;
      }
      if (!ok) {
        whole = false;
        if (errorSamples.length < 5) errorSamples.push(`${conversation} "${text.slice(0, 20)}": ${detail}`);
      }
    }
    if (whole) completed++;
    if (transcript) kept.push(transcript);
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
const end = Math.min(performance.now(), deadline);
const elapsedMs = end - (durationMs ? measureFrom : t0);
latencies.sort((a, b) => a - b);
const round = (x) => (x === null ? null : Math.round(x * 100) / 100);
const out = {
  concurrency,
  script,
  turns,
  allTurns,
  conversationsStarted: started,
  conversationsCompleted: completed,
  elapsedMs: Math.round(elapsedMs),
  turnsPerSec: Math.round((turns / elapsedMs) * 1000 * 10) / 10,
  latencyMs: {
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies.at(-1) ?? null),
    mean: round(latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null),
  },
  errors,
  silent,
  errorSamples,
  // The load generator's own CPU (user + system), for every turn it sent: it shares the machine.
  cpuMsPerTurn: allTurns ? round(((({ user, system }) => user + system)(process.cpuUsage(cpu0)) / 1000) / allTurns) : null,
  ...(transcripts ? { transcripts: kept } : {}),
};
agent.destroy();
process.stdout.write(JSON.stringify(out));
