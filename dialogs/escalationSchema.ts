import { z } from 'zod';

/** dialogs/escalation/rules.json: when a conversation goes to a person, and what the borrower reads. */
const phrases = z.object({ 'zh-CN': z.array(z.string().min(1)), en: z.array(z.string().min(1)) }).strict();

export const escalationRuleSchema = z
  .object({
    id: z.string().regex(/^[a-z][A-Za-z]+$/, 'rule ids are camelCase words'),
    priority: z.number().int().min(1).max(100),
    message: z.string().regex(/^escalation\.\w+$/, 'the message is a copy key under escalation.'),
    times: z.number().int().min(1).max(10).optional(),
    phrases,
    unless: phrases,
    nearMisses: phrases,
  })
  .strict();

export const escalationFileSchema = z
  .object({
    _comment: z.string().optional(),
    rules: z.array(escalationRuleSchema).refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, 'rule ids must be unique'),
  })
  .strict();

export type EscalationRule = z.output<typeof escalationRuleSchema>;
