import { DateTime } from 'luxon';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { Db } from '../db/client';
import { cleanText } from './activitySchema';
import { HubError, type HandoffHub, type HubEvent } from './handoffHub';
import type { Logger } from './logger';
import type { StaffAuth, StaffIdentity } from './staffAuth';

/**
 * The Agent API (CONTRACT.md section 6) plus a live event stream and the supervisors' load view.
 * JSON in and out; every body validated (400 names the field), unknown handoff 404, bad or expired
 * token 401, wrong role 403. Agents' actions are audited by the hub (claim, message, resolve) and
 * here (login).
 */
export interface AgentApiDeps {
  hub: HandoffHub;
  auth: StaffAuth;
  db: Db;
  clock: () => Date;
  logger: Logger;
  /** The lender's time zone, for "resolved today" in the load view. */
  timeZone?: string;
  /** Rate limits of login attempts (per client address and per username): false after answering 429. */
  loginWithinLimits?(req: Request, res: Response, username: string): boolean;
}

/** Comment lines on the event stream keep proxies and browsers from dropping an idle connection. */
export const HEARTBEAT_MS = 15_000;
export const MAX_AGENT_MESSAGE_LENGTH = 2000;

/** Control characters are dropped first: the database must be able to store whatever passes. */
const nonBlank = (what: string, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? cleanText(v) : v),
    z
      .string({ error: `${what} must be a string` })
      .trim()
      .min(1, `${what} must not be empty`)
      .max(max, `${what} must be at most ${max} characters`),
  );
/** Handoff ids as the hub issues them (HO-…); anything else cannot exist. */
const HANDOFF_ID = /^[A-Za-z0-9_-]{1,64}$/;

const loginBody = z.object({ username: nonBlank('username', 64), password: z.string({ error: 'password must be a string' }).min(1, 'password must not be empty').max(1024) });
const messageBody = z.object({ text: nonBlank('text', MAX_AGENT_MESSAGE_LENGTH) });
const resolveBody = z.object({ note: nonBlank('note', 2000) });
const listQuery = z.object({ status: z.enum(['queued', 'active', 'resolved'], { error: 'status must be queued, active or resolved' }).optional() });

function sendJson(res: Response, status: number, body: unknown): void {
  res.sendRaw(status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
}

/** The parsed input, or undefined after answering 400 with every problem. */
function parse<T>(res: Response, schema: z.ZodType<T>, input: unknown, what: 'body' | 'query'): T | undefined {
  if (what === 'body' && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    sendJson(res, 400, { error: 'invalid_request', message: 'the body must be a JSON object (Content-Type: application/json)' });
    return undefined;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`);
  sendJson(res, 400, { error: 'invalid_request', message: problems.join('; '), problems });
  return undefined;
}

function queryOf(req: Request): Record<string, string> {
  return Object.fromEntries(new URL(req.url ?? '/', 'http://local').searchParams);
}

export function registerAgentApi(server: Server, deps: AgentApiDeps): void {
  const { hub, auth, db, clock, logger } = deps;
  const timeZone = deps.timeZone ?? 'Asia/Shanghai';

  /** Turns the hub's refusals into their status codes; anything else is our fault (500, logged). */
  const handle =
    (route: string, fn: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        await fn(req, res);
      } catch (err) {
        if (err instanceof HubError) return sendJson(res, err.status, { error: err.code, message: err.message });
        logger.error({ err, route }, 'agent api failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'something went wrong on our side' });
      }
    };

  /** A handoff route: the caller must be an agent (or supervisor); ids unlike any we issue are simply unknown. */
  const forHandoff =
    (fn: (id: string, viewer: StaffIdentity, req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      const viewer = await auth.authorize(req, res, ['agent']);
      if (!viewer) return;
      const id = req.params.id ?? '';
      if (!HANDOFF_ID.test(id)) throw new HubError(404, 'not_found', 'no such handoff');
      await fn(id, viewer, req, res);
    };

  const audit = (username: string, action: string, details: Record<string, unknown>) =>
    db.auditLog.create({ data: { at: clock(), actor: `agent:${username}`, action, borrowerId: null, conversationId: null, details: JSON.stringify(details) } });

  server.post(
    '/api/agent/login',
    handle('login', async (req, res) => {
      const body = parse(res, loginBody, req.body, 'body');
      if (!body || deps.loginWithinLimits?.(req, res, body.username) === false) return;
      const session = await auth.login(body.username, body.password);
      if (!session) {
        await audit(body.username, 'staff.login_failed', {});
        return sendJson(res, 401, { error: 'invalid_credentials', message: 'wrong username or password' });
      }
      await audit(session.identity.username, 'staff.login', { role: session.identity.role });
      sendJson(res, 200, { token: session.token, expiresAt: session.expiresAt, username: session.identity.username, role: session.identity.role });
    }),
  );

  server.get(
    '/api/agent/handoffs',
    handle('list', async (req, res) => {
      const viewer = await auth.authorize(req, res, ['agent']);
      if (!viewer) return;
      const query = parse(res, listQuery, queryOf(req), 'query');
      if (!query) return;
      sendJson(res, 200, { handoffs: await hub.list(viewer, query.status) });
    }),
  );

  server.post(
    '/api/agent/handoffs/:id/claim',
    handle(
      'claim',
      forHandoff(async (id, viewer, _req, res) => sendJson(res, 200, await hub.claim(id, viewer))),
    ),
  );

  server.get(
    '/api/agent/handoffs/:id/transcript',
    handle(
      'transcript',
      forHandoff(async (id, viewer, _req, res) => sendJson(res, 200, await hub.transcript(id, viewer))),
    ),
  );

  server.post(
    '/api/agent/handoffs/:id/messages',
    handle(
      'message',
      forHandoff(async (id, viewer, req, res) => {
        const body = parse(res, messageBody, req.body, 'body');
        if (body) sendJson(res, 201, await hub.sendAgentMessage(id, viewer, body.text));
      }),
    ),
  );

  server.post(
    '/api/agent/handoffs/:id/resolve',
    handle(
      'resolve',
      forHandoff(async (id, viewer, req, res) => {
        const body = parse(res, resolveBody, req.body, 'body');
        if (body) sendJson(res, 200, await hub.resolve(id, viewer, body.note));
      }),
    ),
  );

  server.get(
    '/api/agent/load',
    handle('load', async (req, res) => {
      if (!(await auth.authorize(req, res, ['supervisor']))) return;
      const dayStart = DateTime.fromJSDate(clock(), { zone: timeZone }).startOf('day').toJSDate();
      sendJson(res, 200, await hub.agentLoad(dayStart));
    }),
  );

  // Server-Sent Events: one `data:` line of JSON (a HubEvent) per event. Message events only reach
  // those who may read that handoff; the rest carry nothing but an id.
  server.get(
    '/api/agent/events',
    handle('events', async (req, res) => {
      const viewer = await auth.authorize(req, res, ['agent'], { allowQueryToken: true });
      if (!viewer) return;
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      res.write('retry: 3000\n: connected\n\n');
      // The visibility check is async: chaining keeps events in the order they were published.
      let chain = Promise.resolve();
      const listener = (event: HubEvent) => {
        chain = chain
          .then(async () => {
            if (event.type === 'message' && !(await hub.canView(event.handoffId, viewer))) return;
            res.write(`data: ${JSON.stringify(event)}\n\n`);
          })
          .catch((err: unknown) => logger.warn({ err }, 'agent events: event not sent'));
      };
      // Resolves when the client goes away or the hub shuts down; until then the handler holds the response.
      await new Promise<void>((resolve) => {
        const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
        const unsubscribe = hub.subscribe(listener, () => res.end());
        res.once('close', () => {
          clearInterval(heartbeat);
          unsubscribe();
          resolve();
        });
      });
    }),
  );
}
