/**
 * The floor: a bare echo bot on the same stack as the real server (restify 12 with the same
 * query and body parsers, botbuilder's CloudAdapter with anonymous local authentication, answered
 * in the HTTP response with deliveryMode expectReplies). No database, no state, no recognition.
 *
 *   PORT=3999 node bench/echoBot.mjs
 *
 * With ECHO_DATABASE_URL (PostgreSQL), the stateful echo: the same echo, plus the least a bot
 * that keeps its conversations on PostgreSQL does a turn. It reads the conversation's row, then
 * writes the row back with one more turn counted and stores the message, durably, before it
 * answers. It batches the way the real bot does (db/sql.ts): the reads of one pass of the event
 * loop go out together on one connection, and the writes of one pass are one transaction, sent in
 * one write to the socket. What the database costs on these shared cores, apart from the bot's
 * own work, is then the gap between the two echoes (bench/FINDINGS.md).
 *
 *   PORT=3999 ECHO_DATABASE_URL=postgresql://… node bench/echoBot.mjs   (after npm run build: it uses dist/db/passBatch.js)
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const restify = require('restify');
const { CloudAdapter, ConfigurationBotFrameworkAuthentication, ConfigurationServiceClientCredentialFactory } = require('botbuilder');

const credentials = new ConfigurationServiceClientCredentialFactory({ MicrosoftAppId: '', MicrosoftAppPassword: '', MicrosoftAppType: '', MicrosoftAppTenantId: '' });
const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}, credentials));
adapter.onTurnError = async (context, error) => {
  console.error('echo turn failed', error);
  await context.sendActivity('error');
};

const server = restify.createServer({ name: 'echo-bot', handleUncaughtExceptions: false });
server.use(restify.plugins.queryParser({ mapParams: false }));
server.use(restify.plugins.bodyParser({ maxBodySize: 16 * 1024 * 1024, mapParams: false, rejectUnknown: true }));

/** The same shape of bot logic as bot/borrowerBot.ts: a function of the turn context. */
const stateless = async (context) => {
  if (context.activity.type === 'message') await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
};
const databaseUrl = process.env.ECHO_DATABASE_URL;
const state = databaseUrl ? await conversationState(databaseUrl) : undefined;
const bot = state
  ? async (context) => {
      if (context.activity.type !== 'message') return;
      const conversationId = context.activity.conversation.id;
      const text = context.activity.text ?? '';
      const turns = await state.turnsOf(conversationId);
      await state.record(conversationId, turns + 1, text);
      await context.sendActivity(`echo: ${text}`);
    }
  : stateless;
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, bot);
});

server.listen(Number(process.env.PORT ?? 3999), process.env.HOST ?? '127.0.0.1');
const stop = () => server.close(() => (state ? state.close() : Promise.resolve()).finally(() => process.exit(0)));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

/**
 * Each conversation's row (how many turns it had) and its messages on PostgreSQL: `turnsOf` reads
 * the row, `record` writes it and the message and resolves once its transaction committed.
 */
async function conversationState(url) {
  if (!/^postgres(ql)?:/.test(url)) throw new Error(`ECHO_DATABASE_URL must be a postgresql:// URL, not "${url}"`);
  const pg = require('pg');
  // Pipelined, as the real bot's pool (db/client.ts): statements issued without waiting go out at once.
  const pool = new pg.Pool({ connectionString: url, max: 5, pipeline: true });
  pool.on('error', () => {});
  await pool.query(
    'CREATE TABLE IF NOT EXISTS "EchoConversation" ("id" text PRIMARY KEY, "turns" integer NOT NULL, "updatedAt" timestamp(3) NOT NULL);' +
      'CREATE TABLE IF NOT EXISTS "EchoMessage" ("id" bigserial PRIMARY KEY, "conversationId" text NOT NULL REFERENCES "EchoConversation" ("id"), "text" text NOT NULL, "createdAt" timestamp(3) NOT NULL)',
  );
  const read = { name: 'echo_read', text: 'SELECT "turns" FROM "EchoConversation" WHERE "id" = $1' };
  const upsert = { name: 'echo_upsert', text: 'INSERT INTO "EchoConversation" ("id", "turns", "updatedAt") VALUES ($1, $2, now()) ON CONFLICT ("id") DO UPDATE SET "turns" = $2, "updatedAt" = now()' };
  const message = { name: 'echo_message', text: 'INSERT INTO "EchoMessage" ("conversationId", "text", "createdAt") VALUES ($1, $2, now())' };

  // The pass batching the bot's own SQL uses (db/passBatch.ts; the benchmark builds dist/ first).
  const { createPassBatch } = require(path.join(root, 'dist', 'db', 'passBatch.js'));
  /** What one pass of the event loop asked for, handed to `send` on one connection once the pass is over. */
  const perPass = (send) => {
    const pass = createPassBatch(async (batch) => {
      let client;
      try {
        client = await pool.connect();
      } catch (e) {
        for (const b of batch) b.reject(e);
        return;
      }
      const socket = client.connection.stream;
      socket.cork();
      const answered = send(client, batch);
      socket.uncork();
      await answered;
      client.release();
    });
    return (item) => pass.add(item);
  };
  const reads = perPass((client, batch) =>
    Promise.all(batch.map((b) => client.query({ ...read, values: [b.conversationId] }).then((r) => b.resolve(r.rows[0]?.turns ?? 0), b.reject))),
  );
  const writes = perPass((client, batch) => {
    const sent = [client.query('BEGIN')];
    for (const b of batch) sent.push(client.query({ ...upsert, values: [b.conversationId, b.turns] }), client.query({ ...message, values: [b.conversationId, b.text] }));
    sent.push(client.query('COMMIT'));
    // Every answer is awaited before the connection goes back; the first failure is the cause.
    return Promise.allSettled(sent).then((outcomes) => {
      const failed = outcomes.find((o) => o.status === 'rejected');
      for (const b of batch) failed ? b.reject(failed.reason) : b.resolve();
    });
  });
  return {
    turnsOf: (conversationId) => new Promise((resolve, reject) => reads({ conversationId, resolve, reject })),
    record: (conversationId, turns, text) => new Promise((resolve, reject) => writes({ conversationId, turns, text, resolve, reject })),
    close: () => pool.end(),
  };
}
