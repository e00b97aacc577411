import { ConfigError, type Config } from '../bot/config';
import { openDatabase, type Database } from '../db/client';
import { resolveIdentityKey } from '../db/identityKey';
import { migrateDatabase } from '../db/migrator';

/** Migrates DATABASE_URL if needed, opens it for `work` with its identity key, and always closes it. */
export async function withDatabase<T>(config: Config, work: (database: Database, identityKey: string) => Promise<T>): Promise<T> {
  await migrateDatabase(config.databaseUrl);
  const database = await openDatabase(config.databaseUrl);
  try {
    return await work(database, await resolveIdentityKey(database.sql, config.identitySecret));
  } finally {
    await database.close();
  }
}

/**
 * Runs a command's `main` and exits with its code once stdout and stderr are flushed (database
 * pools and timers could keep the process alive for seconds). Errors of the `expected` kinds are
 * the user's to fix and print just their message; anything else is prefixed with `failure`.
 */
export function runCli(main: (args: string[]) => Promise<number>, failure: string, expected: ReadonlyArray<new (...args: never[]) => Error> = []): void {
  const exit = (code: number) => {
    process.exitCode = code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  };
  main(process.argv.slice(2)).then(exit, (e: unknown) => {
    if ([ConfigError, ...expected].some((kind) => e instanceof kind)) console.error((e as Error).message);
    else console.error(`${failure}: ${e instanceof Error ? e.message : String(e)}`);
    exit(1);
  });
}
