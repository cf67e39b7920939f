import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, the scheme Stripe and GitHub users know:
 *
 *   x-costgate-timestamp: 1767052800            (Unix seconds when this delivery was signed)
 *   x-costgate-signature: sha256=<hex>          (HMAC-SHA256 with batch.defer.webhookSecret over "<timestamp>.<raw body>")
 *
 * The timestamp is inside the signed text, so a captured delivery cannot be replayed later with a
 * fresh timestamp; receivers reject deliveries whose timestamp is more than a few minutes from their
 * clock (verifyWebhook's default tolerance is 300 s) and may also remember delivery ids
 * (x-costgate-delivery, also in the body as `id`) to drop exact repeats within that window.
 */

export const SIGNATURE_HEADER = 'x-costgate-signature';
export const TIMESTAMP_HEADER = 'x-costgate-timestamp';

export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): true when the signature matches and the timestamp is fresh. */
export function verifyWebhook(secret: string, body: string, signature: string | undefined, timestamp: string | undefined, options: { nowSeconds?: number; toleranceSeconds?: number } = {}): boolean {
  if (!signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  const seconds = Number(timestamp);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - seconds) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, seconds, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
