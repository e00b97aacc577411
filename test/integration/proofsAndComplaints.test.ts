import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../db/client';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { startTestBot, type TestBot } from '../support/botServer';
import { amountsIn, messageActivity, post, say } from '../support/talk';

/**
 * Proof of payment and complaints over real HTTP in both languages, with the files served by a
 * local HTTP server that the bot may download from (ATTACHMENT_HOSTS) and one it may not.
 */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PNG2 = Buffer.concat([PNG, Buffer.from('another screenshot')]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
const FILES: Record<string, Buffer> = {
  '/receipt.png': PNG,
  '/second.png': PNG2,
  '/notes.png': Buffer.from('this is a text file renamed to .png'),
  '/huge.png': Buffer.concat([PNG.subarray(0, 8), Buffer.alloc(11 * 1024 * 1024)]),
};

let files: http.Server;
let filesHost: string;
let bot: TestBot;
let database: Database;
const proofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proof-test-'));
let n = 0;

beforeAll(async () => {
  files = http.createServer((req, res) => {
    const body = FILES[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesHost = `127.0.0.1:${(files.address() as { port: number }).port}`;
  bot = await startTestBot({ env: { ATTACHMENT_HOSTS: filesHost, PROOF_STORAGE_DIR: proofDir } });
  database = await openDatabase(bot.databaseUrl);
});
afterAll(async () => {
  await database?.close();
  await bot?.stop();
  await new Promise((r) => files.close(r));
});

async function verified(id: string, locale = 'zh-CN') {
  const b = demoBorrowers.find((d) => d.borrowerId === id)!;
  const conversation = `pc-${id}-${++n}`;
  const talk = (text: string, attachments?: unknown[]) => post(bot.url, messageActivity(conversation, text, { locale, ...(attachments ? { attachments } : {}) }));
  await talk(`${b.phone} ${b.idLast4} ${b.birthDate}`);
  return { talk, conversation };
}
const file = (name: string, host = filesHost) => ({ contentType: 'image/png', contentUrl: `http://${host}${name}`, name: name.slice(1) });
const proofsOf = (conversation: string) => database.prisma.proof.findMany({ where: { conversationId: `test:${conversation}` } });

describe('proof of payment', () => {
  test('zh: a PNG, then the details asked for one by one; stored with a PP- receipt; the same file again is recognised', async () => {
    const { talk, conversation } = await verified('D03');
    expect((await talk('我已经还款了')).text).toContain('还款凭证');
    expect((await talk('', [file('/receipt.png')])).text).toContain('金额');
    expect((await talk('1500')).text).toContain('哪天');
    expect((await talk('昨天')).text).toContain('什么方式');
    const done = await talk('支付宝');
    const receipt = /PP-[A-Z0-9]{8}/.exec(done.text)?.[0];
    expect(receipt).toBeDefined();
    expect(amountsIn(done.text)).toContain('1500.00');
    expect(done.text).toContain('2026-11-21');
    const [proof] = await proofsOf(conversation);
    expect(proof).toMatchObject({ id: receipt, status: 'pending_review', amountFen: 150000, paidOn: '2026-11-21', method: 'alipay', fileType: 'image/png' });
    expect(fs.existsSync(path.join(proofDir, proof!.sha256!.slice(0, 2), proof!.sha256!))).toBe(true);

    const again = await talk('', [file('/receipt.png')]);
    expect(again.text).toContain(receipt!);
    expect(again.text).toContain('已经收到过');
    expect(await database.prisma.proof.count({ where: { sha256: proof!.sha256 } })).toBe(1);
  });

  test('zh: a PDF by data: URL with every detail in one message', async () => {
    const { talk, conversation } = await verified('D04', 'zh-CN');
    const r = await talk('昨天用微信支付还了800元', [{ contentType: 'application/pdf', contentUrl: `data:application/pdf;base64,${PDF.toString('base64')}`, name: 'r.pdf' }]);
    expect(r.text).toMatch(/PP-[A-Z0-9]{8}/);
    expect((await proofsOf(conversation)).map((p) => [p.fileType, p.method, p.amountFen])).toEqual([['application/pdf', 'wechat_pay', 80000]]);
  });

  test('a text file named .png, an 11 MiB file and a disallowed host are refused with a reason, nothing stored', async () => {
    const { talk, conversation } = await verified('D05');
    await talk('我已经还款了');
    expect((await talk('', [file('/notes.png')])).text).toContain('不是 JPG、PNG 或 PDF');
    expect((await talk('', [file('/huge.png')])).text).toContain('10MB');
    expect((await talk('', [file('/receipt.png', filesHost.replace('127.0.0.1', 'localhost'))])).text).toContain('安全原因');
    expect(await proofsOf(conversation)).toEqual([]);
    const stored = fs.readdirSync(proofDir).flatMap((d) => fs.readdirSync(path.join(proofDir, d)));
    expect(stored.every((f) => !f.startsWith('.tmp'))).toBe(true);
  });

  test('zh: a transaction reference instead of a file; the same method and reference again is recognised', async () => {
    const { talk, conversation } = await verified('D07');
    const r = await talk('我11月20日用银行转账还了2000，流水号 TX2026112000123');
    const receipt = /PP-[A-Z0-9]{8}/.exec(r.text)?.[0];
    expect(receipt).toBeDefined();
    expect(r.text).toContain('TX2026112000123');
    const again = await talk('我已经还了 银行转账2000 流水号TX2026112000123 11月20日');
    expect(again.text).toContain(receipt!);
    expect((await proofsOf(conversation)).length).toBe(1);
  });

  test('en: "I paid 3.5k yesterday via alipay" with a reference', async () => {
    const { talk } = await verified('D02', 'en-US');
    const r = await talk('I paid 3.5k yesterday via alipay, ref ABC12345678');
    expect(r.text).toMatch(/Receipt number PP-[A-Z0-9]{8}/);
    expect(amountsIn(r.text)).toContain('3500.00');
    expect(r.text).toContain('2026-11-21');
    expect(r.text).not.toMatch(/[\u3400-\u9fff]/);
  });

  test('en: a second screenshot asked for step by step', async () => {
    const { talk } = await verified('D10', 'en-US');
    expect((await talk('I have paid')).text).toMatch(/proof of payment/i);
    expect((await talk('', [file('/second.png')])).text).toMatch(/How much/);
    expect((await talk('1200')).text).toMatch(/which day/i);
    expect((await talk('yesterday')).text).toMatch(/How did you pay/);
    expect((await talk('Bank transfer')).text).toMatch(/PP-[A-Z0-9]{8}/);
  });

  test('a review outcome reaches the borrower the next time they are verified, once', async () => {
    const { talk } = await verified('D09');
    const r = await talk('昨天用支付宝还了700，交易号 ZFB2026112100077');
    const receipt = /PP-[A-Z0-9]{8}/.exec(r.text)![0];
    await database.prisma.proof.update({ where: { id: receipt }, data: { status: 'verified', reviewedBy: 'agent:test', reviewedAt: new Date() } });
    const d09 = demoBorrowers.find((d) => d.borrowerId === 'D09')!;
    const credentials = `${d09.phone} ${d09.idLast4} ${d09.birthDate}`;
    const firstSight = await say(bot.url, `pc-outcome-${++n}`, credentials);
    expect(firstSight.text).toContain(receipt);
    expect(firstSight.text).toContain('已核实通过');
    const later = await say(bot.url, `pc-outcome-${++n}`, credentials);
    expect(later.text).not.toContain(receipt);
  });
});

describe('complaints', () => {
  test('zh: category, description and outcome asked for; a CP- ticket due in 15 days; its status on request', async () => {
    const { talk } = await verified('D03');
    const a = await talk('我要投诉');
    expect(a.text).toContain('哪方面');
    expect((await talk('服务态度')).text).toContain('具体情况');
    expect((await talk('客服电话里态度很差，还挂了我的电话')).text).toContain('怎么处理');
    const filed = await talk('希望你们道歉');
    const ticket = /CP-[A-Z0-9]{8}/.exec(filed.text)?.[0];
    expect(ticket).toBeDefined();
    expect(filed.text).toContain('2026-12-07');
    const status = await talk('投诉进度');
    expect(status.text).toContain(ticket!);
    expect(status.text).toContain('已受理');
    const row = await database.prisma.complaint.findUniqueOrThrow({ where: { id: ticket! } });
    expect(row).toMatchObject({ category: 'service', severity: 'normal', dueDate: '2026-12-07', status: 'received' });
  });

  test('en: a conduct complaint is filed, its ticket given, then a person takes over', async () => {
    const { talk, conversation } = await verified('D04', 'en-US');
    const a = await talk('I want to complain: your collectors keep calling my family');
    expect(a.text).toMatch(/What would you like us to do/);
    const filed = await talk('Stop calling my family and apologise');
    const ticket = /CP-[A-Z0-9]{8}/.exec(filed.text)?.[0];
    expect(ticket).toBeDefined();
    expect(filed.text).toMatch(/connecting you with a person/);
    expect(filed.text.indexOf(ticket!)).toBeLessThan(filed.text.indexOf('connecting you'));
    const row = await database.prisma.complaint.findUniqueOrThrow({ where: { id: ticket! } });
    expect(row).toMatchObject({ category: 'collection_conduct', severity: 'high' });
    const handoffs = await database.prisma.handoff.findMany({ where: { conversationId: `test:${conversation}` } });
    expect(handoffs.map((h) => h.rule)).toEqual(['highSeverityComplaint']);
  });
});
