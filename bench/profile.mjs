/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): where the busy time goes, by package or project
 * folder (self time), by function (self time), and inclusive time of the turn path's stages.
 *
 *   node bench/profile.mjs path/to/file.cpuprofile [--top 25] [--json]
 *
 * `window` ({ fromUs, toUs }, microseconds of the monotonic clock: process.hrtime.bigint() / 1000n
 * in any process on the machine, which is the profile's own clock) keeps only the samples taken
 * inside it, e.g. the load phase without start-up and shutdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import { root } from './lib.mjs';

/** Project functions whose inclusive time says which stage of a turn costs what. */
const STAGES = [
  ['dist/bot/server.js', '(anonymous)', 'POST /api/messages handler'],
  ['dist/bot/activitySchema.js', null, 'inbound activity zod check'],
  ['dist/bot/turnPipeline.js', 'attempt', 'turnPipeline.attempt (whole turn)'],
  ['dist/db/conversationStore.js', 'load', 'conversationStore.load'],
  ['dist/db/conversationStore.js', 'commitTurn', 'conversationStore.commitTurn'],
  ['dist/machines/turnRuntime.js', 'runMachineTurn', 'runMachineTurn (XState)'],
  ['dist/machines/recognition/recognizer.js', null, 'recognizer'],
  ['dist/bot/replyRenderer.js', 'renderReplies', 'renderReplies'],
  ['dist/db/identityCheck.js', 'checkIdentity', 'checkIdentity'],
  ['dist/db/accountSummary.js', 'loadAccountSummary', 'loadAccountSummary'],
  ['dist/db/plans.js', null, 'db/plans (penalty, options, plan quotes)'],
  ['node_modules/@prisma/client/', null, '@prisma/client (all)'],
  ['node_modules/xstate/', null, 'xstate (all)'],
  ['node_modules/zod/', null, 'zod (all)'],
  ['node_modules/pino/', null, 'pino (all)'],
  ['node_modules/botbuilder', null, 'botbuilder* (all)'],
  ['node_modules/restify/', null, 'restify (all)'],
  ['node_modules/better-sqlite3/', null, 'better-sqlite3 (all)'],
  ['node_modules/@prisma/adapter-better-sqlite3/', null, '@prisma/adapter-better-sqlite3 (all)'],
  ['node_modules/pg', null, 'pg (all)'],
];

export function categoryOf(url) {
  if (!url) return null;
  let p = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  if (p.startsWith('node:')) return 'node internals';
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? 'node_modules');
  }
  if (p.startsWith(root)) p = path.relative(root, p);
  const parts = p.split('/');
  if (parts[0] === 'dist') return parts.length > 2 ? `dist/${parts[1]}${parts.length > 3 ? `/${parts[2]}` : ''}` : p;
  return parts.length > 1 ? parts[0] : p;
}

export function summarize(file, top = 25, window = undefined) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map(); // node id → µs
  let t = prof.startTime;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    self.set(id, (self.get(id) ?? 0) + dt);
  });

  const rel = (url) => {
    const p = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
    return p.startsWith(root) ? path.relative(root, p) : p;
  };
  const keyOf = (n) => {
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    if (!cf.url) return name;
    return `${name} ${rel(cf.url)}:${cf.lineNumber + 1}`;
  };

  let total = 0;
  let idle = 0;
  const byCategory = new Map();
  const byFunction = new Map();
  for (const [id, us] of self) {
    const n = nodes.get(id);
    const name = n.callFrame.functionName;
    total += us;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const cat = categoryOf(n.callFrame.url) ?? name; // (garbage collector), (program), native
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const k = keyOf(n);
    byFunction.set(k, (byFunction.get(k) ?? 0) + us);
  }
  const busy = total - idle;

  // Inclusive time per stage: a sample counts once for a stage if any frame of its stack matches.
  const stageHits = STAGES.map(() => 0);
  const matches = STAGES.map(([file, fn]) => (n) => {
    const u = n.callFrame.url ? rel(n.callFrame.url) : '';
    return u.includes(file) && (fn === null || n.callFrame.functionName === fn);
  });
  const stackMemo = new Map();
  const stagesOf = (id) => {
    if (stackMemo.has(id)) return stackMemo.get(id);
    const n = nodes.get(id);
    const up = parent.has(id) ? stagesOf(parent.get(id)) : 0n;
    let mask = up;
    matches.forEach((m, i) => {
      if (m(n)) mask |= 1n << BigInt(i);
    });
    stackMemo.set(id, mask);
    return mask;
  };
  for (const [id, us] of self) {
    if (nodes.get(id).callFrame.functionName === '(idle)') continue;
    const mask = stagesOf(id);
    STAGES.forEach((_, i) => {
      if (mask & (1n << BigInt(i))) stageHits[i] += us;
    });
  }

  const pct = (us) => Math.round((us / busy) * 1000) / 10;
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    file,
    wallMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    idleShare: Math.round((idle / total) * 1000) / 10,
    selfByCategory: sorted(byCategory).slice(0, top).map(([k, us]) => ({ where: k, ms: Math.round(us / 1000), pct: pct(us) })),
    selfByFunction: sorted(byFunction).slice(0, top).map(([k, us]) => ({ fn: k, ms: Math.round(us / 1000), pct: pct(us) })),
    inclusiveStages: STAGES.map(([, , label], i) => ({ stage: label, ms: Math.round(stageHits[i] / 1000), pct: pct(stageHits[i]) })).filter((s) => s.ms > 0),
  };
}

export function printSummary(s, log = console.log) {
  log(`profile ${s.file}: ${s.busyMs} ms busy of ${s.wallMs} ms (${s.idleShare}% idle); shares are of busy time`);
  log('\n  self time by package / project folder');
  for (const r of s.selfByCategory) log(`    ${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.where}`);
  log('\n  inclusive time by stage (a frame anywhere on the stack)');
  for (const r of s.inclusiveStages) log(`    ${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.stage}`);
  log('\n  self time by function');
  for (const r of s.selfByFunction) log(`    ${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: node bench/profile.mjs file.cpuprofile [--top N] [--json]');
    process.exit(2);
  }
  const topAt = args.indexOf('--top');
  const s = summarize(file, topAt >= 0 ? Number(args[topAt + 1]) : 25);
  if (args.includes('--json')) console.log(JSON.stringify(s, null, 2));
  else printSummary(s);
}
