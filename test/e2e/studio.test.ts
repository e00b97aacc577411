import type { Browser, Page } from 'playwright-core';
import { readDialogFiles } from '../../dialogs/loadDialogs';
import { agentApi, createStaffAccounts, login } from '../support/agentHub';
import { startTestBot, type TestBot } from '../support/botServer';
import { launchChromium } from '../support/chromium';
import { say } from '../support/talk';

/**
 * The studio (/studio) in a real browser: a member of staff logs in, rewords the welcome, tries
 * it in the embedded preview chat, publishes, sees the running bot use it on a real
 * /api/messages turn, rolls back, and the bot speaks the old wording again.
 */
jest.setTimeout(180_000);

const STAFF = { username: 'studio.zhao', password: 'a long studio password', role: 'staff' as const };
const KEY = 'conversation.welcome';
const shippedZh = (readDialogFiles()['copy/zh-CN.json'] as Record<string, string>)[KEY]!;
/** The shipped welcome after the lender's name, as it appears in rendered replies. */
const SHIPPED_TAIL = shippedZh.split('}')[1]!.slice(0, 10);
const NEW_WORDING = '您好！我是{lender}的还款小助手，很高兴为您服务。开始前需要先验证身份。';
const NEW_TAIL = '的还款小助手，很高兴为您服务';

let bot: TestBot;
let browser: Browser;
let conversationSeq = 0;

beforeAll(async () => {
  [bot, browser] = await Promise.all([startTestBot(), launchChromium()]);
  await createStaffAccounts(bot.databaseUrl, [STAFF]);
});
afterAll(async () => {
  await browser?.close();
  await bot?.stop();
});

/** A real Bot Framework turn: a new conversation's welcome, polled while instances pick up the version (about a second). */
async function liveWelcomeContains(expected: string): Promise<string> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const { text } = await say(bot.url, `e2e-welcome-${++conversationSeq}`, '你好');
    if (text.includes(expected) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function openStudio(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 950 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  await page.goto(`${bot.url}/studio`);
  return { page, problems };
}

test('log in, reword a reply, preview it, publish, see the bot use it, roll back, see the old wording again', async () => {
  const { page, problems } = await openStudio();
  expect(await page.title()).toBe('对话工作室 · Dialog Studio');

  await page.locator('#login-username').fill(STAFF.username);
  await page.locator('#login-password').fill(STAFF.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#version-badge', { hasText: '出厂版本' }).waitFor();
  await page.locator('#check-status', { hasText: '通过全部检查' }).waitFor();

  // Find the welcome and reword it; a broken placeholder is caught as it is typed.
  await page.locator('#copy-filter').fill(KEY);
  const row = page.locator(`tr[data-key="${KEY}"]`);
  const zh = row.locator('textarea[data-locale="zh-CN"]');
  await zh.fill('您好，我是{lendr}的还款助手。');
  await row.locator('.row-problem', { hasText: '占位符不一致' }).waitFor();
  await page.locator('#check-status', { hasText: '问题' }).waitFor();
  await page.locator('#problems li', { hasText: `copy/en.json › ${KEY}` }).waitFor();
  await zh.fill(NEW_WORDING);
  await page.locator('#check-status', { hasText: '通过全部检查' }).waitFor();
  expect(await row.getAttribute('class')).toContain('changed');

  // The embedded preview runs the draft, against the demo borrowers.
  await page.locator('#preview-restart').click();
  await page.locator('#preview-log .bubble.bot', { hasText: NEW_TAIL }).waitFor();
  await page.locator('#preview-input').fill('13800138001 1234 1990-01-01');
  await page.locator('#preview-form button[type=submit]').click();
  await page.locator('#preview-log .bubble.bot', { hasText: /1,?152\.60/ }).waitFor();
  // The live bot has not changed yet.
  expect(await liveWelcomeContains(SHIPPED_TAIL)).toContain(SHIPPED_TAIL);

  // Publish with a comment.
  await page.locator('#publish-comment').fill('问候语更亲切');
  await page.locator('#publish').click();
  await page.locator('#publish-status', { hasText: '已发布 v1' }).waitFor();
  await page.locator('#version-badge', { hasText: 'v1' }).waitFor();
  expect(await liveWelcomeContains(NEW_TAIL)).toContain(NEW_TAIL);

  // History: the version with its diff, then a rollback to the shipped files.
  await page.locator('[role=tab][data-tab=history]').click();
  const v1 = page.locator('#history li[data-version="1"]');
  await v1.waitFor();
  await v1.locator('.diff-button').click();
  await page.locator('#diff-rows tr', { hasText: KEY }).waitFor();
  expect(await page.locator('#diff-rows td.after').first().textContent()).toBe(NEW_WORDING);
  const shipped = page.locator('#history li[data-version="shipped"]');
  await shipped.locator('button.rollback').click();
  await shipped.locator('.rollback-form input').fill('恢复原来的问候语');
  await shipped.locator('.rollback-form button[type=submit]').click();
  await page.locator('#version-badge', { hasText: 'v2' }).waitFor();
  await page.locator('#history li[data-version="2"]', { hasText: '回滚' }).waitFor();
  expect(await liveWelcomeContains(SHIPPED_TAIL)).toContain(SHIPPED_TAIL);

  // The English toggle switches the page's language.
  await page.locator('#lang-toggle').click();
  await page.locator('[role=tab][data-tab=history] .en', { hasText: 'History' }).waitFor({ state: 'visible' });
  expect(await page.locator('[role=tab][data-tab=history] .zh').isVisible()).toBe(false);

  expect(problems).toEqual([]);
});

test('policy values are edited in forms and checked as you type; flows are drawn as diagrams', async () => {
  const { page, problems } = await openStudio();
  await page.locator('#login-username').fill(STAFF.username);
  await page.locator('#login-password').fill(STAFF.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#check-status', { hasText: '通过全部检查' }).waitFor();
  await page.locator('[role=tab][data-tab=policy]').click();
  const cap = page.locator('.field[data-file="policy/products.json"][data-path="products.standard.penalty.capAnnual"]');
  await cap.locator('input').fill('1.5');
  await cap.locator('.row-problem', { hasText: 'capAnnual must be between 0 and 1' }).waitFor();
  await cap.locator('input').fill('0.2');
  await page.locator('#check-status', { hasText: '通过全部检查' }).waitFor();
  expect(await cap.getAttribute('class')).toContain('changed');
  await page.locator('#change-count', { hasText: '1 处' }).waitFor();
  await page.locator('#discard').click();
  expect(await cap.locator('input').inputValue()).toBe('0.24');

  await page.locator('[role=tab][data-tab=flows]').click();
  // The conversation flow, drawn by Mermaid (web/vendor/mermaid.min.js) from the flow document.
  await page.locator('#flows .flow[data-file="flows/conversation.json"] .diagram svg').waitFor({ timeout: 60_000 });
  expect(problems).toEqual([]);
});

test('someone publishes meanwhile: the publish is refused with the reason, and nothing typed is lost', async () => {
  const { page, problems } = await openStudio();
  await page.locator('#login-username').fill(STAFF.username);
  await page.locator('#login-password').fill(STAFF.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#check-status', { hasText: '通过全部检查' }).waitFor();
  const badge = (await page.locator('#version-badge').textContent()) ?? '';
  const mine = page.locator('tr[data-key="conversation.goodbye"] textarea[data-locale="zh-CN"]');
  await page.locator('#copy-filter').fill('conversation.goodbye');
  await mine.fill('感谢您的来信，再见！');
  await page.locator('#check-status', { hasText: '通过全部检查' }).waitFor();

  // A colleague publishes another change from the same version.
  const token = await login(bot.url, STAFF.username, STAFF.password);
  const current = (await agentApi(bot.url, token, 'GET', '/api/studio/current')).body;
  const en = { ...current.files['copy/en.json'], 'conversation.goodbye': 'Thanks for writing. Goodbye!' };
  const theirs = await agentApi(bot.url, token, 'POST', '/api/studio/publish', { files: { 'copy/en.json': en }, comment: '同事的修改', basedOn: current.version?.id ?? null });
  expect(theirs.status).toBe(201);

  await page.locator('#publish-comment').fill('告别语');
  await page.locator('#publish').click();
  await page.locator('#publish-status', { hasText: `someone published version ${theirs.body.version.id} meanwhile` }).waitFor();
  // Reloading a page must not lose the edit either: it is kept in the browser.
  await page.reload();
  await page.locator('#check-status', { hasText: '通过全部检查' }).waitFor();
  await page.locator('#notice', { hasText: '已应用到当前的' }).waitFor();
  await page.locator('#copy-filter').fill('conversation.goodbye');
  expect(await mine.inputValue()).toBe('感谢您的来信，再见！');
  expect(await page.locator('tr[data-key="conversation.goodbye"] textarea[data-locale="en"]').inputValue()).toBe('Thanks for writing. Goodbye!');
  expect(await page.locator('#version-badge').textContent()).not.toBe(badge);
  await page.locator('#publish-comment').fill('告别语');
  await page.locator('#publish').click();
  await page.locator('#publish-status', { hasText: `已发布 v${theirs.body.version.id + 1}` }).waitFor();
  const after = (await agentApi(bot.url, token, 'GET', '/api/studio/current')).body.files;
  expect([after['copy/zh-CN.json']['conversation.goodbye'], after['copy/en.json']['conversation.goodbye']]).toEqual(['感谢您的来信，再见！', 'Thanks for writing. Goodbye!']);
  // Chromium logs the refused publish itself (HTTP 409); anything else is a fault of the page.
  expect(problems.filter((p) => !/status of 409/.test(p))).toEqual([]);
});
