/**
 * `npm run reminders -- --dry-run [--at ISO-8601]`: lists the reminders due now (or at `--at`)
 * and what the contact rules (dialogs/policy/contact.json) decide for each: send now, hold until
 * the quiet hours end, or skip and why. Sends nothing and writes nothing.
 *
 * `npm run reminders`: runs one pass of the scheduler the server runs every minute
 * (db/reminderScheduler.ts): claims, sends through each conversation's stored reference, holds or
 * skips, and audits; then lists what the pass did. Safe next to running servers: a reminder is
 * claimed by one of them only. `--at` is for the dry run only: sending happens now.
 */
import { ConfigError, loadConfig } from '../bot/config';
import { createClock } from '../bot/clock';
import { createLogger } from '../bot/logger';
import { createProactiveSender } from '../bot/proactive';
import { createAdapter, createBotAuthentication } from '../bot/adapter';
import { openDatabase, type Db } from '../db/client';
import { migrateDatabase } from '../db/migrator';
import { createReminderScheduler, type ReminderPass } from '../db/reminderScheduler';
import { describeDecision, localTime, planReminders, type ReminderPlan } from '../db/reminders';
import { DialogsError, readDialogFiles } from '../dialogs/loadDialogs';
import { currentDialogs } from '../db/dialogsVersions';
import { localDateOf } from '../machines/domain/calendar';

const USAGE = 'usage: npm run reminders -- [--dry-run [--at 2026-11-25T09:00:00+08:00]]';

export function formatPlans(plans: ReminderPlan[], timeZone: string): string {
  if (!plans.length) return 'No reminders are due.';
  return plans
    .map((p) => `${p.decision.action.toUpperCase().padEnd(5)} ${p.kind.padEnd(19)} ${p.borrowerId.padEnd(8)} ${p.subject} (${p.detail}) → ${describeDecision(p.decision, timeZone)}${p.conversationId ? ` [${p.conversationId}]` : ''}`)
    .join('\n');
}

/** What one pass did: its counts, then each reminder it touched with its new status and why. */
export async function formatPass(db: Db, pass: ReminderPass, since: Date, timeZone: string): Promise<string> {
  const rows = await db.reminder.findMany({ where: { updatedAt: { gte: since } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const head = `sent ${pass.sent}, held ${pass.held}, skipped ${pass.skipped}, failed ${pass.failed}${pass.deferred ? `, left for the next pass ${pass.deferred}` : ''}`;
  return rows.length ? `${head}\n${formatRows(rows, timeZone)}` : head;
}

type ReminderRow = Awaited<ReturnType<Db['reminder']['findMany']>>[number];

/** The reminders whose occasion fell on a local date (the slot ending their id), whatever became of them. */
function handledOn(db: Db, date: string): Promise<ReminderRow[]> {
  return db.reminder.findMany({ where: { id: { endsWith: `:${date}` } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

function formatRows(rows: ReminderRow[], timeZone: string): string {
  return rows
    .map((r) => {
      const why = r.status === 'held' && r.heldUntil ? `until ${localTime(r.heldUntil, timeZone)} (${r.reason ?? ''})` : r.status === 'sent' && r.sentAt ? `at ${localTime(r.sentAt, timeZone)}` : (r.reason ?? '');
      return `${r.status.toUpperCase().padEnd(7)} ${r.kind.padEnd(19)} ${r.borrowerId.padEnd(8)} ${r.subject}${why ? ` → ${why}` : ''}${r.conversationId ? ` [${r.conversationId}]` : ''}`;
    })
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
  if (at !== undefined && !dryRun) {
    console.error(`--at only goes with --dry-run: reminders are sent now or not at all.\n${USAGE}`);
    return 1;
  }
  const config = loadConfig();
  const now = at ? new Date(at) : createClock(config.appNow)();
  if (Number.isNaN(now.getTime())) {
    console.error(`--at: not an ISO-8601 instant: ${at}`);
    return 1;
  }
  const shipped = readDialogFiles();
  await migrateDatabase(config.databaseUrl);
  const database = await openDatabase(config.databaseUrl);
  try {
    // The copy and contact policy in force: what staff last published in the studio.
    const dialogs = await currentDialogs(database.prisma, shipped);
    if (dryRun) {
      const plans = await planReminders(database.prisma, { now, timeZone: config.timeZone, policy: dialogs.contact });
      console.log(`Reminders due at ${now.toISOString()} (${config.timeZone}); dry run, nothing sent:`);
      console.log(formatPlans(plans, config.timeZone));
      const handled = await handledOn(database.prisma, localDateOf(now, config.timeZone));
      if (handled.length) console.log(`Already handled on ${localDateOf(now, config.timeZone)} (not sent again):\n${formatRows(handled, config.timeZone)}`);
      return 0;
    }
    const logger = createLogger(config.logLevel);
    const clock = createClock(config.appNow);
    const adapter = createAdapter(createBotAuthentication(config), logger);
    const proactive = createProactiveSender({ db: database.prisma, adapter, appId: config.microsoftApp.appId, clock, logger });
    const scheduler = createReminderScheduler({
      db: database.prisma,
      clock,
      timeZone: config.timeZone,
      dialogs: () => dialogs,
      deliver: (conversationId, { text, locale }) => proactive.send(conversationId, [{ type: 'message', text, textFormat: 'markdown', locale, inputHint: 'expectingInput' }]),
      log: logger,
      everyMs: 0,
    });
    const since = clock();
    const pass = await scheduler.runOnce();
    await scheduler.stop();
    console.log(`Reminder pass at ${since.toISOString()} (${config.timeZone}):`);
    console.log(await formatPass(database.prisma, pass, since, config.timeZone));
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
