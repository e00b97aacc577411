/**
 * Database migrations from the command line (`npm run db:migrate [-- <command>]`):
 *   deploy                  apply pending migrations to DATABASE_URL (default file:./data/bot.db)
 *   create <name> [--only sqlite|postgres] [--postgres-url URL]
 *                           write a new migration for models.prisma's changes, for both providers
 *                           (PostgreSQL works in scratch databases on the URL's server; default
 *                           TEST_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432/postgres)
 *   check [--postgres-url URL]
 *                           exit 1 if either provider's migrations do not produce models.prisma
 */
import { DEFAULT_DATABASE_URL, type DatabaseKind } from '../db/client';
import { checkMigrationsMatchSchema, createMigration, migrateDatabase } from '../db/migrator';

const KINDS: DatabaseKind[] = ['sqlite', 'postgres'];
const USAGE = 'usage: migrate.js [deploy] | create <name> [--only sqlite|postgres] [--postgres-url URL] | check [--postgres-url URL]';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
  args.splice(i, 2);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const command = args.shift() ?? 'deploy';
  const postgresUrl = option(args, '--postgres-url');
  const log = (msg: string) => console.log(msg);

  switch (command) {
    case 'deploy': {
      if (args.length) throw new Error(USAGE);
      const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
      const started = Date.now();
      await migrateDatabase(url, log);
      console.log(`done in ${Date.now() - started} ms`);
      return 0;
    }
    case 'create': {
      const only = option(args, '--only');
      const [name, ...rest] = args;
      if (!name || rest.length) throw new Error(USAGE);
      if (only !== undefined && !KINDS.includes(only as DatabaseKind)) throw new Error(`--only must be sqlite or postgres\n${USAGE}`);
      for (const kind of only ? [only as DatabaseKind] : KINDS) {
        await createMigration(kind, name, kind === 'postgres' ? postgresUrl : undefined, log);
      }
      return 0;
    }
    case 'check': {
      if (args.length) throw new Error(USAGE);
      let ok = true;
      for (const kind of KINDS) {
        const result = await checkMigrationsMatchSchema(kind, kind === 'postgres' ? postgresUrl : undefined);
        if (result.ok) {
          console.log(`${kind}: migrations match models.prisma`);
        } else {
          ok = false;
          console.error(`${kind}: migrations do not match models.prisma; missing:\n${result.script}`);
        }
      }
      if (!ok) console.error('Create the missing migration with `npm run db:create -- <name>`.');
      return ok ? 0 : 1;
    }
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  },
);
