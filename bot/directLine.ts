import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';

/**
 * A local Direct Line 3.0 endpoint (polling only, no websocket) so Bot Framework Web Chat talks to
 * this bot without Azure. Web Chat's DirectLine client calls:
 *   POST /v3/directline/conversations                       create (or, with a token, resume)
 *   POST /v3/directline/tokens/refresh                      every 15 minutes
 *   POST /v3/directline/conversations/:id/activities        send
 *   GET  /v3/directline/conversations/:id/activities?watermark=N   poll (once a second)
 * The transcript store is the source of truth: replies reach the browser because the bot stored
 * them, whichever path they took (a turn or a proactive message).
 */
export interface DirectLineDeps {
  /** Runs one inbound activity through the same turn pipeline as POST /api/messages and resolves once
   *  the turn (the inbound message and every reply) is stored in the transcript. */
  processActivity(activity: Record<string, unknown>): Promise<void>;
  /** The stored transcript activities of a conversation with message id > afterId, oldest first. */
  activitiesAfter(conversationId: string, afterId: number): Promise<Array<{ id: number; activity: Record<string, unknown> }>>;
  /** Secret used to sign the conversation tokens (HMAC). */
  tokenSecret: string;
  now(): Date;
  /** Rate limits (per client address, and per conversation once it is known): false after answering 429. */
  withinLimits?(req: Request, res: Response, conversationId?: string): boolean;
}

/** Direct Line's own token lifetime; Web Chat refreshes every 15 minutes, well inside it. */
export const TOKEN_TTL_SECONDS = 1800;
export const DIRECT_LINE_CHANNEL_ID = 'webchat';
export const DIRECT_LINE_BOT = Object.freeze({ id: 'repayment-assistant', name: 'Repayment Assistant', role: 'bot' });
/** Activity types delivered to the browser. Events (e.g. handoff.initiate with its transcript and
 *  reason) are for agent hubs, not for the borrower's page. */
const DELIVERED_TYPES = new Set(['message', 'typing', 'endOfConversation']);

// ---- tokens -------------------------------------------------------------------------------------

/**
 * Tokens are HS256 JWTs, like Direct Line's own: Web Chat reads the `user` claim and uses it as
 * the user id, which this endpoint also puts on every inbound activity. That keeps the id bound
 * to the conversation (the "dl_" prefix is the one Direct Line reserves for token-embedded ids)
 * and makes Web Chat show suggested actions addressed to that user.
 * The signing key is derived from the secret so no other token signed with it verifies here.
 */
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const CONVERSATION_ID = /^[A-Za-z0-9_-]{16,64}$/;

export const directLineUserId = (conversationId: string) => `dl_${conversationId}`;

interface TokenClaims {
  conv: string;
  user: string;
  exp: number;
}

function signingKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('directline-token:v1').digest();
}

function sign(key: Buffer, claims: TokenClaims): string {
  const body = `${JWT_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

function verify(key: Buffer, token: string, now: Date): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== JWT_HEADER) return undefined;
  const [header, payload, mac] = parts as [string, string, string];
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: Partial<TokenClaims>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<TokenClaims>;
  } catch {
    return undefined;
  }
  const { conv, user, exp } = claims;
  if (typeof conv !== 'string' || !CONVERSATION_ID.test(conv) || user !== directLineUserId(conv)) return undefined;
  if (typeof exp !== 'number' || exp * 1000 <= now.getTime()) return undefined;
  return { conv, user, exp };
}

// ---- request bodies -----------------------------------------------------------------------------

const locale = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 tag such as zh-CN or en-US');

/** Direct Line's TokenParameters / conversation start body; Web Chat sends {user:{id}, locale}. */
const createBody = z.object({
  locale: locale.optional(),
  user: z.object({ id: z.string().max(256).optional(), name: z.string().max(256).optional() }).optional(),
});

const attachment = z.object({
  contentType: z.string().min(1).max(255),
  contentUrl: z.string().max(15_000_000).optional(), // a data: URL of a 10 MiB file, base64
  content: z.unknown().optional(),
  name: z.string().max(255).optional(),
  thumbnailUrl: z.string().max(2048).optional(),
});

/** What a client may set. Everything identifying (ids, conversation, recipient, channel, service
 *  URL, timestamp) is set by the server; unknown fields are dropped. */
const inboundActivity = z
  .object({
    type: z.enum(['message', 'event', 'typing']),
    text: z.string().max(5000).optional(),
    textFormat: z.enum(['plain', 'markdown', 'xml']).optional(),
    locale: locale.optional(),
    localTimestamp: z.string().max(64).optional(),
    localTimezone: z.string().max(64).optional(),
    from: z.object({ id: z.string().max(256).optional(), name: z.string().max(256).optional() }).loose().optional(),
    name: z.string().max(256).optional(),
    value: z.unknown().optional(),
    attachments: z.array(attachment).max(10).optional(),
    entities: z.array(z.record(z.string(), z.unknown())).max(20).optional(),
    channelData: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((a) => a.type !== 'message' || a.text !== undefined || (a.attachments?.length ?? 0) > 0 || a.value !== undefined, {
    message: 'a message needs text, attachments or value',
  })
  .refine((a) => a.type !== 'event' || a.name !== undefined, { message: 'an event needs a name', path: ['name'] });

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

// ---- responses ----------------------------------------------------------------------------------

/** JSON written directly: restify's formatter negotiation would otherwise depend on the Accept header. */
function sendJson(res: Response, status: number, body: unknown): void {
  res.sendRaw(status, JSON.stringify(body), {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
}

/** Direct Line's error shape, which its clients understand. */
function sendError(res: Response, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

// ---- registration -------------------------------------------------------------------------------

export function registerDirectLine(server: Server, deps: DirectLineDeps): void {
  if (!deps.tokenSecret) throw new Error('registerDirectLine: tokenSecret must not be empty');
  const key = signingKey(deps.tokenSecret);

  const issue = (conversationId: string) => {
    const exp = Math.floor(deps.now().getTime() / 1000) + TOKEN_TTL_SECONDS;
    const token = sign(key, { conv: conversationId, user: directLineUserId(conversationId), exp });
    return { conversationId, token, expires_in: TOKEN_TTL_SECONDS };
  };

  /** Undefined when there is no Authorization header; null when there is one that does not verify. */
  const bearer = (req: Request): { conversationId: string } | null | undefined => {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const claims = m ? verify(key, m[1]!, deps.now()) : undefined;
    return claims ? { conversationId: claims.conv } : null;
  };

  /** The conversation the request may act on, or undefined after answering 403. */
  const authorize = (req: Request, res: Response, conversationId?: string): string | undefined => {
    const claims = bearer(req);
    if (!claims) {
      sendError(res, 403, 'TokenInvalid', claims === undefined ? 'missing Authorization: Bearer <token>' : 'the token is invalid or expired');
      return undefined;
    }
    if (conversationId !== undefined && claims.conversationId !== conversationId) {
      sendError(res, 403, 'TokenInvalid', 'the token is not valid for this conversation');
      return undefined;
    }
    return claims.conversationId;
  };

  /** Where the bot's replies and proactive messages go: this server itself, by its listening address
   *  (not the Host header, which a client controls). */
  const serviceUrl = (): string => {
    const a = server.address();
    const host =
      a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const scheme = typeof server.url === 'string' && server.url.startsWith('https:') ? 'https' : 'http';
    return `${scheme}://${host}:${a.port}/v3/directline/`;
  };

  const baseActivity = (conversationId: string, user: { name?: string | undefined }) => ({
    id: `${conversationId}|${randomBytes(9).toString('base64url')}`,
    channelId: DIRECT_LINE_CHANNEL_ID,
    serviceUrl: serviceUrl(),
    conversation: { id: conversationId },
    recipient: { ...DIRECT_LINE_BOT },
    // The token's user, whatever the client claims: no client speaks as another conversation's user.
    from: { id: directLineUserId(conversationId), ...(user.name ? { name: user.name } : {}), role: 'user' },
    timestamp: deps.now().toISOString(),
  });

  const limited = (req: Request, res: Response, conversationId?: string) => deps.withinLimits?.(req, res, conversationId) === false;

  server.post('/v3/directline/conversations', async (req, res) => {
    if (limited(req, res)) return;
    const body = createBody.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'BadArgument', describeIssues(body.error));
    const claims = bearer(req);
    if (claims === null) return sendError(res, 403, 'TokenInvalid', 'the token is invalid or expired');
    // Web Chat, given a token, "starts" the conversation by POSTing again with it: same conversation.
    if (claims) return sendJson(res, 200, issue(claims.conversationId));

    const conversationId = randomBytes(18).toString('base64url');
    // The standard greeting trigger, as Direct Line sends when a user joins; the page passes its
    // locale so the greeting is in the borrower's language. A failure here must not prevent chatting.
    try {
      await deps.processActivity({
        ...baseActivity(conversationId, { name: body.data.user?.name }),
        type: 'conversationUpdate',
        membersAdded: [{ id: directLineUserId(conversationId), role: 'user' }],
        ...(body.data.locale ? { locale: body.data.locale } : {}),
      });
    } catch (err) {
      req.log.error({ err }, 'directline: conversationUpdate turn failed');
    }
    return sendJson(res, 201, issue(conversationId));
  });

  server.post('/v3/directline/tokens/refresh', async (req, res) => {
    if (limited(req, res)) return;
    const conversationId = authorize(req, res);
    if (conversationId !== undefined) sendJson(res, 200, issue(conversationId));
  });

  server.post('/v3/directline/conversations/:id/activities', async (req, res) => {
    const conversationId = authorize(req, res, req.params.id);
    if (conversationId === undefined || limited(req, res, conversationId)) return;
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
      return sendError(res, 400, 'BadArgument', 'body: expected a JSON object activity (Content-Type: application/json)');
    }
    const parsed = inboundActivity.safeParse(req.body);
    if (!parsed.success) return sendError(res, 400, 'BadArgument', describeIssues(parsed.error));
    const { from, ...fields } = parsed.data;
    const activity = { ...fields, ...baseActivity(conversationId, { name: from?.name }) };
    // Typing indicators would have nobody to show them to; not worth a turn.
    if (activity.type === 'typing') return sendJson(res, 200, { id: activity.id });
    try {
      await deps.processActivity(activity);
    } catch (err) {
      req.log.error({ err }, 'directline: turn failed');
      return sendError(res, 502, 'BotError', 'the bot could not process the activity');
    }
    return sendJson(res, 200, { id: activity.id });
  });

  server.get('/v3/directline/conversations/:id/activities', async (req, res) => {
    const conversationId = authorize(req, res, req.params.id);
    if (conversationId === undefined) return;
    // Read from the URL itself so this does not depend on queryParser's options.
    const raw = new URL(req.url ?? '/', 'http://local').searchParams.get('watermark') ?? '';
    if (raw !== '' && !/^\d{1,15}$/.test(raw)) {
      return sendError(res, 400, 'BadArgument', 'watermark: must be a non-negative integer');
    }
    const after = raw === '' ? 0 : Number(raw);
    const rows = await deps.activitiesAfter(conversationId, after);
    const activities = rows
      .filter((r) => DELIVERED_TYPES.has(String(r.activity.type)))
      .map((r) => ({
        ...r.activity,
        id: typeof r.activity.id === 'string' && r.activity.id !== '' ? r.activity.id : `${conversationId}|${r.id}`,
      }));
    const watermark = rows.length ? rows[rows.length - 1]!.id : after;
    return sendJson(res, 200, { activities, watermark: String(watermark) });
  });

  // Stand-in for the Bot Framework channel service at serviceUrl: the connector POSTs replies and
  // proactive messages here. They are already in the transcript (the bot stores what it sends), so
  // this only acknowledges; without it every proactive send to a Web Chat user would fail.
  const acknowledge = async (_req: Request, res: Response) => sendJson(res, 200, { id: randomBytes(9).toString('base64url') });
  server.post('/v3/directline/v3/conversations/:conversationId/activities', acknowledge);
  server.post('/v3/directline/v3/conversations/:conversationId/activities/:activityId', acknowledge);
}
