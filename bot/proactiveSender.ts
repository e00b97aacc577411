import type { OutboundActivity } from './replyRenderer';

/**
 * Messages the bot or an agent sends outside a borrower's turn (an agent's reply, a review
 * outcome, a reminder). Implementations store them in the conversation's transcript first, then
 * deliver them through the conversation's stored reference.
 */
export interface ProactiveSender {
  send(conversationId: string, activities: OutboundActivity[], options?: { direction?: 'out' | 'agent'; from?: { id: string; name: string } }): Promise<void>;
}
