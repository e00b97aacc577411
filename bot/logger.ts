import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs that never carry identity details: message text is never logged on purpose,
 * known fields are redacted, and any string that still looks like a phone number, an ID number
 * or a date of birth is scrubbed before it is written.
 */
const SCRUB: Array<[RegExp, string]> = [
  [/(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])/g, '[id]'],
  [/(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)/g, '[phone]'],
  [/(?<!\d)(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?!\d)/g, '[date]'],
  [/(?<!\d)(?:19|20)\d{6}(?!\d)/g, '[date]'],
];

export function scrub(text: string): string {
  return SCRUB.reduce((t, [re, mask]) => t.replace(re, mask), text);
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['text', '*.text', 'phone', '*.phone', 'idNumber', '*.idNumber', 'birthDate', '*.birthDate', 'body', '*.body', 'password', '*.password', 'authorization', '*.authorization', 'req.headers.authorization'],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrub(a) : a instanceof Error ? Object.assign(new Error(scrub(a.message)), { stack: scrub(a.stack ?? '') }) : a)) as Parameters<typeof method>,
          );
        },
      },
      serializers: { err: (e: Error) => ({ type: e.name, message: scrub(e.message), stack: scrub(e.stack ?? '') }) },
    },
    destination,
  );
}
