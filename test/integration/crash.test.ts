import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../../db/client';
import { demoBorrowers } from '../../portfolio/demoPortfolio';
import { freshDatabaseUrl } from '../support/databases';
import { ensureBuilt, startServerProcess, type ServerProcess } from '../support/serverProcess';
import { messageActivity, post } from '../support/talk';

/**
 * SIGKILL at random points while conversations run (verification, a plan confirmed, a complaint
 * filed, a proof uploaded, a handoff), restarting on the same database each time; then every
 * record is checked: whatever a borrower was told is stored, no turn is half written, every
 * conversation carries on, and the server starts cleanly on what the kills left.
 * CRASH_SEED=n replays one run's kill points.
 */
const kind = process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const KILLS = 15;
const CONVERSATIONS_PER_LIFE = 4;
const SORRY = /系统暂时出了点问题|something went wrong on our side/;
const PNG_HEAD = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
// Borrowers whose accounts offer installments (README: demo borrowers).
const BORROWERS = demoBorrowers.filter((b) => ['D01', 'D03', 'D07', 'D09'].includes(b.borrowerId));

const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
/** mulberry32: the kill points are random, and the same again for the same seed. */
function random(): number {
  random.state = (random.state + 0x6d2b79f5) | 0;
  let t = random.state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
}
random.state = seed;

function script(conversation: string, n: number): Array<[string, Record<string, unknown>?]> {
  const b = BORROWERS[n % BORROWERS.length]!;
  const png = Buffer.concat([PNG_HEAD, Buffer.from(conversation)]).toString('base64');
  const plan: Array<[string, Record<string, unknown>?]> = [['分3期'], ['确认']];
  const complaint: Array<[string, Record<string, unknown>?]> = [['我要投诉'], ['服务态度'], ['客服电话里态度很差'], ['希望你们道歉']];
  const proof: Array<[string, Record<string, unknown>?]> = [
    ['我已经还款了'],
    ['', { attachments: [{ contentType: 'image/png', contentUrl: `data:image/png;base64,${png}`, name: 'r.png' }] }],
    ['1500'],
    ['昨天'],
    ['支付宝'],
  ];
  // Each conversation starts its errands in another order, so kills cut every kind of record short
  // somewhere and every kind also completes somewhere.
  const errands = [plan, complaint, proof];
  const rotated = [...errands.slice(n % 3), ...errands.slice(0, n % 3)];
  return [[`${b.phone} ${b.idLast4} ${b.birthDate}`], ...rotated.flat(), ['转人工']];
}

interface Received {
  conversation: string;
  said: string;
  text: string;
}

/** Runs a conversation's script until the server goes away; true when the kill cut a turn off. */
async function converse(server: ServerProcess, conversation: string, n: number, received: Received[]): Promise<boolean> {
  for (const [text, extra] of script(conversation, n)) {
    let r;
    try {
      r = await post(server.url, messageActivity(conversation, text, extra));
    } catch {
      return true; // killed mid-turn: the borrower got no answer
    }
    if (r.status !== 200) throw new Error(`${conversation}: HTTP ${r.status} for "${text}"`);
    received.push({ conversation, said: text, text: r.text });
  }
  return false;
}

test(`${KILLS} SIGKILLs during turns, restarting on the same database: nothing confirmed is lost, no half turn`, async () => {
  await ensureBuilt();
  const db = await freshDatabaseUrl(kind);
  const proofDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-proofs-'));
  const start = () => startServerProcess({ databaseUrl: db.url, proofDir, env: { RATE_LIMIT_PER_ADDRESS: '0', RATE_LIMIT_PER_CONVERSATION: '0' } });
  const received: Received[] = [];
  const conversations: string[] = [];
  let cutOff = 0;
  try {
    // The next process starts while the current one works (and is killed): the same restarts on
    // the same data, in less time.
    let next = start();
    for (let life = 0; life < KILLS; life++) {
      const server = await next;
      next = start();
      const names = Array.from({ length: CONVERSATIONS_PER_LIFE }, (_, k) => `crash-${life}-${k}`);
      conversations.push(...names);
      const answeredBefore = received.length;
      let finished = false;
      const running = Promise.all(names.map((c, k) => converse(server, c, life * CONVERSATIONS_PER_LIFE + k, received))).finally(() => (finished = true));
      // Somewhere in the scripts, early (verification) to late (the proof, the handoff): counted in
      // answers rather than milliseconds, so the kills land inside the scripts however fast the
      // machine is, then a few milliseconds more, so that some land inside a turn.
      const turns = names.reduce((sum, _, k) => sum + script('', life * CONVERSATIONS_PER_LIFE + k).length, 0);
      const killAfter = Math.floor(random() * turns * 0.9);
      while (!finished && received.length - answeredBefore < killAfter) await sleep(1);
      await sleep(random() * 8);
      server.child.kill('SIGKILL');
      cutOff += (await running).filter(Boolean).length;
      await server.exited;
    }

    const server = await next;
    const database = await openDatabase(db.url);
    const problems: string[] = [];
    try {
      if (kind === 'sqlite') {
        const [check] = await database.prisma.$queryRawUnsafe<Array<{ integrity_check: string }>>('PRAGMA integrity_check');
        if (check?.integrity_check !== 'ok') problems.push(`integrity_check: ${JSON.stringify(check)}`);
      }
      // Everything the borrowers were told is on record.
      for (const { conversation, said, text } of received) {
        const id = `test:${conversation}`;
        // A plan's reference is shown with the quote already; the answer to "确认" is the confirmation.
        for (const ref of said === '确认' ? (text.match(/AG-[A-Z0-9]{8}/g) ?? []) : []) {
          const agreement = await database.prisma.agreement.findUnique({ where: { id: ref }, include: { payments: true } });
          if (agreement?.conversationId !== id || agreement.payments.length !== 3) problems.push(`${conversation}: agreement ${ref} confirmed but ${agreement ? 'incomplete' : 'missing'}`);
        }
        for (const ref of text.match(/PP-[A-Z0-9]{8}/g) ?? []) {
          const proof = await database.prisma.proof.findUnique({ where: { id: ref } });
          if (!proof) problems.push(`${conversation}: proof ${ref} told but missing`);
          else if (!proof.sha256 || !fs.existsSync(path.join(proofDir, proof.sha256.slice(0, 2), proof.sha256))) problems.push(`${conversation}: proof ${ref} without its file`);
        }
        for (const ref of text.match(/CP-[A-Z0-9]{8}/g) ?? []) {
          if (!(await database.prisma.complaint.findUnique({ where: { id: ref } }))) problems.push(`${conversation}: complaint ${ref} told but missing`);
        }
        if (text.includes('人工客服队列') && (await database.prisma.handoff.count({ where: { conversationId: id } })) === 0) problems.push(`${conversation}: handoff told but missing`);
      }
      // No half turn: one version per inbound message, and each inbound message followed by its replies.
      for (const conversation of conversations) {
        const id = `test:${conversation}`;
        const stored = await database.prisma.conversation.findUnique({ where: { id } });
        const rows = await database.prisma.message.findMany({ where: { conversationId: id }, orderBy: { id: 'asc' } });
        const inbound = rows.filter((r) => r.direction === 'in');
        if ((stored?.version ?? 0) !== inbound.length) problems.push(`${conversation}: version ${stored?.version} for ${inbound.length} inbound messages`);
        rows.forEach((row, i) => {
          if (row.direction !== 'in') return;
          const next = rows[i + 1];
          const replyTo = next ? (JSON.parse(next.activity) as { replyToId?: string }).replyToId : undefined;
          if (replyTo !== row.activityId) problems.push(`${conversation}: message ${row.activityId} without its replies`);
        });
      }
      // Every conversation's snapshot loads and its next turn works.
      for (const conversation of conversations) {
        const r = await post(server.url, messageActivity(conversation, '你好'));
        if (r.status !== 200 || SORRY.test(r.text)) problems.push(`${conversation}: next turn ${r.status} ${r.text.slice(0, 80)}`);
      }
    } finally {
      await database.close();
      await server.kill();
    }
    expect({ seed, problems }).toEqual({ seed, problems: [] });
    // Not a vacuous pass: the kills did land inside the scripts, and turns had committed before them.
    expect(cutOff).toBeGreaterThan(KILLS / 2);
    expect(received.filter((r) => r.said === '确认' && /AG-/.test(r.text)).length).toBeGreaterThan(0);
    expect(received.filter((r) => /PP-|CP-/.test(r.text)).length).toBeGreaterThan(0);
  } finally {
    await db.drop();
    fs.rmSync(proofDir, { recursive: true, force: true });
  }
}, 240_000);
