import Decimal from 'decimal.js';
import { z } from 'zod';

/** The zod schemas of everything in dialogs/: what staff edit is checked before the bot uses it. */
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

const localized = z.object({ 'zh-CN': z.string().min(1), en: z.string().min(1) });

const decimalText = (what: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `${what} must be a decimal written as text, e.g. "1.5"`)
    .transform((v) => new Decimal(v))
    .refine((d) => d.gte(min) && d.lte(max), `${what} must be between ${min} and ${max}`);

export const penaltyTermsSchema = z.object({
  multiplier: decimalText('multiplier', 0, 10),
  capAnnual: decimalText('capAnnual', 0, 1),
  dayBasis: z.union([z.literal(360), z.literal(365)]),
  compound: z.boolean(),
  lateFee: decimalText('lateFee', 0, 10000).refine((d) => d.decimalPlaces() <= 2, 'lateFee has at most 2 decimals'),
});

const days = (what: string, max: number) => z.number().int(`${what} is a whole number of days`).min(0).max(max);

export const planRulesSchema = z
  .object({
    selfServiceMaxDaysOverdue: days('selfServiceMaxDaysOverdue', 3650),
    installments: z
      .object({
        counts: z.array(z.number().int().min(2).max(60)).max(12).refine((c) => new Set(c).size === c.length, 'installment counts must not repeat'),
        minimumTotal: decimalText('minimumTotal', 0, 10_000_000),
        maxDaysOverdue: days('maxDaysOverdue', 3650),
      })
      .strict(),
    extension: z.object({ maxDays: days('maxDays', 365).min(1), maxDaysOverdue: days('maxDaysOverdue', 3650), oncePerDays: days('oncePerDays', 3650) }).strict(),
    waiver: z.object({ share: decimalText('share', 0, 1), payWithinDays: days('payWithinDays', 90).min(1), maxDaysOverdue: days('maxDaysOverdue', 3650) }).strict(),
    promise: z.object({ withinDays: days('withinDays', 90) }).strict(),
  })
  .strict();

export const HARDSHIP_REASONS = ['job_loss', 'illness', 'income_drop', 'business_trouble', 'other'] as const;
export type HardshipReason = (typeof HARDSHIP_REASONS)[number];
const OPTION_KINDS = ['installments', 'extension', 'waiver', 'promise'] as const;
const optionOrder = z
  .array(z.enum(OPTION_KINDS))
  .refine((o) => o.length === OPTION_KINDS.length && new Set(o).size === o.length, `list each of ${OPTION_KINDS.join(', ')} once`);

export const productsFileSchema = z
  .object({
    products: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'product codes are lower-case letters, digits, - and _'),
        z.object({ name: localized, penalty: penaltyTermsSchema, plans: planRulesSchema }).strict(),
      )
      .refine((p) => 'standard' in p, 'the default product "standard" must be defined'),
    /** The order options are offered in, by the reason a borrower gave for being behind. */
    hardshipOrder: z.object(Object.fromEntries([...HARDSHIP_REASONS, 'unknown'].map((r) => [r, optionOrder])) as Record<HardshipReason | 'unknown', typeof optionOrder>).strict(),
  })
  .strict();

export const identityPolicySchema = z.object({
  maxFailedAttempts: z.number().int().min(1).max(10),
  attemptWindowMinutes: z.number().int().min(1).max(1440),
  lockMinutes: z.number().int().min(1).max(1440),
  sessionIdleMinutes: z.number().int().min(1).max(1440),
}).strict();

export const lenderSchema = z.object({ name: localized, hotline: z.string().min(3), hours: localized, repaymentMethods: localized, crisisHotline: localized }).strict();

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM');
export const handoffPolicySchema = z
  .object({
    agentHours: z.object({ start: clock, end: clock, days: z.array(z.number().int().min(1).max(7)).min(1) }).strict(),
    expectedWaitMinutes: z.number().int().min(1).max(1440),
    /** No agent by then: the borrower is told and offered a call back or a complaint. */
    waitLimitMinutes: z.number().int().min(1).max(1440),
    priorities: z.record(z.string(), z.number().int().min(1).max(100)),
  })
  .strict();
export type HandoffPolicy = z.output<typeof handoffPolicySchema>;

/** Contact rules for proactive messages (machines/domain/contactRules.ts). */
export const contactPolicySchema = z
  .object({
    _comment: z.string().optional(),
    quietHours: z.object({ start: clock, end: clock }).strict(),
    maxPerDay: z.number().int().min(1).max(20),
    maxPer7Days: z.number().int().min(1).max(100),
  })
  .strict()
  .refine((p) => p.maxPer7Days >= p.maxPerDay, { message: 'maxPer7Days must be at least maxPerDay', path: ['maxPer7Days'] });
export type ContactPolicyFile = z.output<typeof contactPolicySchema>;

export const copyFileSchema = z.record(z.string().regex(/^[a-zA-Z][\w]*(\.[\w]+)+$/, 'copy keys look like "area.name"'), z.string().min(1, 'a message may not be empty'));

const phrases = z.object({ 'zh-CN': z.array(z.string().min(1)), en: z.array(z.string().min(1)) }).strict();

export const keywordsFileSchema = z
  .object({
    _comment: z.string().optional(),
    intents: z.record(z.string().min(1), phrases),
    hardship: z.object(Object.fromEntries(HARDSHIP_REASONS.map((r) => [r, phrases])) as Record<HardshipReason, typeof phrases>).strict(),
  })
  .strict();

/** How two phrases are compared for repeats: the same once width, case and spacing are ignored. */
export const phraseKey = (phrase: string): string => phrase.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * Phrases per intent as borrowers write them: dialogs/nlu/training.<locale>.json trains the intent
 * classifier, test.<locale>.json is the held-out set `npm run nlu:eval` scores it on. A phrase
 * listed twice, or under two intents, is refused: the second copy teaches nothing or contradicts.
 */
export const intentPhrasesFileSchema = z
  .record(z.string(), z.array(z.string().trim().min(1, 'a phrase may not be empty')).min(1, 'an intent needs at least one phrase'))
  .superRefine((file, ctx) => {
    const seen = new Map<string, string>();
    for (const [intent, list] of Object.entries(file)) {
      // Checked here rather than by the record's key schema, whose own message zod does not report.
      if (!/^[a-z][A-Za-z]*$/.test(intent)) ctx.addIssue({ code: 'custom', path: [intent], message: 'intent names are camelCase letters, e.g. "amountDue"' });
      list.forEach((phrase, i) => {
        const first = seen.get(phraseKey(phrase));
        if (first === undefined) seen.set(phraseKey(phrase), intent);
        else ctx.addIssue({ code: 'custom', path: [intent, i], message: `"${phrase}" is already listed under ${first}` });
      });
    }
  });

export type ProductsFile = z.output<typeof productsFileSchema>;
export type ProductPolicy = ProductsFile['products'][string];
export type HardshipOrder = ProductsFile['hardshipOrder'];
export type IdentityPolicy = z.output<typeof identityPolicySchema>;
export type Lender = z.output<typeof lenderSchema>;
export type CopyFile = z.output<typeof copyFileSchema>;
export type Keywords = z.output<typeof keywordsFileSchema>;
export type IntentPhrases = z.output<typeof intentPhrasesFileSchema>;
