/**
 * `npm run chat [-- --url http://localhost:3978 --locale zh-CN|en]`: talk to a running bot from a
 * terminal, over the same HTTP protocol as any channel (POST /api/messages with
 * deliveryMode "expectReplies", so a turn's replies come back in the response).
 *
 * Messages the bot sends later on its own (an agent's reply, a reminder) go to the activity's
 * serviceUrl; this script listens there on a loopback port and prints them too (only when the
 * bot runs on this machine).
 *
 * Type a message and press Enter; a number picks one of the numbered actions; /quit exits.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import readline from 'node:readline';
import { parseArgs } from 'node:util';

interface Action {
  type?: string;
  title?: string;
  value?: unknown;
  text?: string;
  displayText?: string;
}

interface Activity {
  type?: string;
  name?: string;
  text?: string;
  suggestedActions?: { actions?: Action[] };
  attachments?: Array<{ contentType?: string; content?: unknown; contentUrl?: string; name?: string }>;
}

const USAGE = `Usage: npm run chat -- [--url http://localhost:3978] [--locale zh-CN|en]

Chat with a running bot. Type a message and press Enter; type a number to pick one of the
numbered actions; /quit (or Ctrl-D) exits.`;

function parseOptions(): { url: string; locale: 'zh-CN' | 'en' } {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:3978' },
      locale: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  let url: URL;
  try {
    url = new URL(values.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    console.error(`--url must be an http(s) URL such as http://localhost:3978, got "${values.url}"\n\n${USAGE}`);
    process.exit(2);
  }
  // The terminal's language when not given: staff usually want the bot in the language they read.
  const requested = values.locale ?? (/^zh/i.test(process.env.LC_ALL || process.env.LANG || '') ? 'zh-CN' : 'en');
  const locale = /^zh/i.test(requested) ? 'zh-CN' : /^en/i.test(requested) ? 'en' : undefined;
  if (!locale) {
    console.error(`--locale must be zh-CN or en, got "${requested}"\n\n${USAGE}`);
    process.exit(2);
  }
  return { url: url.origin + url.pathname.replace(/\/+$/, ''), locale };
}

/** Cards are shown as their text; their buttons join the numbered actions. */
function cardText(content: unknown): { lines: string[]; buttons: Action[] } {
  const lines: string[] = [];
  const buttons: Action[] = [];
  const c = (content ?? {}) as Record<string, unknown>;
  for (const key of ['title', 'subtitle', 'text']) if (typeof c[key] === 'string' && c[key]) lines.push(String(c[key]));
  if (Array.isArray(c.buttons)) buttons.push(...(c.buttons as Action[]));
  // Adaptive Cards: TextBlocks (nested in containers/columns) and submit actions.
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'TextBlock' && typeof n.text === 'string') lines.push(n.text);
    if (n.type === 'Action.Submit') buttons.push({ type: 'postBack', title: String(n.title ?? ''), value: n.data });
    for (const k of ['body', 'items', 'columns', 'actions']) if (k in n) walk(n[k]);
  };
  if (Array.isArray(c.body)) walk(c.body);
  if (Array.isArray(c.actions)) walk(c.actions);
  return { lines, buttons };
}

class Chat {
  private actions: Action[] = [];
  private readonly conversationId = `cli-${randomUUID()}`;
  private readonly user = { id: `cli-user-${randomUUID().slice(0, 8)}`, name: 'Terminal', role: 'user' };
  private readonly bot = { id: 'repayment-assistant', role: 'bot' };

  constructor(
    private readonly url: string,
    private readonly locale: string,
    private readonly serviceUrl: string,
  ) {}

  /** Prints the replies of one turn; the newest actions replace the numbered list. */
  show(activities: Activity[], prefix = ''): void {
    for (const a of activities) {
      if (a.type === 'typing') continue;
      if (a.type !== 'message') {
        console.log(`${prefix}  [${a.type}${a.name ? ` ${a.name}` : ''}]`);
        continue;
      }
      const actions: Action[] = [];
      if (a.text) console.log(`${prefix}${a.text.replace(/^/gm, '  ')}`);
      for (const att of a.attachments ?? []) {
        if (att.contentType?.startsWith('application/vnd.microsoft.card.')) {
          const { lines, buttons } = cardText(att.content);
          for (const l of lines) console.log(`${prefix}  │ ${l}`);
          actions.push(...buttons);
        } else {
          console.log(`${prefix}  [attachment ${att.contentType ?? '?'}${att.name ? ` ${att.name}` : ''}]`);
        }
      }
      actions.push(...(a.suggestedActions?.actions ?? []));
      if (actions.length) {
        this.actions = actions;
        actions.forEach((act, i) => {
          const url = act.type === 'openUrl' ? ` → ${String(act.value)}` : '';
          console.log(`${prefix}   ${i + 1}. ${act.title ?? act.displayText ?? String(act.value ?? '')}${url}`);
        });
      }
    }
  }

  /** What a channel sends when the user taps action n (as Web Chat does); null when nothing is
   *  sent (a link), undefined when there is no such action. */
  actionActivity(n: number): Record<string, unknown> | null | undefined {
    const act = this.actions[n - 1];
    if (!act) return undefined;
    switch (act.type) {
      case 'openUrl':
        console.log(`  (open ${String(act.value)} in a browser)`);
        return null;
      case 'messageBack':
        return { text: act.text, value: act.value, channelData: act.displayText ? { messageBack: { displayText: act.displayText } } : undefined };
      case 'postBack':
        return typeof act.value === 'string' ? { text: act.value } : { value: act.value };
      default: // imBack and anything else carrying a value
        return { text: typeof act.value === 'string' ? act.value : act.title };
    }
  }

  async send(fields: Record<string, unknown>): Promise<Activity[]> {
    const activity = {
      type: 'message',
      id: randomUUID(),
      channelId: 'emulator',
      serviceUrl: this.serviceUrl,
      deliveryMode: 'expectReplies',
      conversation: { id: this.conversationId },
      from: this.user,
      recipient: this.bot,
      locale: this.locale,
      timestamp: new Date().toISOString(),
      localTimestamp: new Date().toISOString(),
      ...fields,
    };
    let res: Response;
    try {
      res = await fetch(`${this.url}/api/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(activity),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new Error(unreachable(this.url, err));
    }
    const body = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new Error(
        `The bot at ${this.url} requires Bot Framework authentication (HTTP ${res.status}). ` +
          'The terminal chat works with a bot in local anonymous mode (MicrosoftAppId empty).',
      );
    }
    if (!res.ok) throw new Error(`The bot answered HTTP ${res.status}: ${body.slice(0, 500)}`);
    if (!body) return [];
    try {
      return ((JSON.parse(body) as { activities?: Activity[] }).activities ?? []) as Activity[];
    } catch {
      throw new Error(`The bot's answer is not JSON: ${body.slice(0, 200)}`);
    }
  }
}

function unreachable(url: string, err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? (e?.name === 'TimeoutError' ? 'TimeoutError' : undefined);
  const reason =
    cause === 'ECONNREFUSED' ? 'connection refused'
    : cause === 'ENOTFOUND' ? 'unknown host'
    : cause === 'TimeoutError' ? 'no answer within 60 s'
    : (cause ?? e?.cause?.message ?? e?.message ?? String(err));
  return `Cannot reach the bot at ${url} (${reason}). Is it running? Start it with \`npm start\`, or pass --url.`;
}

/** Receives what the bot sends on its own to serviceUrl (Bot Framework connector API). */
function startServiceUrlListener(onActivity: (a: Activity) => void): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && /^\/v3\/conversations\/[^/]+\/activities(\/[^/]+)?$/.test(req.url?.split('?')[0] ?? '')) {
        try {
          onActivity(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Activity);
        } catch {
          /* not an activity: ignore */
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: randomUUID() }));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const { url, locale } = parseOptions();
  let rl: readline.Interface | undefined;
  let chat: Chat | undefined;
  const listener = await startServiceUrlListener((a) => {
    // Printed above the prompt, as it arrives between turns.
    if (rl && process.stdout.isTTY) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
    }
    chat?.show([a], '');
    rl?.prompt(true);
  });
  const serviceUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/`;
  chat = new Chat(url, locale, serviceUrl);

  const fail = (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    listener.close();
    process.exit(1);
  };

  console.log(`还款助手 · Repayment Assistant: ${url} (${locale}). Type /quit to exit.\n`);
  // What a channel sends when the user opens the chat; the bot may greet.
  try {
    chat.show(await chat.send({ type: 'conversationUpdate', membersAdded: [{ id: 'cli-user', role: 'user' }] }));
  } catch (err) {
    return fail(err);
  }

  rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: '> ', terminal: process.stdin.isTTY });
  rl.prompt();
  // One line at a time: the next message waits for the previous turn's replies (also when piped).
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === '/quit' || line === '/exit') break;
    if (line === '') {
      rl.prompt();
      continue;
    }
    let fields: Record<string, unknown> | undefined = { text: line };
    if (/^\d{1,2}$/.test(line)) {
      // A number with no such action is sent as typed (e.g. an answer the bot asked for).
      const picked = chat.actionActivity(Number(line));
      if (picked !== undefined) fields = picked ?? undefined;
    }
    if (!fields) {
      rl.prompt();
      continue;
    }
    try {
      chat.show(await chat.send(fields));
    } catch (err) {
      // Keep the session when the bot restarts; a second attempt may work.
      console.error(err instanceof Error ? err.message : String(err));
    }
    rl.prompt();
  }
  rl.close();
  listener.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
