import { createDialogsRuntimeSource, createRuntimeBuilder, type DialogsRuntime } from '../../bot/dialogsRuntime';
import type { ConversationMachine } from '../../machines/turnRuntime';
import type { Recognizer } from '../../machines/recognition/recognizer';
import type { Database } from '../../db/client';
import { changeLabel, diffFiles, editableFiles, isEditablePath, overlayFiles } from '../../dialogs/dialogVersions';
import { readDialogFiles, splitProblem, formatProblem, parseDialogs, DialogsError, type Dialogs } from '../../dialogs/loadDialogs';
import { createLogger } from '../../bot/logger';

/** Versions of the studio-editable files: what may be edited, how versions combine with the shipped files, what changed. */
const shipped = readDialogFiles();
const shippedDialogs = parseDialogs(shipped);

test('only copy, policy, lender, escalation rules and flows are editable', () => {
  expect(['copy/zh-CN.json', 'policy/products.json', 'lender.json', 'escalation/rules.json', 'flows/conversation.json'].every(isEditablePath)).toBe(true);
  expect(['nlu/keywords.json', 'nlu/training.en.json', '../secrets.json', 'copy/../x.json', 'schemas.ts'].some(isEditablePath)).toBe(false);
  expect(Object.keys(editableFiles(shipped)).some((f) => f.startsWith('nlu/'))).toBe(false);
});

test('a version overlays the shipped files: copy per key (new shipped keys survive), other files whole', () => {
  const base = { 'copy/en.json': { 'a.one': 'A', 'a.new': 'shipped later' }, 'policy/identity.json': { x: 1, y: 2 }, 'nlu/keywords.json': { k: 1 } };
  const version = { 'copy/en.json': { 'a.one': 'A edited' }, 'policy/identity.json': { x: 5 }, 'nlu/keywords.json': { k: 2 } };
  expect(overlayFiles(base, version)).toEqual({
    'copy/en.json': { 'a.one': 'A edited', 'a.new': 'shipped later' },
    'policy/identity.json': { x: 5 },
    'nlu/keywords.json': { k: 1 }, // not editable: a stored version cannot change it
  });
  expect(overlayFiles(base, undefined)).toBe(base);
});

test('diff lists every changed value by file and JSON path, old → new', () => {
  const before = { 'policy/products.json': { products: { standard: { penalty: { capAnnual: '0.24', multiplier: '1.5' } } }, list: [3, 6] }, 'copy/en.json': { 'a.b': 'x' } };
  const after = { 'policy/products.json': { products: { standard: { penalty: { capAnnual: '0.2', multiplier: '1.5' } } }, list: [3, 6, 12] }, 'copy/en.json': { 'a.b': 'x', 'a.c': 'new' } };
  const changes = diffFiles(before, after);
  expect(changes).toEqual([
    { file: 'copy/en.json', path: 'a.c', before: undefined, after: 'new' },
    { file: 'policy/products.json', path: 'list', before: [3, 6], after: [3, 6, 12] },
    { file: 'policy/products.json', path: 'products.standard.penalty.capAnnual', before: '0.24', after: '0.2' },
  ]);
  expect(changes.map(changeLabel)).toEqual(['copy/en.json: a.c', 'policy/products.json: list', 'policy/products.json: products.standard.penalty.capAnnual']);
  expect(diffFiles(shipped, shipped)).toEqual([]);
});

test('problems split back into file, path and reason', () => {
  const text = formatProblem({ file: 'policy/products.json', path: 'products.standard.penalty.capAnnual', reason: 'capAnnual must be between 0 and 1: see the contract' });
  expect(splitProblem(text)).toEqual({ file: 'policy/products.json', path: 'products.standard.penalty.capAnnual', reason: 'capAnnual must be between 0 and 1: see the contract' });
  expect(splitProblem(formatProblem({ file: 'lender.json', path: '', reason: 'not valid JSON: x' }))).toEqual({ file: 'lender.json', path: '', reason: 'not valid JSON: x' });
  const broken = { ...shipped, 'lender.json': undefined } as Record<string, unknown>;
  delete broken['lender.json'];
  try {
    parseDialogs(broken);
    throw new Error('expected a DialogsError');
  } catch (e) {
    expect(e).toBeInstanceOf(DialogsError);
    expect((e as DialogsError).details).toContainEqual({ file: 'lender.json', path: '', reason: 'the file is missing' });
  }
});

describe('the runtime source', () => {
  /** A database stand-in holding versions; counts the queries for the latest id. */
  /** The source's view of the database: the newest id by SQL, a version's files through Prisma. */
  function fakeDatabase(versions: Array<{ id: number; files: Record<string, unknown> }>) {
    const calls = { latest: 0 };
    const row = (v: { id: number; files: Record<string, unknown> }) => ({ id: v.id, content: JSON.stringify(v.files), comment: 'c', author: 'staff:x', action: 'publish', basedOn: null, createdAt: new Date() });
    let reachable = true;
    const database = {
      sql: {
        all: async (sql: string) => {
          if (!reachable) throw new Error('connection refused');
          expect(sql).toMatch(/FROM "DialogsVersion" ORDER BY "id" DESC LIMIT 1/);
          calls.latest++;
          const last = versions[versions.length - 1];
          return last ? [{ id: last.id }] : [];
        },
      },
      prisma: {
        dialogsVersion: {
          findUnique: async ({ where }: { where: { id: number } }) => {
            const v = versions.find((x) => x.id === where.id);
            return v ? row(v) : null;
          },
        },
      },
    } as unknown as Pick<Database, 'prisma' | 'sql'>;
    return { database, calls, unreachable: () => (reachable = false) };
  }
  const build = (dialogs: Dialogs, versionId: number | null) => ({ versionId, dialogs, flowVersion: 'f' }) as unknown as DialogsRuntime;
  const logger = createLogger('silent');
  const welcome = (r: DialogsRuntime) => r.dialogs.copy['zh-CN']['conversation.welcome'];
  const withWelcome = (text: string) => ({ 'copy/zh-CN.json': { ...(shipped['copy/zh-CN.json'] as object), 'conversation.welcome': text } });

  test('checks the database at most once per interval, and applies a new version at the next check', async () => {
    const versions: Array<{ id: number; files: Record<string, unknown> }> = [];
    const { database, calls } = fakeDatabase(versions);
    let now = 0;
    const source = createDialogsRuntimeSource({ database, shipped, shippedDialogs, build, logger, checkEveryMs: 1000, now: () => now });
    expect((await source.current()).versionId).toBeNull();
    await Promise.all([source.current(), source.current(), source.current()]);
    expect(calls.latest).toBe(1);
    versions.push({ id: 1, files: withWelcome('新的问候 {lender}') });
    now = 999;
    expect((await source.current()).versionId).toBeNull(); // still cached
    now = 1000;
    const [a, b] = await Promise.all([source.current(), source.current()]);
    expect(calls.latest).toBe(2); // concurrent turns share one check
    expect(a.versionId).toBe(1);
    expect(b).toBe(a);
    expect(welcome(a)).toBe('新的问候 {lender}');
  });

  test('a published version that no longer passes against the deployed files falls back to the shipped dialogs', async () => {
    const { database } = fakeDatabase([{ id: 3, files: withWelcome('问候 {nosuchvalue}') }]);
    const source = createDialogsRuntimeSource({ database, shipped, shippedDialogs, build, logger, now: () => 0 });
    const runtime = await source.current();
    expect(runtime.versionId).toBeNull();
    expect(welcome(runtime)).toBe((shipped['copy/zh-CN.json'] as Record<string, string>)['conversation.welcome']);
  });

  test('a database that cannot be reached keeps the runtime it has', async () => {
    const { database, unreachable } = fakeDatabase([{ id: 1, files: withWelcome('第一版 {lender}') }]);
    let now = 0;
    const source = createDialogsRuntimeSource({ database, shipped, shippedDialogs, build, logger, now: () => now });
    expect((await source.current()).versionId).toBe(1);
    unreachable();
    now = 5000;
    expect((await source.current()).versionId).toBe(1);
  });

  test('a runtime makes its recogniser at the first use, once: a thread that runs no turns never loads the intent model', () => {
    const made: Dialogs[] = [];
    const recognizer = (() => ({ intent: 'none', confidence: 0 })) as unknown as Recognizer;
    const buildRuntime = createRuntimeBuilder(
      () => ({}) as ConversationMachine,
      (dialogs) => {
        made.push(dialogs);
        return recognizer;
      },
    );
    const runtime = buildRuntime(shippedDialogs, null);
    expect(made).toHaveLength(0);
    expect(runtime.recognizer).toBe(recognizer);
    expect(runtime.recognizer).toBe(recognizer);
    expect(made).toEqual([shippedDialogs]);
  });
});
