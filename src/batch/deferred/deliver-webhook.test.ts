import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { deliverWebhook, webhookOrigin } from './deliver-webhook.ts';

test('a failed delivery is logged with the webhook host only, never its path or query (they often hold a secret)', async () => {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const lines: string[] = [];
  try {
    const delivered = await deliverWebhook({
      url: `${origin}/services/T000/B000/SecretWebhookToken42?token=QuerySecret99`,
      secret: 'signing-secret',
      body: '{}',
      deliveryId: 'd1',
      timeoutMs: 5000,
      attempts: 1,
      log: (line) => lines.push(line),
    });
    assert.equal(delivered, false);
  } finally {
    server.close();
  }
  assert.deepEqual(lines, [`deferred: webhook ${origin} answered 500 (attempt 1/1)`]);
  assert.equal(webhookOrigin('not a url'), '(invalid URL)');
});
