/**
 * For the agent hub's tests: a stand-in Bot Framework channel that records what the bot posts to
 * its serviceUrl, an Agent API client, and a reader for the Server-Sent Events stream.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDatabase } from '../../db/client';
import { createStaffAuth, type StaffAccountInput } from '../../bot/staffAuth';
import type { HubEvent } from '../../bot/handoffHub';

export interface ChannelPost {
  path: string;
  activity: { type?: string; text?: string; [key: string]: unknown };
}

export interface Channel {
  /** The serviceUrl to put in activities / conversation references (ends with "/"). */
  url: string;
  posts: ChannelPost[];
  /** Resolves with the first post (already received or still to come) that matches. */
  waitFor(match: (p: ChannelPost) => boolean, timeoutMs?: number): Promise<ChannelPost>;
  close(): Promise<void>;
}

async function until<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startChannel(): Promise<Channel> {
  const posts: ChannelPost[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      try {
        posts.push({ path: req.url ?? '', activity: JSON.parse(body) as ChannelPost['activity'] });
      } catch {
        posts.push({ path: req.url ?? '', activity: {} });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `r${posts.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    posts,
    waitFor: (match, timeoutMs = 10_000) => until(() => posts.find(match), 'a post to the channel', timeoutMs),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates accounts through the same code as `npm run agent:create`. */
export async function createStaffAccounts(databaseUrl: string, accounts: StaffAccountInput[]): Promise<void> {
  const database = await openDatabase(databaseUrl);
  try {
    const auth = createStaffAuth({ db: database.prisma, secret: 'not-used-for-hashing', clock: () => new Date() });
    for (const a of accounts) await auth.saveAccount(a);
  } finally {
    await database.close();
  }
}

export interface ApiResult {
  status: number;
  /** Parsed JSON (each test asserts its shape), or the raw text. */
  body: any;
}

/** One Agent API call; `body` as a string is sent as it is (for malformed JSON). */
export async function agentApi(baseUrl: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<ApiResult> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const r = await agentApi(baseUrl, undefined, 'POST', '/api/agent/login', { username, password });
  if (r.status !== 200) throw new Error(`login as ${username}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token as string;
}

export interface EventStream {
  status: number;
  events: HubEvent[];
  /** Comment lines (": …"), e.g. the heartbeat. */
  comments: string[];
  next(match: (e: HubEvent) => boolean, timeoutMs?: number): Promise<HubEvent>;
  close(): void;
}

/** Opens GET /api/agent/events with fetch (header auth) or, like EventSource, with `?token=`. */
export async function openEventStream(baseUrl: string, token: string, how: 'header' | 'query' = 'header'): Promise<EventStream> {
  const abort = new AbortController();
  const url = `${baseUrl}/api/agent/events${how === 'query' ? `?token=${encodeURIComponent(token)}` : ''}`;
  const res = await fetch(url, { headers: how === 'header' ? { authorization: `Bearer ${token}` } : {}, signal: abort.signal });
  const events: HubEvent[] = [];
  const comments: string[] = [];
  if (res.ok && res.body) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            for (const line of block.split('\n')) {
              if (line.startsWith('data: ')) events.push(JSON.parse(line.slice(6)) as HubEvent);
              else if (line.startsWith(':')) comments.push(line.slice(1).trim());
            }
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  } else {
    await res.body?.cancel();
  }
  return {
    status: res.status,
    events,
    comments,
    next: (match, timeoutMs = 10_000) => until(() => events.find(match), 'an event on the stream', timeoutMs),
    close: () => abort.abort(),
  };
}
