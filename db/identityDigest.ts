import { createHmac } from 'node:crypto';

/**
 * Identity secrets (ID number's last 4, date of birth) and lookup keys for phone numbers are kept
 * only as keyed HMACs, so a copy of the database reveals none of them. The key comes from the
 * environment (IDENTITY_SECRET); the kind is mixed in so equal values of different kinds differ.
 */
export type IdentityField = 'idLast4' | 'birthDate' | 'phone';

export function identityDigest(secret: string, field: IdentityField, value: string): string {
  return createHmac('sha256', secret).update(`${field}:${value}`).digest('hex');
}
