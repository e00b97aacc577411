import type { CloudAdapter, ConversationReference, Activity } from 'botbuilder';
import type { Db } from '../db/client';
import type { Logger } from './logger';
import { DIRECT_LINE_CHANNEL_ID } from './directLine';
import type { ProactiveSender } from './proactiveSender';

/**
 * Messages outside a borrower's turn (an agent's words, the bot taking over again): stored in the
 * transcript first, then delivered through the conversation's stored reference.
 */
export function createProactiveSender(deps: { db: Db; adapter: CloudAdapter; appId?: string; clock: () => Date; logger: Logger }): ProactiveSender {
  const { db, adapter, clock, logger } = deps;
  return {
    async send(conversationId, activities, options = {}) {
      const direction = options.direction ?? 'out';
      try {
        const conversation = await db.conversation.findUnique({ where: { id: conversationId }, select: { reference: true } });
        if (!conversation) throw new Error(`unknown conversation ${conversationId}`);
        const reference = JSON.parse(conversation.reference) as ConversationReference;
        const now = clock();
        // Stamped as bot/turnPipeline.ts stamps a turn's replies; an agent's message carries the agent as sender.
        const stamped = activities.map((a) => ({
          ...a,
          from: { ...(options.from ?? reference.bot), role: 'bot' },
          recipient: reference.user,
          conversation: reference.conversation,
          timestamp: now.toISOString(),
        }));
        // One insert per message keeps their ids in order (the Direct Line watermark relies on it).
        for (const activity of stamped) {
          await db.message.create({ data: { conversationId, direction, activityId: null, text: activity.text, activity: JSON.stringify(activity), createdAt: now } });
        }
        // Our own Direct Line serves the page from the transcript: storing the message delivered it.
        if (reference.channelId === DIRECT_LINE_CHANNEL_ID) return;
        await adapter.continueConversationAsync(deps.appId ?? '', reference, async (context) => {
          // botbuilder makes every message a reply to the turn's (synthetic) continuation event; a
          // proactive message replies to nothing, so it is posted to the conversation itself.
          context.onSendActivities(async (_context, outgoing, next) => {
            for (const a of outgoing) delete a.replyToId;
            return next();
          });
          // The bot, not the agent, is the sender on the wire: channels accept only the bot's own id.
          await context.sendActivities(activities.map((a): Partial<Activity> => ({ ...a })));
        });
      } catch (err) {
        logger.error({ err, conversationId, direction, count: activities.length }, 'proactive send failed');
        throw err;
      }
    },
  };
}
