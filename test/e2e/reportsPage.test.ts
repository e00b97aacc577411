import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startTestBot, type TestBot } from '../support/botServer';
import { launchChromium } from '../support/chromium';
import { startChannel, type Channel } from '../support/agentHub';
import { AGENT, SEED_DAY, SUPERVISOR, seedReportDay } from '../support/reportsSeed';

/**
 * The supervisors' reports page (/reports) in a real browser, on the day seeded by real
 * conversations (test/support/reportsSeed.ts): a supervisor logs in on the agent console, follows
 * its link, and reads the same numbers test/unit/reports.test.ts counts; an agent is refused.
 */
jest.setTimeout(120_000);

let bot: TestBot;
let channel: Channel;
let browser: Browser;

beforeAll(async () => {
  [channel, bot, browser] = await Promise.all([startChannel(), startTestBot(), launchChromium()]);
  await seedReportDay(bot, channel);
});
afterAll(async () => {
  await browser?.close();
  await bot?.stop();
  await channel?.close();
});

async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  return { page, problems };
}

const kpi = (page: Page, metric: string) => page.locator(`.kpi[data-metric="${metric}"] .value`).textContent();

test('a supervisor logs in on /agent, opens the reports and sees the seeded day', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${bot.url}/agent`);
  await page.locator('#login-username').fill(SUPERVISOR.username);
  await page.locator('#login-password').fill(SUPERVISOR.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#reports-link').click();
  await page.waitForURL(/\/reports/);
  expect(await page.title()).toBe('运营报表 · Reports');
  await page.locator('#report-view').waitFor();
  await page.locator('#from').fill(SEED_DAY);
  await page.locator('#to').fill(SEED_DAY);
  await page.locator('#range-form button[type=submit]').click();
  await page.locator('#meta', { hasText: `${SEED_DAY} — ${SEED_DAY}` }).waitFor();
  await page.locator('.kpi[data-metric="conversations"] .value', { hasText: /^5$/ }).waitFor();

  expect(await kpi(page, 'conversations')).toBe('5');
  expect(await kpi(page, 'containment')).toBe('80.0%');
  expect(await kpi(page, 'verification')).toBe('66.7%');
  expect(await kpi(page, 'agreements')).toBe('1');
  expect(await kpi(page, 'promised')).toBe('¥500.00');
  expect(await kpi(page, 'proven')).toBe('¥700.00');
  expect(await kpi(page, 'handoffs')).toBe('1');
  expect(await kpi(page, 'complaints')).toBe('1');
  // The charts: bars with their values, the promise offered once and accepted once.
  const promise = page.locator('#chart-options g[data-key="promise"] text.value');
  expect(await promise.allTextContents()).toEqual(['1', '1']);
  expect(await page.locator('#chart-options rect').count()).toBe(8);
  expect(await page.locator('#chart-handoffs g[data-key="explicitRequest"] text.value').allTextContents()).toEqual(['1']);
  expect(await page.locator('#handoff-waits').textContent()).toContain('5.0 分钟');
  expect(await page.locator('#chart-complaints g[data-key="service"] text.value').allTextContents()).toEqual(['1', '0', '0']);
  expect(await page.locator('#chart-reminders text.value').allTextContents()).toEqual(['1', '0', '1']);

  // The CSV export downloads the same numbers.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#csv').click()]);
  expect(download.suggestedFilename()).toBe(`report-${SEED_DAY}-${SEED_DAY}.csv`);
  const path = await download.path();
  const csv = readFileSync(path, 'utf8');
  expect(csv).toContain('conversations,total,,5');

  expect(problems).toEqual([]);

  // A bad range is explained by the server (400), not drawn.
  await page.locator('#from').fill('2026-12-01');
  await page.locator('#to').fill('2026-11-01');
  await page.locator('#range-form button[type=submit]').click();
  await page.locator('#range-error', { hasText: 'from must not be after to' }).waitFor();
  expect(problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
  await page.context().close();
});

test('an agent is told the reports are for supervisors', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${bot.url}/reports?from=${SEED_DAY}&to=${SEED_DAY}`);
  await page.locator('#login-username').fill(AGENT.username);
  await page.locator('#login-password').fill(AGENT.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#login-error', { hasText: 'supervisors only' }).waitFor();
  expect(await page.locator('#report-view').isHidden()).toBe(true);
  expect(problems).toEqual([]);
  await page.context().close();
});
