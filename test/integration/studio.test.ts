import { openDatabase, type Database } from '../../db/client';
import { readDialogFiles } from '../../dialogs/loadDialogs';
import { agentApi, createStaffAccounts, type ApiResult } from '../support/agentHub';
import { startTestBot, type TestBot } from '../support/botServer';
import { say } from '../support/talk';

/**
 * The studio API against the real server and database (PostgreSQL with TEST_DATABASE=postgres):
 * drafts are checked, publishing is refused when broken or stale, a publish changes what the
 * running bot (and a second instance on the same database) says from the next turn, rollback
 * restores, every publish and rollback is audited, and the preview never touches real conversations.
 */
jest.setTimeout(120_000);

const STAFF = { username: 'studio.wang', password: 'a long studio password', role: 'staff' as const };
const AGENT = { username: 'agent.li', password: 'a long agent password', role: 'agent' as const };
const KEY = 'conversation.welcome';
const shipped = readDialogFiles();
const shippedZh = (shipped['copy/zh-CN.json'] as Record<string, string>)[KEY]!;
/** What the shipped welcome says after the lender's name: matched in rendered replies. */
const SHIPPED_TAIL = shippedZh.split('}')[1]!.slice(0, 10);
const NEW_WORDING = '您好！我是{lender}的智能还款助手（新版问候）。开始前需要先验证身份。';

let bot: TestBot;
let second: TestBot | undefined;
let database: Database;
let token: string;

const api = (method: string, path: string, body?: unknown): Promise<ApiResult> => agentApi(bot.url, token, method, path, body);
const login = async (who: { username: string; password: string }) => (await agentApi(bot.url, undefined, 'POST', '/api/agent/login', who)).body.token as string;
/** A draft that changes the Chinese welcome only. */
function draftWith(zhWelcome: string): Record<string, unknown> {
  const copy = { ...(shipped['copy/zh-CN.json'] as Record<string, string>), [KEY]: zhWelcome };
  return { 'copy/zh-CN.json': copy };
}
let conversationSeq = 0;
/** The welcome a new conversation gets from a server, as a borrower reads it. */
async function welcomeFrom(url: string): Promise<string> {
  return (await say(url, `welcome-${++conversationSeq}`, '你好')).text;
}
/** Polls until the bot answers with the expected wording (instances check for new versions about once a second). */
async function eventuallyWelcome(url: string, contains: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await welcomeFrom(url);
    if (text.includes(contains) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  bot = await startTestBot();
  await createStaffAccounts(bot.databaseUrl, [STAFF, AGENT]);
  database = await openDatabase(bot.databaseUrl);
  token = await login(STAFF);
});
afterAll(async () => {
  await second?.stop();
  await database?.close();
  await bot?.stop();
});

test('only staff (and supervisors) may use the studio', async () => {
  expect((await agentApi(bot.url, undefined, 'GET', '/api/studio/current')).status).toBe(401);
  const agentToken = await login(AGENT);
  expect((await agentApi(bot.url, agentToken, 'GET', '/api/studio/current')).status).toBe(403);
  const studioPage = await fetch(`${bot.url}/studio`);
  expect(studioPage.status).toBe(200);
  expect(await studioPage.text()).toContain('studio.js');
});

test('before anything is published the studio shows the shipped files', async () => {
  const r = await api('GET', '/api/studio/current');
  expect(r.status).toBe(200);
  expect(r.body.version).toBeNull();
  expect(r.body.problems).toEqual([]);
  expect(r.body.files['copy/zh-CN.json'][KEY]).toBe(shippedZh);
  expect(Object.keys(r.body.files)).toEqual(expect.arrayContaining(['copy/en.json', 'policy/products.json', 'lender.json', 'escalation/rules.json']));
  expect(Object.keys(r.body.files).some((f) => f.startsWith('nlu/'))).toBe(false);
});

test('validate lists every problem of a draft with file, path and reason', async () => {
  const en = { ...(shipped['copy/en.json'] as Record<string, string>), [KEY]: 'Hello from {lendr}' };
  const products = structuredClone(shipped['policy/products.json']) as any;
  products.products.standard.penalty.capAnnual = '1.5';
  const r = await api('POST', '/api/studio/validate', { files: { 'copy/en.json': en, 'policy/products.json': products } });
  expect(r.status).toBe(200);
  expect(r.body.ok).toBe(false);
  expect(r.body.problems).toEqual(
    expect.arrayContaining([
      { file: 'copy/en.json', path: KEY, reason: expect.stringMatching(/placeholders \{lendr\} differ/) },
      { file: 'policy/products.json', path: 'products.standard.penalty.capAnnual', reason: 'capAnnual must be between 0 and 1' },
    ]),
  );
  const fine = await api('POST', '/api/studio/validate', { files: draftWith(NEW_WORDING) });
  expect(fine.body).toMatchObject({ ok: true, problems: [] });
});

test('bad bodies are refused with a clear 400 naming what is wrong', async () => {
  const notEditable = await api('POST', '/api/studio/validate', { files: { 'nlu/keywords.json': {} } });
  expect(notEditable.status).toBe(400);
  expect(notEditable.body.problems[0]).toMatch(/^files\.nlu\/keywords\.json: not a file the studio edits/);
  const noComment = await api('POST', '/api/studio/publish', { files: draftWith(NEW_WORDING), basedOn: null });
  expect(noComment.status).toBe(400);
  expect(noComment.body.problems).toEqual(['comment: comment must be text']);
  const badDiff = await api('GET', '/api/studio/diff?from=abc&to=1');
  expect(badDiff.status).toBe(400);
  expect(badDiff.body.problems[0]).toMatch(/^from: /);
});

test('a draft that fails the checks is not published: the problems are listed, nothing is stored', async () => {
  const broken = draftWith('您好 {nmae}');
  const r = await api('POST', '/api/studio/publish', { files: broken, comment: '错的占位符', basedOn: null });
  expect(r.status).toBe(400);
  expect(r.body.error).toBe('invalid_dialogs');
  expect(r.body.problems).toEqual(expect.arrayContaining([expect.objectContaining({ file: 'copy/en.json', path: KEY })]));
  expect(await database.prisma.dialogsVersion.count()).toBe(0);
  expect(await database.prisma.auditLog.count({ where: { action: { startsWith: 'dialogs.' } } })).toBe(0);
});

test('the preview runs the draft against the demo borrowers without touching real conversations', async () => {
  const before = await database.prisma.conversation.count();
  const session = 'preview-1';
  const opened = await api('POST', '/api/studio/preview', { files: draftWith(NEW_WORDING), session, locale: 'zh-CN' });
  expect(opened.status).toBe(200);
  expect(opened.body.replies[0].text).toContain('新版问候');
  const verified = await api('POST', '/api/studio/preview', { files: draftWith(NEW_WORDING), session, text: '13800138001 1234 1990-01-01' });
  expect(verified.status).toBe(200);
  expect(verified.body.replies.map((r: { text: string }) => r.text).join('\n')).toMatch(/1,?152\.60/);
  expect(await database.prisma.conversation.count()).toBe(before);
  expect(await database.prisma.conversation.count({ where: { channelId: 'studio-preview' } })).toBe(0);
  // The live bot still speaks the shipped wording.
  expect(await welcomeFrom(bot.url)).toContain(SHIPPED_TAIL);
  const broken = await api('POST', '/api/studio/preview', { files: draftWith('{nmae}'), session, text: '你好' });
  expect(broken.status).toBe(400);
  expect(broken.body.problems.length).toBeGreaterThan(0);
});

let firstVersion: number;

test('publishing changes what the running bot says from the next turn, on every instance, without a restart', async () => {
  second = await startTestBot({ shareDatabaseOf: bot });
  expect(await welcomeFrom(second.url)).not.toContain('新版问候');
  const r = await api('POST', '/api/studio/publish', { files: draftWith(NEW_WORDING), comment: '问候语更亲切', basedOn: null });
  expect(r.status).toBe(201);
  firstVersion = r.body.version.id;
  expect(r.body.version).toMatchObject({ action: 'publish', comment: '问候语更亲切', author: `staff:${STAFF.username}`, basedOn: null });
  expect(r.body.changed).toEqual([`copy/zh-CN.json: ${KEY}`]);
  expect(await eventuallyWelcome(bot.url, '新版问候')).toContain('新版问候');
  expect(await eventuallyWelcome(second.url, '新版问候')).toContain('新版问候');
  const current = await api('GET', '/api/studio/current');
  expect(current.body.version.id).toBe(firstVersion);
  expect(current.body.files['copy/zh-CN.json'][KEY]).toBe(NEW_WORDING);
});

test('a publish based on an older version is refused: someone published meanwhile', async () => {
  const r = await api('POST', '/api/studio/publish', { files: draftWith('您好，{lender}的还款助手在此。开始前需要先验证身份。'), comment: '另一个人的改动', basedOn: null });
  expect(r.status).toBe(409);
  expect(r.body.message).toMatch(new RegExp(`someone published version ${firstVersion} meanwhile`));
  expect(r.body.latest).toBe(firstVersion);
  const same = await api('POST', '/api/studio/publish', { files: draftWith(NEW_WORDING), comment: '没有改动', basedOn: firstVersion });
  expect(same.status).toBe(400);
  expect(same.body.error).toBe('nothing_changed');
  expect(await database.prisma.dialogsVersion.count()).toBe(1);
});

test('history and diff show who changed what, old → new', async () => {
  const history = await api('GET', '/api/studio/versions');
  expect(history.status).toBe(200);
  expect(history.body.versions).toEqual([expect.objectContaining({ id: firstVersion, action: 'publish', previous: null, changed: [`copy/zh-CN.json: ${KEY}`] })]);
  const diff = await api('GET', `/api/studio/diff?from=shipped&to=${firstVersion}`);
  expect(diff.body.changes).toEqual([{ file: 'copy/zh-CN.json', path: KEY, before: shippedZh, after: NEW_WORDING }]);
  const one = await api('GET', `/api/studio/versions/${firstVersion}`);
  expect(one.body.files['copy/zh-CN.json'][KEY]).toBe(NEW_WORDING);
  expect((await api('GET', '/api/studio/versions/999')).status).toBe(404);
});

test('rollback restores the earlier wording on the running bots, as a new audited version', async () => {
  const stale = await api('POST', '/api/studio/rollback', { to: null, comment: '恢复', latest: null });
  expect(stale.status).toBe(409);
  const r = await api('POST', '/api/studio/rollback', { to: null, comment: '恢复原来的问候语', latest: firstVersion });
  expect(r.status).toBe(201);
  expect(r.body.version).toMatchObject({ id: firstVersion + 1, action: 'rollback', basedOn: null });
  expect(r.body.changed).toEqual([`copy/zh-CN.json: ${KEY}`]);
  expect(await eventuallyWelcome(bot.url, SHIPPED_TAIL)).toContain(SHIPPED_TAIL);
  expect(await eventuallyWelcome(second!.url, SHIPPED_TAIL)).toContain(SHIPPED_TAIL);
  // And forward again: rolling back to version 1 brings its wording back.
  const again = await api('POST', '/api/studio/rollback', { to: firstVersion, comment: '还是用新版', latest: firstVersion + 1 });
  expect(again.status).toBe(201);
  expect(await eventuallyWelcome(bot.url, '新版问候')).toContain('新版问候');
  const diff = await api('GET', `/api/studio/diff?from=${firstVersion}&to=${firstVersion + 1}`);
  expect(diff.body.changes).toEqual([{ file: 'copy/zh-CN.json', path: KEY, before: NEW_WORDING, after: shippedZh }]);
});

test('every publish and rollback is audited: who, when, what changed', async () => {
  const rows = await database.prisma.auditLog.findMany({ where: { action: { startsWith: 'dialogs.' } }, orderBy: { id: 'asc' } });
  expect(rows.map((r) => [r.action, r.actor])).toEqual([
    ['dialogs.publish', `staff:${STAFF.username}`],
    ['dialogs.rollback', `staff:${STAFF.username}`],
    ['dialogs.rollback', `staff:${STAFF.username}`],
  ]);
  const details = rows.map((r) => JSON.parse(r.details));
  expect(details[0]).toMatchObject({ version: firstVersion, previous: null, comment: '问候语更亲切', changeCount: 1, changed: [`copy/zh-CN.json: ${KEY}`] });
  expect(details[1]).toMatchObject({ version: firstVersion + 1, previous: firstVersion, basedOn: null, comment: '恢复原来的问候语' });
  for (const r of rows) expect(r.at).toBeInstanceOf(Date);
});

test('a conversation sitting in a state the current flow lacks is reset politely on its next turn', async () => {
  const c = 'state-gone';
  await say(bot.url, c, '13800138001 1234 1990-01-01');
  const row = await database.prisma.conversation.findUniqueOrThrow({ where: { id: `test:${c}` } });
  const snapshot = JSON.parse(row.snapshot) as Record<string, unknown>;
  await database.prisma.conversation.update({
    where: { id: row.id },
    data: { snapshot: JSON.stringify({ ...snapshot, value: { account: 'removedByAPublish' } }), flowVersion: 'an-older-flow', version: { increment: 1 } },
  });
  const r = await say(bot.url, c, '我欠多少');
  expect(r.status).toBe(200);
  expect(r.text).toContain('从头开始');
  const after = await database.prisma.conversation.findUniqueOrThrow({ where: { id: row.id } });
  expect(after.flowVersion).not.toBe('an-older-flow');
  expect(await database.prisma.auditLog.count({ where: { conversationId: row.id, action: 'conversation.reset' } })).toBe(1);
});

test('two publishes at the same moment from the same version: one is applied, the other is told someone published meanwhile', async () => {
  const latest = (await api('GET', '/api/studio/current')).body.version.id as number;
  const [a, b] = await Promise.all([
    api('POST', '/api/studio/publish', { files: draftWith('您好（甲）{lender}，请先验证身份。'), comment: '甲', basedOn: latest }),
    api('POST', '/api/studio/publish', { files: draftWith('您好（乙）{lender}，请先验证身份。'), comment: '乙', basedOn: latest }),
  ]);
  expect([a.status, b.status].sort()).toEqual([201, 409]);
  const loser = a.status === 409 ? a : b;
  expect(loser.body.message).toMatch(new RegExp(`someone published version ${latest + 1} meanwhile`));
  expect(await database.prisma.dialogsVersion.count({ where: { basedOn: latest } })).toBe(1);
});

test('a published flow that removes the state a conversation sits in: its next turn is reset politely, no crash', async () => {
  const c = 'flow-state-removed';
  const verified = await say(bot.url, c, '13800138001 1234 1990-01-01');
  expect(verified.text).toMatch(/1,?152\.60/);
  const before = await database.prisma.conversation.findUniqueOrThrow({ where: { id: `test:${c}` } });
  expect(JSON.parse(before.snapshot).value).toEqual({ account: 'menu' });
  // The same flow with account.menu renamed: the state the conversation sits in no longer exists.
  const flow = JSON.parse(
    JSON.stringify(shipped['flows/conversation.json']).replaceAll('"#account.menu"', '"#account.mainMenu"').replaceAll('"target":"menu"', '"target":"mainMenu"'),
  );
  const account = flow.states.account.states as Record<string, unknown>;
  flow.states.account.states = Object.fromEntries(Object.entries(account).map(([k, v]) => [k === 'menu' ? 'mainMenu' : k, v]));
  const latest = (await api('GET', '/api/studio/current')).body.version.id as number;
  const published = await api('POST', '/api/studio/publish', { files: { 'flows/conversation.json': flow }, comment: '菜单状态改名', basedOn: latest });
  expect(published.status).toBe(201);
  expect(published.body.changed.some((p: string) => p.startsWith('flows/conversation.json'))).toBe(true);
  // Instances pick the version up within about a second; the conversation's next turn is reset.
  let reply = '';
  const deadline = Date.now() + 5000;
  while (!reply.includes('从头开始') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    const r = await say(bot.url, c, '我欠多少');
    expect(r.status).toBe(200);
    reply = r.text;
  }
  expect(reply).toContain('从头开始');
  const again = await say(bot.url, c, '13800138001 1234 1990-01-01');
  expect(again.text).toMatch(/1,?152\.60/);
  const after = await database.prisma.conversation.findUniqueOrThrow({ where: { id: `test:${c}` } });
  expect(JSON.parse(after.snapshot).value).toEqual({ account: 'mainMenu' });
  expect(after.flowVersion).not.toBe(before.flowVersion);
});
