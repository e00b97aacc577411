import { z } from 'zod';

/**
 * The parts of an inbound Bot Framework activity the bot relies on; anything else passes through.
 * What a turn stores in its own columns is checked here, so that no input can make the database
 * refuse a turn's write (PostgreSQL rejects NUL in text): identifiers must be free of control
 * characters (400), message text has them removed.
 */
export const MAX_TEXT_LENGTH = 10_000;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** C0/C1 controls but tab and line breaks, and UTF-16 halves without their other half. */
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text as a turn may store and show it: controls dropped, broken surrogates replaced. */
export function cleanText(text: string): string {
  return text.replace(UNPRINTABLE, (c) => (c.length === 1 && c >= '\ud800' && c <= '\udfff' ? '\ufffd' : ''));
}

const identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => !CONTROL.test(v), 'must not contain control characters');

const account = z.looseObject({ id: identifier(256), name: z.string().max(256).optional() });

export const inboundActivitySchema = z.looseObject({
  type: z.string().min(1).max(64),
  id: identifier(256).optional(),
  channelId: identifier(64),
  serviceUrl: z.url({ protocol: /^https?$/ }).max(2048),
  from: account,
  recipient: account.optional(),
  conversation: z.looseObject({ id: identifier(512) }),
  // Longer text is refused rather than cut: a cut message could change its meaning (an amount, a "not").
  text: z.string().max(MAX_TEXT_LENGTH, `text is longer than ${MAX_TEXT_LENGTH} characters`).transform(cleanText).optional(),
  locale: z.string().max(32).optional(),
  timestamp: z.string().max(64).optional(),
  deliveryMode: z.enum(['normal', 'notification', 'expectReplies', 'ephemeral']).optional(),
  attachments: z
    .array(z.looseObject({ contentType: z.string().max(256), contentUrl: z.string().max(15_000_000).optional(), name: z.string().max(255).optional() }))
    .max(10)
    .optional(),
  membersAdded: z.array(z.looseObject({ id: z.string().max(256).optional() })).max(50).optional(),
  value: z.unknown().optional(),
  channelData: z.unknown().optional(),
});

export type InboundActivity = z.output<typeof inboundActivitySchema>;

/** "field: reason" for each problem, for the 400 answer. */
export function describeActivityProblems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(activity)'}: ${i.message}`);
}
