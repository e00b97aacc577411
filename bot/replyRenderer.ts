import { renderCopy, type CopyParams } from '../dialogs/copy';
import type { Dialogs } from '../dialogs/loadDialogs';
import type { Locale } from '../dialogs/schemas';
import type { Reply } from '../machines/conversationTypes';
import { mergeObjects } from '../machines/mergeObjects';

/** A reply as the channels receive it: a Bot Framework message activity in plain JSON. */
export interface OutboundActivity {
  type: 'message';
  text: string;
  textFormat: 'markdown';
  locale: Locale;
  inputHint: 'expectingInput';
  suggestedActions?: { to: string[]; actions: Array<{ type: 'imBack'; title: string; value: string }> };
}

/** A Bot Framework event activity the bot sends a channel, e.g. `handoff.initiate`. */
export interface EventActivity {
  type: 'event';
  name: string;
  value: unknown;
  attachments?: Array<{ contentType: string; content: unknown }>;
}

export type ChannelActivity = OutboundActivity | EventActivity;

/** Renders the machine's replies in one language; values `{ copy }` are messages too. */
export function renderReplies(dialogs: Dialogs, locale: Locale, replies: readonly Reply[], recipientId: string): OutboundActivity[] {
  const lenderParams = {
    lender: dialogs.lender.name[locale],
    hotline: dialogs.lender.hotline,
    hours: dialogs.lender.hours[locale],
    repaymentMethods: dialogs.lender.repaymentMethods[locale],
    crisisHotline: dialogs.lender.crisisHotline[locale],
  };
  const text = (key: string, params: Reply['parts'][number]['params'] = {}) => {
    const values = Object.fromEntries(
      Object.entries(params).map(([name, value]) => [name, typeof value === 'object' ? renderCopy(dialogs.copy, locale, value.copy) : value]),
    );
    return renderCopy(dialogs.copy, locale, key, mergeObjects(lenderParams, values) as CopyParams);
  };
  return replies.map((r) => ({
    type: 'message',
    text: r.parts.map((p) => text(p.key, p.params)).join('\n\n'),
    textFormat: 'markdown',
    locale,
    inputHint: 'expectingInput',
    ...(r.actions?.length
      ? {
          // imBack sends the title as the borrower's own words: buttons and typing are the same.
          suggestedActions: {
            to: [recipientId],
            actions: r.actions.map((action) => {
              const title = typeof action === 'string' ? text(`actions.${action}`) : text(action.key, action.params);
              return { type: 'imBack' as const, title, value: title };
            }),
          },
        }
      : {}),
  }));
}
