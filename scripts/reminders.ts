/**
 * `npm run reminders -- --dry-run [--at ISO-8601]`: lists the reminders due now (or at `--at`) and
 * what the contact rules (dialogs/policy/contact.json) decide for each: send now, hold until the
 * quiet hours end, or skip and why. Reads DATABASE_URL; sends nothing and writes nothing.
 * Sending (the scheduler) is not built yet, so `--dry-run` is required.
 */
import { ConfigError, loadConfig } from '../bot/config';
import { createClock } from '../bot/clock';
import { openDatabase } from '../db/client';
import { migrateDatabase } from '../db/migrator';
import { describeDecision, planReminders, type ReminderPlan } from '../db/reminders';
import { DialogsError, loadDialogs } from '../dialogs/loadDialogs';

const USAGE = 'usage: npm run reminders -- --dry-run [--at 2026-11-25T09:00:00+08:00]';

export function formatPlans(plans: ReminderPlan[], timeZone: string): string {
  if (!plans.length) return 'No reminders are due.';
  return plans
    .map((p) => `${p.decision.action.toUpperCase().padEnd(5)} ${p.kind.padEnd(19)} ${p.borrowerId.padEnd(8)} ${p.subject} (${p.detail}) → ${describeDecision(p.decision, timeZone)}${p.conversationId ? ` [${p.conversationId}]` : ''}`)
    .join('\n');
}

async function main(args: string[]): Promise<number> {
  let dryRun = false;
  let at: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--dry-run') dryRun = true;
    else if (args[i] === '--at' && args[i + 1]) at = args[++i];
    else {
      console.error(USAGE);
      return 1;
    }
  }
  if (!dryRun) {
    console.error(`Sending reminders is not built yet; list them with --dry-run.\n${USAGE}`);
    return 1;
  }
  const config = loadConfig();
  const now = at ? new Date(at) : createClock(config.appNow)();
  if (Number.isNaN(now.getTime())) {
    console.error(`--at: not an ISO-8601 instant: ${at}`);
    return 1;
  }
  const policy = loadDialogs().contact;
  await migrateDatabase(config.databaseUrl);
  const database = await openDatabase(config.databaseUrl);
  try {
    const plans = await planReminders(database.prisma, { now, timeZone: config.timeZone, policy });
    console.log(`Reminders due at ${now.toISOString()} (${config.timeZone}); dry run, nothing sent:`);
    console.log(formatPlans(plans, config.timeZone));
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
      console.error(e instanceof ConfigError || e instanceof DialogsError ? e.message : `Reminders failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
