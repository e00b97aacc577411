import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestBot } from '../support/botServer';
import { launchChromium } from '../support/chromium';

/**
 * The borrower page in a real browser against the real bot: Web Chat over the bot's own
 * Direct Line endpoint, a demo borrower verifying and seeing the amount due.
 */
jest.setTimeout(120_000);

const DEMO_CREDENTIALS = '13800138001 1234 1990-01-01';
/** "¥" then an amount with two decimals, thousands separators allowed (contract section 2). */
const AMOUNT = /¥\s?\d{1,3}(,?\d{3})*\.\d{2}/;
const SEND_BOX = '[data-id="webchat-sendbox-input"]';
const BOT_BUBBLES = '.webchat__bubble:not(.webchat__bubble--from-user)';
const USER_BUBBLES = '.webchat__bubble.webchat__bubble--from-user';
const SUGGESTED_ACTIONS = '.webchat__suggested-action';

let bot: { url: string; stop(): Promise<void> };
let browser: Browser;

beforeAll(async () => {
  [bot, browser] = await Promise.all([startTestBot(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await bot?.stop();
});

/** A phone-sized page that records what would point at a broken page: script errors and CSP refusals. */
async function openPage(locale: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale, viewport: { width: 390, height: 800 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // Failed responses are recorded with their URL below.
    if (/Failed to load resource/.test(msg.text())) return;
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  await page.goto(`${bot.url}/`);
  return { context, page, problems };
}

/** Polls until `read` returns `expected` (Web Chat renders asynchronously), then asserts it. */
async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  expect(value).toBe(expected);
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.locator(SEND_BOX);
  await box.fill(text);
  await box.press('Enter');
}

it('a demo borrower verifies by typing into Web Chat and sees the amount due', async () => {
  const { context, page, problems } = await openPage('zh-CN');
  try {
    expect(await page.title()).toBe('还款助手 · Repayment Assistant');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.locator(SEND_BOX).waitFor({ timeout: 15_000 });
    expect(await page.locator('.privacy').innerText()).toContain('密码');

    await send(page, DEMO_CREDENTIALS);
    const amountReply = page.locator(BOT_BUBBLES).filter({ hasText: AMOUNT });
    await amountReply.first().waitFor({ timeout: 20_000 });
    expect(await amountReply.first().innerText()).toMatch(AMOUNT);
    // The echo of the borrower's message replaced the pending one instead of showing it twice.
    await eventually(() => page.locator(USER_BUBBLES).count(), 1);
    // Suggested actions addressed to the borrower show as buttons: Web Chat's user id is the one
    // in the Direct Line token, the same id the bot replied to.
    await page.locator(SUGGESTED_ACTIONS).first().waitFor({ timeout: 10_000 });

    await page.screenshot({ path: '/tmp/borrower-page.png', fullPage: false });
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }
});

it('switches to English: the page, Web Chat and a new conversation', async () => {
  const { context, page, problems } = await openPage('zh-CN');
  try {
    await page.locator(SEND_BOX).waitFor({ timeout: 15_000 });
    await send(page, '你好');
    await page.locator(USER_BUBBLES).first().waitFor();

    await page.getByRole('button', { name: 'English' }).click();
    await eventually(() => page.locator('html').getAttribute('lang'), 'en');
    await page.locator(SEND_BOX).waitFor({ timeout: 15_000 });
    expect(await page.locator(SEND_BOX).getAttribute('placeholder')).toMatch(/type your message/i);
    expect(await page.locator('.privacy').innerText()).toMatch(/never ask for your password/i);
    // A new conversation: the Chinese one's messages are gone.
    await eventually(() => page.locator(USER_BUBBLES).count(), 0);
    expect(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).toBe('true');

    await send(page, DEMO_CREDENTIALS);
    await page.locator(BOT_BUBBLES).filter({ hasText: AMOUNT }).first().waitFor({ timeout: 20_000 });
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }
});

it('sends an attached file inline as a data: URL', async () => {
  const { context, page, problems } = await openPage('en-US');
  try {
    await page.locator(SEND_BOX).waitFor({ timeout: 15_000 });
    // Web Chat stages the file; the send button sends it.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const posted = page.waitForRequest((r) => r.method() === 'POST' && /\/conversations\/[^/]+\/activities$/.test(r.url()));
    await page.setInputFiles('input[type="file"]', { name: 'receipt.png', mimeType: 'image/png', buffer: png });
    // Staging is asynchronous: a click before the upload button shows the file as staged sends nothing.
    await page.locator('.webchat__attachment-icon--checked').waitFor({ timeout: 10_000 });
    await page.locator('button.webchat__send-button').click();
    const body = JSON.parse((await posted).postData() ?? '{}');
    expect(body.attachments).toEqual([{ contentType: 'image/png', name: 'receipt.png', contentUrl: `data:image/png;base64,${png.toString('base64')}` }]);
    await page.locator(USER_BUBBLES).filter({ hasText: 'receipt.png' }).waitFor({ timeout: 10_000 });
    await page.locator(BOT_BUBBLES).first().waitFor({ timeout: 10_000 });
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }
});
