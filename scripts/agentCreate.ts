/**
 * `npm run agent:create -- --username NAME --password PASS [--role agent|supervisor|staff]`:
 * creates a staff account in DATABASE_URL, or replaces the password and role of an existing one,
 * migrating the database first. One line on success (never the password), exit 0; a clear
 * message and exit 1 on bad arguments.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../bot/config';
import { createStaffAuth, staffAccountInput } from '../bot/staffAuth';
import { runCli, withDatabase } from './cli';

const USAGE = 'usage: npm run agent:create -- --username NAME --password PASS [--role agent|supervisor|staff]';

class UsageError extends Error {}

const OPTIONS = { username: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' } } as const;

function parseOptions(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    // A stray word could be a mistyped password: name the problem, never the value.
    const code = (e as { code?: string }).code;
    const message = code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' ? 'unexpected argument without an option name' : e instanceof Error ? e.message : String(e);
    throw new UsageError(`${message}\n${USAGE}`);
  }
}

function readArguments(args: string[]) {
  const values = parseOptions(args);
  if (values.username === undefined || values.password === undefined) throw new UsageError(`--username and --password are required\n${USAGE}`);
  const parsed = staffAccountInput.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('\n'));
  return parsed.data;
}

async function main(args: string[]): Promise<number> {
  const input = readArguments(args); // before migrating: a mistyped command must not create a database
  const config = loadConfig();
  return withDatabase(config, async (database, identityKey) => {
    const auth = createStaffAuth({ db: database.prisma, secret: identityKey, clock: () => new Date() });
    const { created, identity } = await auth.saveAccount(input);
    await database.prisma.auditLog.create({
      data: { at: new Date(), actor: 'cli', action: created ? 'staff.account_created' : 'staff.account_updated', details: JSON.stringify(identity) },
    });
    console.log(`${created ? 'created' : 'updated'} ${identity.role} account "${identity.username}"`);
    return 0;
  });
}

runCli(main, 'agent:create failed', [UsageError]);
