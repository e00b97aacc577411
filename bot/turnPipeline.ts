import { setTimeout as sleep } from 'node:timers/promises';
import type { Locale } from '../dialogs/schemas';
import { ConcurrentTurnError, type ConversationStore, type StoredConversation, type StoredMessage } from '../db/conversationStore';
import { agentsWorking } from '../machines/domain/agentHours';
import { isLocalDate, localDateOf } from '../machines/domain/calendar';
import { extractComplaintCategory } from '../machines/recognition/entities/complaintCategory';
import { extractPaymentMethod } from '../machines/recognition/entities/paymentMethod';
import { extractTransactionReference } from '../machines/recognition/entities/transactionReference';
import type { ConversationContext } from '../machines/conversationMachine';
import type {
  ComplaintCategory, ConversationEvent, HandoffAcceptedEvent, HandoffResolvedEvent, HubConversationEvent, PaymentMethod, Reply, TurnRecord,
} from '../machines/conversationTypes';
import { maskSpans } from '../machines/recognition/identityEntities';
import { localeFromTag } from '../machines/recognition/language';
import type { Recognition } from '../machines/recognition/recognizer';
import { runMachineTurn } from '../machines/turnRuntime';
import type { InboundActivity } from './activitySchema';
import type { Clock } from './clock';
import type { DialogsRuntime } from './dialogsRuntime';
import type { HubEvent } from './handoffHub';
import { createKeyedQueue } from './keyedQueue';
import type { Logger } from './logger';
import type { ProactiveSender } from './proactiveSender';
import { renderReplies, type ChannelActivity, type EventActivity, type OutboundActivity } from './replyRenderer';
import { mergeObjects } from '../machines/mergeObjects';

/** What a turn runs on: dialogs, recogniser, escalation rules, machine (one dialogs version's). */
export type TurnRuntime = Omit<DialogsRuntime, 'versionId'>;

export interface TurnPipelineDeps {
  store: ConversationStore;
  /** Asked at the start of every turn, so a newly published dialogs version applies to the next turn. */
  runtime: () => Promise<TurnRuntime>;
  clock: Clock;
  logger: Logger;
  timeZone: string;
}

/** Where a turn's outcome goes besides the replies: the agent hub and proactive delivery (wired at start). */
export interface TurnPipelineLinks {
  publish(event: HubEvent): void;
  proactive: ProactiveSender;
}

/** Each conflict means another instance made progress on the conversation, so retrying is safe; give up only after this long. */
const RETRY_BUDGET_MS = 10_000;

export const conversationIdOf = (a: Pick<InboundActivity, 'channelId' | 'conversation'>) => `${a.channelId}:${a.conversation.id}`;

/** A conversationUpdate that adds someone other than the bot: the borrower opened the chat. */
function userJoined(activity: InboundActivity): boolean {
  if (activity.type !== 'conversationUpdate') return false;
  const added = (activity as { membersAdded?: Array<{ id?: string }> }).membersAdded ?? [];
  return added.some((m) => m.id !== undefined && m.id !== activity.recipient?.id);
}

/** An external agent hub's `handoff.status` event, as the machine's event. */
function handoffStatusEvent(activity: InboundActivity): HandoffAcceptedEvent | HandoffResolvedEvent | undefined {
  if (activity.type !== 'event' || (activity as { name?: string }).name !== 'handoff.status') return undefined;
  const state = (activity.value as { state?: string } | undefined)?.state;
  if (state === 'accepted') return { type: 'HANDOFF_ACCEPTED', agent: 'external' };
  if (state === 'completed' || state === 'failed') return { type: 'HANDOFF_RESOLVED' };
  return undefined;
}

/**
 * A date as a day already past: "11月20日" said on Nov 22 is this year's, said on Nov 10 last
 * year's (unless a year was written). A payment cannot be dated in the future.
 */
function asPastDate(date: string, text: string, today: string): string | undefined {
  if (date <= today) return date;
  // A year written out ("2025年11月20日", "2025-11-20", "Nov 20 2025") is kept as given.
  if (/(?<!\d)(?:19|20)\d{2}(?:\s*年|[-/.]\d)|[a-z]{3,}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2}/i.test(text.normalize('NFKC'))) return undefined;
  const lastYear = `${Number(date.slice(0, 4)) - 1}${date.slice(4)}`;
  return isLocalDate(lastYear) && lastYear <= today ? lastYear : undefined;
}

/** The language asked for: "说中文" / "English please" name it; otherwise the one they wrote in. */
function requestedLanguage(text: string, written: Locale | undefined): Locale {
  if (/中文|汉语|普通话|chinese|mandarin/i.test(text)) return 'zh-CN';
  if (/英文|英语|english/i.test(text)) return 'en';
  return written ?? 'zh-CN';
}

/** What one turn runs on. A borrower's message brings its activity; a hub event only the stored conversation. */
interface TurnInput {
  conversationId: string;
  activity?: InboundActivity;
  /** The machine events, given what the conversation knew before the turn and the runtime of this turn. */
  events(previous: Partial<ConversationContext> | undefined, stored: StoredConversation | null, now: Date, runtime: TurnRuntime): { events: ConversationEvent[]; recognized?: Recognition };
  /** Replies go back in the HTTP answer (a turn) or out through the stored reference (a hub event). */
  delivery: 'reply' | 'proactive';
}

/**
 * One turn, one direction: load the conversation → recognize → machine events → machine →
 * replies and records → one transaction (version-checked) → return the replies to send.
 * A concurrent turn on the same conversation makes the commit fail; the turn then re-runs on
 * top of the other one's result, so nothing is overwritten.
 */
export function createTurnPipeline(deps: TurnPipelineDeps) {
  const { store, clock, logger, timeZone } = deps;
  let links: TurnPipelineLinks | undefined;

  /** The rules' phrases, plus the rule the recogniser named ("不是我借的" understood as a dispute in other words). */
  const signalsOf = ({ dialogs, escalation }: TurnRuntime, intent: string, text: string) => {
    const found = escalation(text);
    const rule = dialogs.escalation.find((r) => r.id === intent);
    const named = rule ? { rule: rule.id, priority: rule.priority, times: rule.times ?? 1 } : undefined;
    return named && !found.some((s) => s.rule === intent) ? [...found, named] : found;
  };
  const signals = (runtime: TurnRuntime, intent: string, confidence: number, text: string, now: Date): ConversationEvent => ({
    type: 'SIGNALS',
    intent,
    confidence,
    signals: signalsOf(runtime, intent, text),
    agentsAvailable: agentsWorking(now, timeZone, runtime.dialogs.handoff.agentHours),
    priorities: runtime.dialogs.handoff.priorities,
    expectedWaitMinutes: runtime.dialogs.handoff.expectedWaitMinutes,
  });

  /** What a message says about a payment or a complaint: method, reference, category, a past date, a file. */
  function paymentEntities(activity: InboundActivity, text: string, recognized: Recognition, expecting: string | undefined, now: Date) {
    const titled = (prefix: string) => (recognized.intent.startsWith(prefix) ? recognized.intent.slice(prefix.length) : undefined);
    const method = (titled('method.') as PaymentMethod | undefined) ?? extractPaymentMethod(text);
    const category = (titled('category.') as ComplaintCategory | undefined) ?? extractComplaintCategory(text);
    const reference = extractTransactionReference(text, { expecting });
    const pastDate = recognized.entities.date ? asPastDate(recognized.entities.date, text, localDateOf(now, timeZone)) : undefined;
    const first = activity.attachments?.find((a) => typeof (a as { contentUrl?: unknown }).contentUrl === 'string') as { contentUrl: string; contentType?: string; name?: string } | undefined;
    const attachment = first ? { contentUrl: first.contentUrl, ...(first.contentType ? { contentType: first.contentType } : {}), ...(first.name ? { name: first.name } : {}), channelHost: new URL(activity.serviceUrl).host } : undefined;
    return {
      ...(method ? { method } : {}),
      ...(category ? { category } : {}),
      ...(reference ? { reference } : {}),
      ...(pastDate ? { pastDate } : {}),
      ...(attachment ? { attachment } : {}),
    };
  }

  function messageEvents(activity: InboundActivity, joined: boolean) {
    return (previous: Partial<ConversationContext> | undefined, stored: StoredConversation | null, now: Date, runtime: TurnRuntime) => {
      const { recognizer, dialogs } = runtime;
      const idleMinutes = dialogs.identity.sessionIdleMinutes;
      const text = joined ? '' : (activity.text ?? '');
      // A borrower opening the chat is greeted as if they had said hello.
      const heard = joined
        ? { ...recognizer('', {}), intent: 'greeting' }
        : recognizer(text, { expecting: previous?.expecting, now, timeZone, verified: previous?.borrower !== undefined });
      // A file sent without words is a proof of payment, not something misunderstood.
      const recognized = heard.intent === 'none' && activity.attachments?.length ? { ...heard, intent: 'alreadyPaid' } : heard;
      const events: ConversationEvent[] = [];
      if (stored?.borrowerId && now.getTime() - stored.lastActivityAt.getTime() > idleMinutes * 60_000) {
        events.push({ type: 'SESSION_EXPIRED', idleMinutes });
      }
      const { identity, amount, date, count, hardship } = recognized.entities;
      const { phone, idLast4, birthDate, invalid } = identity;
      const payment = paymentEntities(activity, text, recognized, previous?.expecting, now);
      const alternatives = recognized.intent === 'none' ? (recognized.alternatives ?? []).map((a) => a.intent).filter((i) => `actions.${i}` in dialogs.copy['zh-CN']) : [];
      events.push(signals(runtime, recognized.intent, recognized.confidence, text, now), {
        type: 'MESSAGE',
        text,
        intent: recognized.intent,
        identity: { phone, idLast4, birthDate, invalid },
        ...(amount !== undefined ? { amount } : {}),
        ...(date !== undefined ? { date } : {}),
        ...(count !== undefined ? { count } : {}),
        ...(hardship !== undefined ? { hardship } : {}),
        ...payment,
        ...(alternatives.length ? { alternatives } : {}),
        ...(recognized.intent === 'changeLanguage' ? { switchTo: requestedLanguage(text, recognized.language) } : {}),
        now: now.toISOString(),
      });
      return { events, recognized };
    };
  }

  async function attempt(input: TurnInput): Promise<ChannelActivity[]> {
    const { conversationId, activity } = input;
    // A channel retrying an activity it already sent gets the same answer; nothing runs twice.
    const processedKey = activity?.id ? `${conversationId}:${activity.id}` : undefined;
    const { stored, earlier, optedOut } = await store.start(conversationId, processedKey);
    if (earlier) return earlier as ChannelActivity[];
    if (!activity && !stored) throw new Error(`conversation ${conversationId} does not exist`);
    const now = clock();
    const previous = (stored?.snapshot as { context?: Partial<ConversationContext> } | undefined)?.context;
    const runtime = await deps.runtime();
    const { dialogs } = runtime;
    const { events, recognized } = input.events(previous, stored, now, runtime);

    const turn = await runMachineTurn(runtime.machine, stored?.snapshot ?? null, { conversationId, now: now.toISOString() }, events);
    const replies: Reply[] = [];
    const records: TurnRecord[] = [];
    for (const e of turn.emitted) (e.type === 'reply' ? replies.push(e) : records.push(e.record));
    if (turn.reset) {
      replies.unshift({ type: 'reply', parts: [{ key: 'conversation.reset' }] });
      records.push({ kind: 'audit', action: 'conversation.reset', details: { flowVersion: stored?.flowVersion } });
    }

    const reference = activity
      ? {
          activityId: activity.id,
          user: activity.from,
          bot: activity.recipient ?? { id: 'bot', name: 'bot' },
          conversation: activity.conversation,
          channelId: activity.channelId,
          serviceUrl: activity.serviceUrl,
        }
      : (stored?.reference ?? {});
    const locale: Locale =
      turn.context.language ?? turn.context.borrower?.locale ?? recognized?.language ?? localeFromTag(stored?.locale) ?? localeFromTag(activity?.locale) ?? 'zh-CN';
    const user = (reference as { user?: { id: string } }).user ?? { id: 'user' };
    const bot = (reference as { bot?: { id: string; name?: string } }).bot ?? { id: 'bot', name: 'bot' };
    const outbound = renderReplies(dialogs, locale, replies, user.id);
    const from = mergeObjects(bot, { role: 'bot' });
    const stamp = (a: OutboundActivity) =>
      mergeObjects(a, {
        from,
        recipient: user,
        conversation: (reference as { conversation?: unknown }).conversation,
        ...(activity?.id ? { replyToId: activity.id } : {}),
        timestamp: now.toISOString(),
      });
    const text = activity?.type === 'message' ? (activity.text ?? '') : '';
    const maskedText = recognized ? maskSpans(text, recognized.entities.identity.spans) : text;
    const inbound: StoredMessage | null =
      activity?.type === 'message' ? { text: maskedText, activityId: activity.id, activity: { ...activity, text: maskedText } } : null;

    // The Bot Framework handoff protocol: tell the channel a person is needed, with the transcript.
    const handoffRecord = records.find((r) => r.kind === 'handoff');
    const { handoffIds } = await store.commitTurn({
      conversationId,
      channelId: activity?.channelId ?? stored?.channelId ?? 'unknown',
      locale,
      reference: mergeObjects(reference, { locale }),
      snapshot: turn.snapshot,
      flowVersion: runtime.flowVersion,
      borrowerId: turn.context.borrower?.id ?? null,
      expectedVersion: stored?.version ?? null,
      expectedBorrowerId: stored?.borrowerId ?? null,
      now,
      inbound,
      // Proactive replies are stored by the sender as it delivers them.
      outbound: input.delivery === 'reply' ? outbound.map((a) => ({ text: a.text, activity: stamp(a) })) : [],
      records,
      ...(processedKey && input.delivery === 'reply' ? { processed: { key: processedKey, replies: outbound } } : {}),
      mayHaveOptedOut: optedOut || (turn.context.borrower?.id ?? null) !== (stored?.borrowerId ?? null),
    });
    logger.info({ conversationId, intent: recognized?.intent, events: events.map((e) => e.type), state: (turn.snapshot as { value?: unknown }).value, replies: outbound.length }, 'turn');

    for (const handoffId of handoffIds) links?.publish({ type: 'handoff.queued', handoffId });
    if (inbound && turn.context.handoff && handoffIds.length === 0) {
      const open = await store.openHandoff(conversationId);
      if (open) links?.publish({ type: 'message', handoffId: open, conversationId, direction: 'in', text: maskedText, at: now.toISOString() });
    }
    const initiations = handoffIds.length && handoffRecord ? [await handoffInitiation(handoffIds[0] as string, handoffRecord, conversationId)] : [];
    if (input.delivery === 'proactive') {
      if (outbound.length) await links?.proactive.send(conversationId, outbound);
      return [];
    }
    return [...outbound, ...initiations];
  }

  async function handoffInitiation(handoffId: string, handoff: TurnRecord, conversationId: string): Promise<EventActivity> {
    const transcript = await store.activitiesAfter(conversationId, 0);
    return {
      type: 'event',
      name: 'handoff.initiate',
      value: { handoffId, ...(handoff.kind === 'handoff' ? { rule: handoff.rule, priority: handoff.priority, summary: handoff.summary } : {}) },
      attachments: [{ contentType: 'application/vnd.microsoft.activity.transcript', content: transcript.map((t) => t.activity) }],
    };
  }

  const queue = createKeyedQueue();
  function run(input: TurnInput): Promise<ChannelActivity[]> {
    return queue(input.conversationId, async () => {
      const giveUpAt = Date.now() + RETRY_BUDGET_MS;
      for (let n = 1; ; n++) {
        try {
          return await attempt(input);
        } catch (e) {
          if (!(e instanceof ConcurrentTurnError) || Date.now() > giveUpAt) throw e;
          await sleep(Math.random() * 10 * Math.min(n, 10));
        }
      }
    });
  }

  return {
    /** Connects the pipeline to the agent hub and proactive delivery, which need the pipeline in turn. */
    link(l: TurnPipelineLinks): void {
      links = l;
    },

    /** A turn for an inbound activity; returns the replies to send in answer. */
    async handle(activity: InboundActivity): Promise<ChannelActivity[]> {
      const conversationId = conversationIdOf(activity);
      const joined = userJoined(activity);
      const status = handoffStatusEvent(activity);
      if (status) return run({ conversationId, activity, delivery: 'reply', events: () => ({ events: [status] }) });
      if (activity.type !== 'message' && !joined) return [];
      return run({ conversationId, activity, delivery: 'reply', events: messageEvents(activity, joined) });
    },

    /** A turn for an event from the agent hub; the bot's replies go out proactively. */
    async deliver(conversationId: string, event: HubConversationEvent): Promise<void> {
      await run({ conversationId, delivery: 'proactive', events: () => ({ events: [event] }) });
    },
  };
}

export type TurnPipeline = ReturnType<typeof createTurnPipeline>;
