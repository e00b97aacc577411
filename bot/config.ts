import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * The whole environment, parsed once at start. Anything wrong stops the process with a message
 * naming the variable and the reason (see `loadConfig`).
 */
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const booleanText = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return undefined;
    const t = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return true;
    if (['false', '0', 'no', 'off'].includes(t)) return false;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
    return z.NEVER;
  });

/** A whole number ≥ min; unset or blank takes the default. */
const count = (fallback: number, min = 0) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').min(min, `must be at least ${min}`).default(fallback),
  );

export const configSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3978),
    HOST: z.string().default('0.0.0.0'),
    DATABASE_URL: z
      .string()
      .default('file:./data/bot.db')
      .refine((u) => /^(file:|postgres(ql)?:\/\/)/.test(u), 'must start with file: (SQLite) or postgresql:// (PostgreSQL)'),
    APP_NOW: optionalText.refine((v) => v === undefined || !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 instant, e.g. 2026-11-22T10:00:00+08:00'),
    APP_TIMEZONE: z
      .string()
      .default('Asia/Shanghai')
      .refine((z) => IANAZone.isValidZone(z), 'must be an IANA time zone, e.g. Asia/Shanghai'),
    SEED_DEMO: booleanText.transform((v) => v ?? true),
    MicrosoftAppId: optionalText,
    MicrosoftAppPassword: optionalText,
    MicrosoftAppType: optionalText.pipe(z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).optional()),
    MicrosoftAppTenantId: optionalText,
    ATTACHMENT_HOSTS: optionalText.transform((v) => (v ? v.split(',').map((h) => h.trim()).filter(Boolean) : [])),
    IDENTITY_SECRET: optionalText,
    PROOF_STORAGE_DIR: z.string().default('./data/proofs'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    NODE_ENV: optionalText,
    // Where Bot Framework channel tokens come from; only changed for a sovereign cloud, a private
    // channel or a test that signs its own tokens. Empty = the public Azure Bot Service.
    ToBotFromChannelOpenIdMetadataUrl: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
    ToBotFromChannelTokenIssuer: optionalText,
    RETENTION_DAYS: count(365, 1),
    RATE_LIMIT_PER_CONVERSATION: count(60),
    RATE_LIMIT_PER_ADDRESS: count(600),
    RATE_LIMIT_LOGIN: count(10),
    TRUST_PROXY_HOPS: count(0),
    SHUTDOWN_TIMEOUT_SECONDS: count(25, 1),
    TURN_WORKER: booleanText.transform((v) => v ?? true),
  })
  // A secret that is set must be strong in production; unset, db/identityKey.ts generates one.
  .refine((env) => env.NODE_ENV !== 'production' || env.IDENTITY_SECRET === undefined || env.IDENTITY_SECRET.length >= 32, {
    message: 'must be a random value of at least 32 characters when NODE_ENV=production',
    path: ['IDENTITY_SECRET'],
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    appNow: env.APP_NOW,
    timeZone: env.APP_TIMEZONE,
    seedDemo: env.SEED_DEMO,
    microsoftApp: {
      appId: env.MicrosoftAppId,
      password: env.MicrosoftAppPassword,
      type: env.MicrosoftAppType,
      tenantId: env.MicrosoftAppTenantId,
      openIdMetadataUrl: env.ToBotFromChannelOpenIdMetadataUrl,
      tokenIssuer: env.ToBotFromChannelTokenIssuer,
    },
    attachmentHosts: env.ATTACHMENT_HOSTS,
    /** Proof-of-payment files, content-addressed: point it at a persistent volume (docs/proofs.md). */
    proofStorageDir: env.PROOF_STORAGE_DIR,
    /** The key of identity digests and signed tokens, if set; resolved with the database by db/identityKey.ts. */
    identitySecret: env.IDENTITY_SECRET,
    logLevel: env.LOG_LEVEL,
    production: env.NODE_ENV === 'production',
    /** Transcripts, idle conversations and proof files older than this are deleted (db/retention.ts); the audit log stays. */
    retentionDays: env.RETENTION_DAYS,
    /** Requests per minute (bursts up to the same number); 0 = no limit. Per process: see docs/operations.md. */
    rateLimits: { perConversation: env.RATE_LIMIT_PER_CONVERSATION, perAddress: env.RATE_LIMIT_PER_ADDRESS, login: env.RATE_LIMIT_LOGIN },
    /** How many proxies in front of the bot append to X-Forwarded-For (the client address for rate limits). */
    trustProxyHops: env.TRUST_PROXY_HOPS,
    /** On SIGTERM, how long turns in flight may take to finish before the process exits anyway. */
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    /** `npm start` runs turns on a worker thread (bot/turnWorker.ts); off, in the main thread. */
    turnWorker: env.TURN_WORKER,
  }));

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses the environment or throws a ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
