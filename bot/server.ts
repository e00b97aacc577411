import path from 'node:path';
import type { Activity } from 'botbuilder';
import restify from 'restify';
import type { Database } from '../db/client';
import type { Config } from './config';
import type { BotAdapter, BotAuthentication } from './adapter';
import { describeActivityProblems, inboundActivitySchema } from './activitySchema';
import { createBorrowerBot } from './borrowerBot';
import type { Clock } from './clock';
import { registerDirectLine } from './directLine';
import type { Logger } from './logger';
import { registerWebPages } from './staticPages';
import type { TurnPipeline } from './turnPipeline';
import { registerAgentApi } from './agentApi';
import type { Dialogs } from '../dialogs/loadDialogs';
import type { FileStore } from '../proofs/fileStore';
import { registerReviewApi } from './reviewApi';
import { registerReportsApi } from './reportsApi';
import { registerStudioApi, type StudioApiDeps } from './studioApi';
import { clientAddress, createRateLimiter, withinLimits } from './rateLimit';
import type { HandoffHub } from './handoffHub';
import type { StaffAuth } from './staffAuth';
import type { ConversationStore } from '../db/conversationStore';

export interface ServerDeps {
  config: Config;
  /** db/identityKey.ts: signs web chat tokens. */
  identityKey: string;
  database: Database;
  pipeline: TurnPipeline;
  /** Resolves when turns can run beyond the main thread's database: the turn worker answers from its own connection. */
  turnsHealthy: () => Promise<void>;
  store: ConversationStore;
  adapter: BotAdapter;
  botAuth: BotAuthentication;
  hub: HandoffHub;
  auth: StaffAuth;
  /** A proof was decided or a complaint resolved: run the reminder pass that tells the borrower. */
  outcomeDecided: () => Promise<unknown>;
  files: FileStore;
  logger: Logger;
  clock: Clock;
  webRoot: string;
  /** The studio's versions, preview and diagrams (bot/studioApi.ts). */
  studio: Pick<StudioApiDeps, 'source' | 'preview' | 'flowToMermaid'>;
}

/** Data: URLs of proof files up to 10 MiB grow by a third in base64. */
const MAX_ACTIVITY_BODY_BYTES = 16 * 1024 * 1024;
/** Everything else (logins, agents' messages, review decisions) is a few fields of text. */
const MAX_BODY_BYTES = 64 * 1024;
/** The studio sends drafts of every editable dialogs file (about 50 KB today); room to grow. */
const MAX_STUDIO_BODY_BYTES = 2 * 1024 * 1024;
const STUDIO_ROUTE = /^\/api\/studio\//;
/** Routes that carry activities, possibly with a proof file inline: the bot's, Direct Line's, and
 *  the Direct Line channel stand-in that acknowledges the bot's own replies (transcripts included). */
const ACTIVITY_ROUTE = /^\/(api\/messages|v3\/directline\/conversations\/[^/]+\/activities|v3\/directline\/v3\/.*)$/;

/** Runs restify handlers (a plugin's chain) one after another, as restify itself would. */
function runChain(handlers: restify.RequestHandler[], req: restify.Request, res: restify.Response, next: restify.Next): void {
  const step =
    (i: number): restify.Next =>
    (err) => {
      if (err !== undefined && err !== null) return next(err);
      const handler = handlers[i];
      if (!handler) return next();
      handler(req, res, step(i + 1));
    };
  step(0)();
}

export function createServer(deps: ServerDeps): restify.Server {
  const { config, database, pipeline, store, adapter, botAuth, logger, clock } = deps;
  // restify's own logging (req.log) goes through ours, so it is scrubbed and levelled the same way.
  const server = restify.createServer({ name: 'repayment-assistant', log: logger, handleUncaughtExceptions: false });
  // Idle keep-alive connections stay open longer than clients and proxies keep them for reuse
  // (Node's 5 s default is shorter than many): otherwise a client can send a turn on a socket the
  // bot is closing at that instant and get ECONNRESET. Shutdown closes them anyway (bot/drain.ts).
  server.server.keepAliveTimeout = 65_000;
  server.server.headersTimeout = 66_000;
  const bodyLimit = (req: restify.Request) =>
    ACTIVITY_ROUTE.test(req.getPath()) ? MAX_ACTIVITY_BODY_BYTES : STUDIO_ROUTE.test(req.getPath()) ? MAX_STUDIO_BODY_BYTES : MAX_BODY_BYTES;
  server.pre((req, res, next) => {
    // restify would inflate a gzip body without counting the inflated bytes: a small request
    // could grow without bound. No Bot Framework channel or browser here compresses requests.
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      res.sendRaw(415, JSON.stringify({ error: 'unsupported_encoding', message: 'compressed request bodies are not accepted' }), { 'Content-Type': 'application/json; charset=utf-8' });
      return next(false);
    }
    // Refused before reading: a declared length over the limit is not worth receiving.
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > bodyLimit(req)) {
      res.sendRaw(413, JSON.stringify({ error: 'payload_too_large', message: `the request body is larger than ${bodyLimit(req)} bytes` }), { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close' });
      return next(false);
    }
    return next();
  });
  server.use(restify.plugins.queryParser({ mapParams: false }));
  // The same limits for bodies sent without a length (chunked), counted as they arrive.
  const activityBodies = restify.plugins.bodyParser({ maxBodySize: MAX_ACTIVITY_BODY_BYTES, mapParams: false, rejectUnknown: true });
  const smallBodies = restify.plugins.bodyParser({ maxBodySize: MAX_BODY_BYTES, mapParams: false, rejectUnknown: true });
  const studioBodies = restify.plugins.bodyParser({ maxBodySize: MAX_STUDIO_BODY_BYTES, mapParams: false, rejectUnknown: true });
  const parsers = new Map([[MAX_ACTIVITY_BODY_BYTES, activityBodies], [MAX_STUDIO_BODY_BYTES, studioBodies]]);
  server.use((req, res, next) => runChain(parsers.get(bodyLimit(req)) ?? smallBodies, req, res, next));

  const bot = createBorrowerBot(pipeline);
  const limits = {
    conversation: createRateLimiter(config.rateLimits.perConversation),
    address: createRateLimiter(config.rateLimits.perAddress),
    login: createRateLimiter(config.rateLimits.login),
  };
  const address = (req: restify.Request) => `address:${clientAddress(req, config.trustProxyHops)}`;

  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    if (!withinLimits(res, [[limits.address, address(req)]])) return;
    const parsed = inboundActivitySchema.safeParse(req.body);
    if (!parsed.success) {
      res.json(400, { error: 'invalid activity', problems: describeActivityProblems(parsed.error) });
      return;
    }
    // The bot processes the activity as checked (and cleaned), not as sent.
    const activity = parsed.data as unknown as Activity;
    // Authenticated before the conversation's rate limit counts it (nobody can use up another's
    // conversation without a valid token), once: the adapter is given this result.
    let authenticated;
    try {
      authenticated = await botAuth.authenticateRequest(activity, req.headers.authorization ?? '');
    } catch (e) {
      // Bad signature, expiry, audience, issuer, service URL: the token is refused, whatever the cause.
      const reason = e instanceof Error ? e.message : String(e);
      logger.warn({ reason, channelId: parsed.data.channelId }, 'bot framework authentication refused');
      res.json(401, { error: 'unauthorized', message: reason });
      return;
    }
    // botbuilder answers an invoke nobody handled with 501; this bot offers no card actions or
    // sign-in, so an invoke is a request it does not take, and says so.
    if (parsed.data.type === 'invoke') {
      res.json(400, { error: 'unsupported activity', problems: ['type: invoke activities are not handled by this bot'] });
      return;
    }
    if (!withinLimits(res, [[limits.conversation, `conversation:${parsed.data.channelId}:${parsed.data.conversation.id}`]])) return;
    let answer;
    try {
      answer = await adapter.turn(authenticated, activity, bot);
    } catch (e) {
      // Only when the turn's own error handler failed too (it already answers the borrower).
      logger.error({ err: e, conversationId: parsed.data.conversation.id }, 'turn failed and could not say so');
      res.json(500, { error: 'internal', message: 'the turn failed' });
      return;
    }
    if (answer?.body === undefined) res.send(answer?.status ?? 200);
    else res.json(answer.status, answer.body);
  });

  server.get('/healthz', async (_req: restify.Request, res: restify.Response) => {
    try {
      await database.prisma.$queryRawUnsafe('SELECT 1');
    } catch (e) {
      logger.warn({ err: e }, 'health check: database unreachable');
      res.json(503, { status: 'unavailable', reason: 'database unreachable' });
      return;
    }
    try {
      await deps.turnsHealthy();
    } catch (e) {
      logger.warn({ err: e }, 'health check: the turn worker is not answering');
      res.json(503, { status: 'unavailable', reason: 'turn worker unavailable' });
      return;
    }
    res.json(200, { status: 'ok' });
  });

  registerDirectLine(server, {
    processActivity: async (activity) => {
      const parsed = inboundActivitySchema.safeParse(activity);
      if (!parsed.success) throw new Error(`invalid activity: ${describeActivityProblems(parsed.error).join('; ')}`);
      await pipeline.handle(parsed.data);
    },
    activitiesAfter: (conversationId, afterId) => store.activitiesAfter(`webchat:${conversationId}`, afterId),
    tokenSecret: deps.identityKey,
    now: clock,
    withinLimits: (req, res, conversationId) =>
      withinLimits(res, [[limits.address, address(req)], ...(conversationId ? [[limits.conversation, `conversation:webchat:${conversationId}`] as const] : [])]),
  });
  registerAgentApi(server, {
    hub: deps.hub,
    auth: deps.auth,
    db: database.prisma,
    clock,
    logger,
    timeZone: config.timeZone,
    // Per address and per account: neither one machine guessing many accounts nor many machines guessing one.
    loginWithinLimits: (req, res, username) => withinLimits(res, [[limits.login, address(req)], [limits.login, `login:${username.toLowerCase()}`]]),
  });
  registerReviewApi(server, {
    db: database.prisma,
    authorize: (req, res, roles) => deps.auth.authorize(req, res, roles),
    outcomeDecided: deps.outcomeDecided,
    files: deps.files,
    clock,
    timeZone: config.timeZone,
    logger,
  });
  // Supervisors' reports (JSON and CSV).
  registerReportsApi(server, { db: database.prisma, authorize: (req, res, roles) => deps.auth.authorize(req, res, roles), clock, timeZone: config.timeZone, logger });
  // Product staff: versioned dialogs, validated drafts, a sandboxed preview chat.
  registerStudioApi(server, { db: database.prisma, authorize: (req, res, roles) => deps.auth.authorize(req, res, roles), clock, logger, ...deps.studio });
  registerWebPages(server, path.resolve(deps.webRoot));
  return server;
}
