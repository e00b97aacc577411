import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStaffAuth } from '../../bot/staffAuth';
import { openDatabase } from '../../db/client';
import { freshDatabaseUrl } from '../support/databases';
import { ensureBuilt, startServerProcess, type ServerProcess } from '../support/serverProcess';
import { messageActivity, post } from '../support/talk';

/**
 * The real server at LOG_LEVEL=debug, its log in a file: a borrower gives identity details
 * (also a whole ID number), uploads a proof as a data: URL, files complaints, is handed to a
 * person; an agent reads the transcript. Then the log (and stderr) is searched for every one of
 * those details, and the agent's transcript for the ID number, phone and birth date.
 */
const kind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const PNG = Buffer.concat([
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'),
  Buffer.from('log-privacy-test: receipt 2026-11-21 alipay'),
]);
const PNG_BASE64 = PNG.toString('base64');
const ID_NUMBER = '110101199001011234';
const COMPLAINT = '客服打电话到13800138001，还问我生日1990年1月1日和身份证110101199001011234';

/** What must never be written to a log. */
const SECRETS = [
  '13800138001', '138 0013 8001', '13800138002', ID_NUMBER, '1990-01-01', '1990年1月1日', '19900101', '1985-05-05', '5 May 1985', '448X',
  PNG_BASE64, PNG_BASE64.slice(40, 80), 'data:image/png', 'log-privacy-test', COMPLAINT, '客服打电话到', 'collectors keep calling',
];

let server: ServerProcess;
let db: { url: string; drop(): Promise<void> };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-privacy-'));
const logFile = path.join(dir, 'bot.log');

beforeAll(async () => {
  await ensureBuilt();
  db = await freshDatabaseUrl(kind);
  server = await startServerProcess({ databaseUrl: db.url, logFile, env: { LOG_LEVEL: 'debug' } });
}, 120_000);

afterAll(async () => {
  await server?.kill();
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const talk = (conversation: string, text: string, extra: Record<string, unknown> = {}) => post(server.url, messageActivity(conversation, text, extra));

test('identity details, a proof file and complaints never reach the log; the agent sees them masked', async () => {
  const zh = 'privacy-zh';
  await talk(zh, '你好');
  await talk(zh, `我的身份证号是${ID_NUMBER}`);
  await talk(zh, '13800138001 1234 1991-01-01'); // a wrong birth date first
  expect((await talk(zh, '138 0013 8001 1234 1990-01-01')).text).toContain('张伟');
  await talk(zh, '我已经还款了');
  await talk(zh, '', { attachments: [{ contentType: 'image/png', contentUrl: `data:image/png;base64,${PNG_BASE64}`, name: 'receipt.png' }] });
  await talk(zh, '1500');
  await talk(zh, '昨天');
  expect((await talk(zh, '支付宝')).text).toMatch(/PP-[A-Z0-9]{8}/);
  await talk(zh, '我要投诉');
  await talk(zh, '服务态度');
  await talk(zh, COMPLAINT);
  expect((await talk(zh, '希望你们道歉')).text).toMatch(/CP-[A-Z0-9]{8}/);

  const en = 'privacy-en';
  const english = { locale: 'en-US' };
  await talk(en, 'Hi, I was born on 5 May 1985, phone 13800138002, ID ends 448X', english);
  await talk(en, 'I want to complain: your collectors keep calling my family', english);
  expect((await talk(en, 'Stop calling my family and apologise', english)).text).toMatch(/person/);

  // An agent reads the handed-over conversation.
  const database = await openDatabase(db.url);
  try {
    await createStaffAuth({ db: database.prisma, secret: 'hashing-only', clock: () => new Date() }).saveAccount({ username: 'ann', password: 'a-long-password', role: 'agent' });
  } finally {
    await database.close();
  }
  const login = (await (await fetch(`${server.url}/api/agent/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ann', password: 'a-long-password' }) })).json()) as { token: string };
  const auth = { authorization: `Bearer ${login.token}` };
  const { handoffs } = (await (await fetch(`${server.url}/api/agent/handoffs`, { headers: auth })).json()) as { handoffs: Array<{ id: string; conversationId: string }> };
  const handoff = handoffs.find((h) => h.conversationId === `test:${en}`);
  expect(handoff).toBeDefined();
  const transcript = await (await fetch(`${server.url}/api/agent/handoffs/${handoff!.id}/transcript`, { headers: auth })).text();
  expect(transcript).toContain('collectors keep calling'); // what was said is there…
  for (const secret of ['13800138002', '1985-05-05', '5 May 1985', '448X']) expect(transcript).not.toContain(secret); // …its identity details are not
  expect(transcript).not.toContain('data:image');

  expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  const log = fs.readFileSync(logFile, 'utf8');
  const lines = log.split('\n').filter(Boolean);
  // Not a vacuous pass: the log is there, at debug level, and recorded these turns.
  expect(lines.filter((l) => l.includes('"msg":"turn"')).length).toBeGreaterThanOrEqual(16);
  expect(lines.some((l) => l.includes('"level":20'))).toBe(true);
  for (const output of [log, server.stderr()]) {
    for (const secret of SECRETS) expect({ secret, found: output.includes(secret) }).toEqual({ secret, found: false });
  }
});
