import { createHmac } from 'node:crypto';

/** The prefix of a Standard Webhooks secret; the rest is the key in base64. */
const SECRET_PREFIX = 'whsec_';

/** The key bytes of a Standard Webhooks secret (`whsec_<base64>`). */
export function webhookKey(secret: string): Buffer {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  if (key.length === 0) throw new Error('the signing secret is empty');
  return key;
}

/**
 * The `webhook-signature` header of Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of
 * `id.timestamp.body` under the channel's key. What the `standardwebhooks` package's `sign`
 * computes, through node:crypto (OpenSSL) rather than its HMAC in JavaScript, which cost more than
 * the rest of a delivery's sending.
 */
export function webhookSignature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}
