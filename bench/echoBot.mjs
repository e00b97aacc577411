/**
 * The floor: a bare echo bot on the same stack as the real server (restify 12 with the same
 * query and body parsers, botbuilder's CloudAdapter with anonymous local authentication, answered
 * in the HTTP response with deliveryMode expectReplies). No database, no state, no recognition.
 *
 *   PORT=3999 node bench/echoBot.mjs
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
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
const bot = async (context) => {
  if (context.activity.type === 'message') await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
};
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, bot);
});

server.listen(Number(process.env.PORT ?? 3999), process.env.HOST ?? '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
