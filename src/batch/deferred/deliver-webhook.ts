import { setTimeout as sleep } from 'node:timers/promises';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.ts';

export interface WebhookDelivery {
  url: string;
  secret: string;
  body: string;
  /** The deferred request's id, sent as x-costgate-delivery so receivers can drop repeats. */
  deliveryId: string;
  timeoutMs: number;
  attempts: number;
  log: (line: string) => void;
}

/** Webhook URLs often carry a secret in their path or query (Slack, Zapier): logs name only the host. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * POSTs a signed result; a 2xx ends it, anything else (or no answer) is retried with backoff
 * (1 s, 2 s, 4 s, ... up to a minute). Each attempt is signed with its own timestamp. Returns
 * whether it was delivered; the result stays readable at GET /costgate/deferred/{id} either way.
 */
export async function deliverWebhook(delivery: WebhookDelivery): Promise<boolean> {
  for (let attempt = 1; attempt <= delivery.attempts; attempt += 1) {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'costgate-webhook',
          'x-costgate-delivery': delivery.deliveryId,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(delivery.secret, timestamp, delivery.body),
        },
        body: delivery.body,
        signal: AbortSignal.timeout(delivery.timeoutMs),
        redirect: 'manual',
      });
      await response.body?.cancel();
      if (response.ok) return true;
      delivery.log(`deferred: webhook ${webhookOrigin(delivery.url)} answered ${response.status} (attempt ${attempt}/${delivery.attempts})`);
    } catch (error) {
      delivery.log(`deferred: webhook ${webhookOrigin(delivery.url)} failed: ${(error as Error).message} (attempt ${attempt}/${delivery.attempts})`);
    }
    if (attempt < delivery.attempts) await sleep(Math.min(60_000, 1000 * 2 ** (attempt - 1)));
  }
  return false;
}
