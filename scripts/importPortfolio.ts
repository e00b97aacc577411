/**
 * `npm run import -- <file.csv>`: imports a portfolio (CONTRACT.md section 3) into DATABASE_URL,
 * migrating the database first. Valid: one summary line, exit 0. Invalid: every problem as
 * `line N, column C: reason`, then their count, exit 1, nothing written. Problems never repeat
 * an ID number, phone or date of birth (see portfolio/portfolioRow.ts).
 */
import { DateTime } from 'luxon';
import { loadConfig } from '../bot/config';
import { runCli, withDatabase } from './cli';
import { DialogsError, loadDialogs } from '../dialogs/loadDialogs';
import { assertReadableFile, importPortfolioFile, PortfolioFileError } from '../portfolio/portfolioImport';

const USAGE = 'usage: npm run import -- <portfolio.csv>';

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || !args[0] || args[0].startsWith('-')) {
    console.error(USAGE);
    return 1;
  }
  const file = args[0];
  const config = loadConfig();
  // Products are those the policy defines (dialogs/policy/products.json).
  const products = new Set(Object.keys(loadDialogs().products));
  await assertReadableFile(file); // before migrating: a mistyped name must not create a database
  return withDatabase(config, async (database, identityKey) => {
    // "Today" for the date-of-birth check: the bot's clock (APP_NOW) in the lender's time zone.
    const now = config.appNow ? DateTime.fromISO(config.appNow) : DateTime.now();
    const today = now.setZone(config.timeZone).toISODate() ?? undefined;
    const result = await importPortfolioFile(database.prisma, file, { identitySecret: identityKey, today, products });
    if (result.ok) {
      console.log(result.summary);
      return 0;
    }
    for (const line of result.errors) console.error(line);
    const hidden = result.errorCount - result.errors.length;
    console.error(
      `${result.errorCount} problem${result.errorCount === 1 ? '' : 's'} in ${file}` +
        (hidden > 0 ? ` (the first ${result.errors.length} listed)` : '') +
        '; nothing was imported.',
    );
    return 1;
  });
}

runCli(main, 'Import failed', [PortfolioFileError, DialogsError]);
