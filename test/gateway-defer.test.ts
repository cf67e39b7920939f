import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { verifyWebhook } from '../src/batch/deferred/webhook-signature.ts';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { startGateway, type RunningGateway } from '../src/server/start-gateway.ts';

/**
 * Deferred requests end to end: a normal SDK call with `x-costgate-defer: 24h` is answered 202 with
 * an id, flushed as a provider batch, and its result fetched at GET /costgate/deferred/{id} or
 * received at a signed webhook; the ledger row is at the batch price; a pending request survives a
 * gateway restart.
 */

const SECRET = 'test-webhook-secret-0123456789';
let emulator: RunningEmulator;
const directories: string[] = [];

before(async () => {
  emulator = await startEmulator({ batchTiming: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
});
after(async () => {
  await emulator.close();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function newDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-defer-'));
  directories.push(directory);
  return directory;
}

async function gateway(directory: string, defer: Record<string, unknown>): Promise<RunningGateway> {
  const environment = { OPENAI_BASE_URL: `${emulator.url}/v1`, OPENAI_API_KEY: 'sk-gateway-key', ANTHROPIC_BASE_URL: emulator.url, ANTHROPIC_API_KEY: 'sk-ant-gateway-key' };
  const config = parseConfig({ batch: { pollIntervalMs: 20, maxPollIntervalMs: 100, defer: { enabled: true, webhookSecret: SECRET, ...defer } } }, environment, 'test');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'test' };
  return startGateway({ loaded, port: 0, ledgerPath: join(directory, 'ledger.duckdb') });
}

const OWNER = { authorization: 'Bearer sk-client' };

async function waitForResult(url: string, id: string, headers: Record<string, string> = OWNER): Promise<Response> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${url}/costgate/deferred/${id}`, { headers });
    if (response.status !== 202) return response;
    assert.ok(['pending', 'submitted'].includes(response.headers.get('x-costgate-deferred-status') ?? ''));
    await response.body?.cancel();
    if (Date.now() > deadline) throw new Error(`deferred ${id} still pending`);
    await sleep(50);
  }
}

test('openai SDK: deferred call gets 202 and an id; the flushed batch result is served at GET /costgate/deferred/{id}; ledger at batch price', async () => {
  const directory = newDirectory();
  const running = await gateway(directory, { maxRequests: 2, maxWaitMs: 60_000 });
  try {
    const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
    const deferred = { headers: { 'x-costgate-defer': '24h', 'x-costgate-feature': 'nightly-summaries' } };
    const calls = await Promise.all(
      ['first ticket', 'second ticket'].map((text) => client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: text }] }, deferred).withResponse()),
    );
    const ids: string[] = [];
    for (const { response, data } of calls) {
      assert.equal(response.status, 202);
      const body = data as unknown as { id: string; status: string; result_url: string };
      assert.match(body.id, /^d[0-9a-z]+$/);
      assert.equal(body.status, 'pending');
      assert.equal(response.headers.get('location'), `/costgate/deferred/${body.id}`);
      ids.push(body.id);
    }
    // Two requests reach maxRequests: one batch for the group.
    for (const id of ids) {
      const result = await waitForResult(running.url, id);
      assert.equal(result.status, 200);
      assert.equal(result.headers.get('x-costgate-deferred-status'), 'completed');
      const completion = (await result.json()) as OpenAI.ChatCompletion;
      assert.equal(completion.object, 'chat.completion');
      assert.ok(completion.choices[0]?.message.content);
      assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
    }
    assert.equal((await fetch(`${running.url}/costgate/deferred/dnotarealid123`, { headers: OWNER })).status, 404);
    // Results belong to the API key that deferred them.
    assert.equal((await fetch(`${running.url}/costgate/deferred/${ids[0]}`, { headers: { authorization: 'Bearer sk-someone-else' } })).status, 404);
    assert.equal((await fetch(`${running.url}/costgate/deferred/${ids[0]}`)).status, 404);

    await running.recorder.flush();
    const rows = await running.ledger.report({ by: 'feature' });
    // Only the two batch rows: a deferred call makes no on-demand row of its own.
    assert.deepEqual(rows.map((row) => [row.key, row.requests]), [['nightly-summaries', 2]]);
    const [batchRow] = rows;
    assert.ok(batchRow && batchRow.cost > 0n);
    // Half of the on-demand price: the saving is attributed to batching.
    assert.equal(batchRow.baselineCost, batchRow.cost * 2n);
  } finally {
    await running.close();
  }
});

test('anthropic: the result is POSTed to the client webhook with a valid HMAC-SHA256 signature', async () => {
  const received: Array<{ body: string; signature: string | undefined; timestamp: string | undefined }> = [];
  const hook = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: request.headers['x-costgate-signature'] as string | undefined, timestamp: request.headers['x-costgate-timestamp'] as string | undefined });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/results`;
  const running = await gateway(newDirectory(), { maxRequests: 100, maxWaitMs: 100 });
  try {
    const response = await fetch(`${running.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-client', 'anthropic-version': '2023-06-01', 'x-costgate-defer': '24h', 'x-costgate-webhook': hookUrl },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'summarise this' }] }),
    });
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) await sleep(50);
    assert.equal(received.length, 1);
    const [delivery] = received;
    assert.ok(delivery);
    assert.ok(verifyWebhook(SECRET, delivery.body, delivery.signature, delivery.timestamp), 'signature verifies');
    assert.equal(verifyWebhook('another-secret-0123456789', delivery.body, delivery.signature, delivery.timestamp), false);
    assert.equal(verifyWebhook(SECRET, `${delivery.body} `, delivery.signature, delivery.timestamp), false, 'a changed body fails');
    assert.equal(verifyWebhook(SECRET, delivery.body, delivery.signature, delivery.timestamp, { nowSeconds: Number(delivery.timestamp) + 3600 }), false, 'a replay an hour later fails');
    const payload = JSON.parse(delivery.body) as { id: string; status: string; httpStatus: number; response: { type: string; content: unknown[] } };
    assert.equal(payload.id, id);
    assert.equal(payload.status, 'completed');
    assert.equal(payload.response.type, 'message');
    assert.ok(payload.response.content.length > 0);
    // The result is also readable by id.
    assert.equal((await waitForResult(running.url, id, { 'x-api-key': 'sk-client' })).status, 200);
  } finally {
    await running.close();
    hook.close();
  }
});

test('a pending deferred request survives a gateway restart; bad deferrals are refused', async () => {
  const directory = newDirectory();
  const first = await gateway(directory, { maxRequests: 100, maxWaitMs: 3_600_000 });
  let id: string;
  try {
    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
    const { response, data } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'later' }] }, { headers: { 'x-costgate-defer': '24h' } }).withResponse();
    assert.equal(response.status, 202);
    id = (data as unknown as { id: string }).id;
    const pending = await fetch(`${first.url}/costgate/deferred/${id}`, { headers: OWNER });
    assert.equal(pending.status, 202);
    assert.equal(((await pending.json()) as { status: string }).status, 'pending');
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-costgate-defer': '24h' } }), (error: unknown) => error instanceof OpenAI.BadRequestError);
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-costgate-defer': '5m' } }), (error: unknown) => error instanceof OpenAI.BadRequestError);
  } finally {
    await first.close();
  }
  // Restarted with a short wait: the request persisted before its 202 is flushed and completed.
  const second = await gateway(directory, { maxRequests: 100, maxWaitMs: 100 });
  try {
    const result = await waitForResult(second.url, id);
    assert.equal(result.status, 200);
    assert.equal(((await result.json()) as { object: string }).object, 'chat.completion');
  } finally {
    await second.close();
  }
});
