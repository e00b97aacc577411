import { openDatabase, type Database } from '../../db/client';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { startTestBot, type TestBot } from '../support/botServer';
import { say } from '../support/talk';

/**
 * Opting out of proactive messages over HTTP: "退订", "不要再联系我", "stop" are recorded per
 * conversation (and per borrower once verified), confirmed in the borrower's language, audited,
 * and undone as soon as the borrower writes again.
 */
let bot: TestBot;
let database: Database;
let n = 0;
beforeAll(async () => {
  bot = await startTestBot();
  database = await openDatabase(bot.databaseUrl);
});
afterAll(async () => {
  await database?.close();
  await bot?.stop();
});

const CJK = /[\u3400-\u9fff]/;
const details = (id: string) => {
  const b = demoBorrowers.find((d) => d.borrowerId === id)!;
  return `${b.phone} ${b.idLast4} ${b.birthDate}`;
};
const preference = (key: string) => database.prisma.contactPreference.findUnique({ where: { key } });
const audits = (conversationId: string) =>
  database.prisma.auditLog.findMany({ where: { conversationId, action: { startsWith: 'contact.' } }, orderBy: { id: 'asc' } }).then((rows) => rows.map((r) => r.action));

test('zh, before verifying: "退订" is confirmed and recorded for the conversation; writing again opts back in', async () => {
  const conversation = `cp-${++n}`;
  const id = `test:${conversation}`;
  const r = await say(bot.url, conversation, '退订');
  expect(r.status).toBe(200);
  expect(r.text).toContain('不会再主动给您发送提醒');
  expect(await preference(`conversation:${id}`)).toMatchObject({ optedOut: true, borrowerId: null });
  expect(await audits(id)).toEqual(['contact.optedOut']);

  const again = await say(bot.url, conversation, '你好');
  expect(again.text).not.toContain('不会再主动');
  expect(await preference(`conversation:${id}`)).toMatchObject({ optedOut: false });
  expect(await audits(id)).toEqual(['contact.optedOut', 'contact.optedIn']);
});

test('zh, verified: "不要再联系我" opts the conversation and the borrower out; the menu stays', async () => {
  const conversation = `cp-${++n}`;
  const id = `test:${conversation}`;
  await say(bot.url, conversation, details('D03'));
  const r = await say(bot.url, conversation, '不要再联系我');
  expect(r.text).toContain('不会再主动给您发送提醒');
  expect(await preference(`conversation:${id}`)).toMatchObject({ optedOut: true, borrowerId: 'D03' });
  expect(await preference('borrower:D03')).toMatchObject({ optedOut: true, conversationId: id });

  // The same borrower writes in another conversation: once verified there, opted back in.
  const other = `cp-${++n}`;
  await say(bot.url, other, details('D03'));
  expect(await preference('borrower:D03')).toMatchObject({ optedOut: false, conversationId: `test:${other}` });
  expect(await preference(`conversation:${id}`)).toMatchObject({ optedOut: true });
});

test('en: "stop" is confirmed in English and recorded; the borrower can carry on', async () => {
  const conversation = `cp-${++n}`;
  const id = `test:${conversation}`;
  await say(bot.url, conversation, details('D02'), { locale: 'en-US' });
  const r = await say(bot.url, conversation, 'stop', { locale: 'en-US' });
  expect(r.text).toMatch(/will not send you any more reminders/);
  expect(r.text).not.toMatch(CJK);
  expect(await preference('borrower:D02')).toMatchObject({ optedOut: true });
  const next = await say(bot.url, conversation, 'How much do I owe?', { locale: 'en-US' });
  expect(next.text).toMatch(/1,152\.60/);
  expect(await preference('borrower:D02')).toMatchObject({ optedOut: false });
  expect(await audits(id)).toEqual(['contact.optedOut', 'contact.optedIn']);
});

test('en, before verifying: "unsubscribe"', async () => {
  const conversation = `cp-${++n}`;
  const r = await say(bot.url, conversation, 'unsubscribe', { locale: 'en-US' });
  expect(r.text).toMatch(/will not send you any more reminders/);
  expect(await preference(`conversation:test:${conversation}`)).toMatchObject({ optedOut: true });
});
