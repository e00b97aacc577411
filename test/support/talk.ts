/** Talks to a running bot over real HTTP, as a Bot Framework channel with expectReplies does. */
export interface ReplyActivity {
  type: string;
  text?: string;
  locale?: string;
  suggestedActions?: { actions: Array<{ title: string; value: string }> };
  [key: string]: unknown;
}

export interface TurnResult {
  status: number;
  replies: ReplyActivity[];
  /** Everything a person would read: texts and button titles. */
  text: string;
  body: unknown;
}

let seq = 0;

export function messageActivity(conversation: string, text: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'message',
    id: `act-${Date.now()}-${++seq}`,
    channelId: 'test',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: `user-${conversation}`, name: 'borrower' },
    recipient: { id: 'bot', name: 'bot' },
    conversation: { id: conversation },
    text,
    locale: 'zh-CN',
    timestamp: new Date().toISOString(),
    deliveryMode: 'expectReplies',
    ...extra,
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<TurnResult> {
  const res = await fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const raw = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(raw);
  } catch {
    json = raw;
  }
  const replies = ((json as { activities?: ReplyActivity[] } | null)?.activities ?? []) as ReplyActivity[];
  const text = replies
    .flatMap((a) => [a.text ?? '', ...(a.suggestedActions?.actions ?? []).map((s) => s.title)])
    .join('\n');
  return { status: res.status, replies, text, body: json };
}

export function say(url: string, conversation: string, text: string, extra: Record<string, unknown> = {}): Promise<TurnResult> {
  return post(url, messageActivity(conversation, text, extra));
}

/** Amounts as plain "1152.60" strings, thousands separators removed. */
export function amountsIn(text: string): string[] {
  return text.replace(/(\d),(?=\d{3})/g, '$1').match(/\d+\.\d{2}(?!\d)/g) ?? [];
}
