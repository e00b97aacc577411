import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestBot, type TestBot } from '../support/botServer';
import { launchChromium } from '../support/chromium';
import { say } from '../support/talk';
import { createStaffAccounts, startChannel, type Channel } from '../support/agentHub';

/**
 * The agent console (/agent) in a real browser against the real bot: the same round trip as
 * test/integration/handoffRoundTrip.test.ts, done by clicking, plus a borrower message that is
 * markup and must show as text.
 */
jest.setTimeout(120_000);

let bot: TestBot;
let channel: Channel;
let browser: Browser;

const CONVERSATION = 'console-1';
const INJECTION = '<img src=x onerror=alert(1)>';
/** The first canned reply in English, as web/agent.js lists it. */
const CANNED_EN_FIRST = 'Hello, I am a member of our support team. I have read your conversation so far; how can I help?';

beforeAll(async () => {
  [channel, bot, browser] = await Promise.all([startChannel(), startTestBot(), launchChromium()]);
  await createStaffAccounts(bot.databaseUrl, [
    { username: 'alice', password: 'alice-console-pw', role: 'agent' },
    { username: 'sue', password: 'sue-console-pw', role: 'supervisor' },
  ]);
});
afterAll(async () => {
  await browser?.close();
  await bot?.stop();
  await channel?.close();
});

const borrower = (text: string) => say(bot.url, CONVERSATION, text, { serviceUrl: channel.url });

/** The console, logged in; records what would point at a broken or attacked page. */
async function openConsole(username: string, password: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/x') problems.push('the injected <img> was loaded');
  });
  await page.goto(`${bot.url}/agent`);
  expect(await page.title()).toBe('坐席工作台 · Agent Console');
  await page.locator('#login-username').fill(username);
  await page.locator('#login-password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#console-view').waitFor();
  await page.locator('#live.on').waitFor(); // the live feed is connected
  return { context, page, problems };
}

it('an agent claims, chats, sees borrower messages live (as text) and resolves; a supervisor sees the load', async () => {
  await borrower('13800138001 1234 1990-01-01');
  expect((await borrower('转人工')).text).toContain('人工客服队列');

  // A wrong password is refused on the page.
  const { context: failed, page: loginPage } = await (async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${bot.url}/agent`);
    await page.locator('#login-username').fill('alice');
    await page.locator('#login-password').fill('not-her-password');
    await page.locator('#login-form button[type=submit]').click();
    return { context, page };
  })();
  await loginPage.locator('#login-error', { hasText: '用户名或密码错误' }).waitFor();
  await failed.close();

  const { context, page, problems } = await openConsole('alice', 'alice-console-pw');
  try {
    // The queue: the borrower's handoff, by name; its summary and transcript.
    const item = page.locator('#queue .item', { hasText: '张伟' });
    await item.waitFor();
    expect(await item.innerText()).toContain('要求人工');
    await item.click();
    await page.locator('#summary', { hasText: '张伟' }).waitFor();
    expect(await page.locator('#summary').innerText()).toContain('是 Yes');
    await page.locator('#transcript .msg.in', { hasText: '转人工' }).waitFor();

    // Claim, pick a canned reply, send it: the borrower's channel receives it.
    await page.locator('#claim').click();
    await page.locator('#composer').waitFor();
    await page.locator('#canned').selectOption({ label: CANNED_EN_FIRST });
    expect(await page.locator('#message').inputValue()).toBe(CANNED_EN_FIRST);
    const hello = '您好，我是 Alice，已经看到您的情况。';
    await page.locator('#message').fill(hello);
    await page.locator('#send').click();
    await channel.waitFor((p) => p.activity.text === hello);
    await page.locator('#transcript .msg.agent', { hasText: hello }).waitFor();

    // The borrower answers twice, once with markup: the bot stays silent, the console shows both live, as text.
    expect((await borrower('我想申请延期')).replies).toEqual([]);
    expect((await borrower(INJECTION)).replies).toEqual([]);
    await page.locator('#transcript .msg.in', { hasText: '我想申请延期' }).waitFor();
    const injected = page.locator('#transcript .msg.in .msg-text', { hasText: INJECTION });
    await injected.waitFor();
    expect(await injected.textContent()).toBe(INJECTION);
    expect(await page.locator('#transcript img').count()).toBe(0);

    // Resolve with a note: the bot is back on the borrower's channel, and answers normally again.
    await page.locator('#note').fill('已说明延期流程。');
    await page.locator('#resolve-button').click();
    const back = await channel.waitFor((p) => (p.activity.text ?? '').includes('人工客服已结束本次服务'));
    expect(back.path).toBe(`/v3/conversations/${CONVERSATION}/activities`);
    await page.locator('#queue .item', { hasText: '张伟' }).waitFor({ state: 'detached' });
    expect((await borrower('我要还多少钱')).text).toMatch(/¥\s?1,152\.60/);

    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }

  // A supervisor: the load panel, with Alice's resolved handoff, and the resolved list.
  const supervisor = await openConsole('sue', 'sue-console-pw');
  try {
    await supervisor.page.locator('#load').waitFor();
    const alice = supervisor.page.locator('#load-rows tr', { hasText: 'alice' });
    await alice.waitFor();
    expect((await alice.locator('td').allInnerTexts()).slice(1)).toEqual(['0', '1']);
    await supervisor.page.locator('.tabs [data-status=resolved]').click();
    await supervisor.page.locator('#queue .item.resolved', { hasText: '张伟' }).waitFor();
    expect(supervisor.problems).toEqual([]);
  } finally {
    await supervisor.context.close();
  }
});
