/**
 * `npm run report -- --from YYYY-MM-DD --to YYYY-MM-DD [--csv file] [--json]`: what the bot achieved
 * over those local dates (both inclusive, in APP_TIMEZONE), read from DATABASE_URL (db/reports.ts).
 * Prints a summary; `--csv file` also writes the CSV export, `--json` prints the JSON instead.
 */
import fs from 'node:fs';
import { ConfigError, loadConfig } from '../bot/config';
import { createClock } from '../bot/clock';
import { openDatabase } from '../db/client';
import { migrateDatabase } from '../db/migrator';
import { buildReport, reportRangeSchema, reportToCsv, type Report } from '../db/reports';

const USAGE = 'usage: npm run report -- --from YYYY-MM-DD --to YYYY-MM-DD [--csv file] [--json]';

const yuan = (fen: number) => (fen / 100).toFixed(2);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const secs = (s: number | null) => (s === null ? '-' : s < 120 ? `${s}s` : `${(s / 60).toFixed(1)}min`);

export function formatReport(r: Report): string {
  const lines = [
    `Report ${r.range.from} .. ${r.range.to} (${r.timeZone})`,
    `conversations        ${r.conversations.total} (verified ${r.conversations.verified}); contained ${r.conversations.contained} (${pct(r.conversations.containmentRate)}), handed to a person ${r.conversations.withHandoff}`,
    `verification         ${r.verification.attempts} attempts: ${r.verification.success} success, ${r.verification.failure} failure (${pct(r.verification.successRate)})`,
    `options shown        ${r.options.presentations} times`,
    ...r.options.byKind.map((o) => `  ${o.kind.padEnd(18)} offered ${o.offered}, accepted ${o.accepted} (${yuan(o.amountFen)})`),
    `promised             ${r.promises.count} promises, ${yuan(r.promises.amountFen)}`,
    `proofs               ${r.proofs.count}, ${yuan(r.proofs.amountFen)}`,
    ...r.proofs.byStatus.map((p) => `  ${p.status.padEnd(18)} ${p.count}, ${yuan(p.amountFen)}`),
    `handoffs             ${r.handoffs.total}: claimed ${r.handoffs.claimed}, unclaimed ${r.handoffs.unclaimed}; wait avg ${secs(r.handoffs.avgWaitSeconds)}, median ${secs(r.handoffs.medianWaitSeconds)}, max ${secs(r.handoffs.maxWaitSeconds)}`,
    ...r.handoffs.byRule.map((h) => `  ${h.rule.padEnd(18)} ${h.count}, claimed ${h.claimed}, wait avg ${secs(h.avgWaitSeconds)}`),
    `complaints           ${r.complaints.total}: resolved ${r.complaints.resolved}, on time ${r.complaints.onTime}, deadline breached ${r.complaints.breached}`,
    ...r.complaints.byCategory.map((c) => `  ${c.category.padEnd(18)} ${c.count}, resolved ${c.resolved}, on time ${c.onTime}, breached ${c.breached}`),
    `reminders            sent ${r.reminders.sent}, held ${r.reminders.held}, opted out ${r.reminders.optedOut}`,
  ];
  return lines.join('\n');
}

function parseArgs(args: string[]): { from?: string; to?: string; csv?: string; json: boolean } | undefined {
  const out: { from?: string; to?: string; csv?: string; json: boolean } = { json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') out.json = true;
    else if (a === '--from' || a === '--to' || a === '--csv') {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) return undefined;
      out[a.slice(2) as 'from' | 'to' | 'csv'] = v;
    } else return undefined;
  }
  return out;
}

async function main(args: string[]): Promise<number> {
  const parsedArgs = parseArgs(args);
  if (!parsedArgs) {
    console.error(USAGE);
    return 1;
  }
  const range = reportRangeSchema.safeParse({ from: parsedArgs.from, to: parsedArgs.to });
  if (!range.success) {
    for (const i of range.error.issues) console.error(`${i.path.join('.')}: ${i.message}`);
    console.error(USAGE);
    return 1;
  }
  const config = loadConfig();
  await migrateDatabase(config.databaseUrl);
  const database = await openDatabase(config.databaseUrl);
  try {
    const report = await buildReport(database.prisma, range.data, { timeZone: config.timeZone, now: createClock(config.appNow)() });
    console.log(parsedArgs.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (parsedArgs.csv) {
      fs.writeFileSync(parsedArgs.csv, reportToCsv(report));
      if (!parsedArgs.json) console.log(`CSV written to ${parsedArgs.csv}`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      process.stdout.write('', () => process.exit(code));
    },
    (e: unknown) => {
      console.error(e instanceof ConfigError ? e.message : `Report failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
