import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

// The SDKs' own retries are off (maxRetries: 0) so that what is seen is the gateway's doing.
let stack: Stack;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  stack = await startStack({
    resilience: {
      retries: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2_000 },
      // High enough that no test here opens a breaker (gateway-circuit-breaker.test.ts covers that).
      circuitBreaker: { failureThreshold: 1_000 },
    },
  });
  openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
});
after(() => stack.close());

test('a 429 with retry-after-ms is retried after the wait; the call is recorded once, from the attempt that answered', async () => {
  stack.emulator.faults.add({ status: 429, provider: 'openai', count: 1, retryAfterMs: 20 });
  const requestsBefore = stack.emulator.requests;
  const rowsBefore = await stack.gateway.ledger.count();
  const { data, response } = await openai.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'retry me' }] }, { headers: { 'x-costgate-feature': 'retries' } })
    .withResponse();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-costgate-attempts'), '2');
  assert.equal(stack.emulator.requests - requestsBefore, 2, 'one refused attempt, one answered');
  const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
  assert.equal(row?.status, 200);
  assert.equal(row?.errorType, undefined);
  assert.equal(row?.usage.output.total, data.usage?.completion_tokens);
  assert.equal(row?.cost, stack.gateway.pricer.cost({ provider: 'openai', model: row?.servedModel ?? '', usage: row!.usage, at: new Date(row!.time) })?.cost);
  assert.equal(await stack.gateway.ledger.count(), rowsBefore + 1, 'the refused attempt is not a row of its own');
});

test('a 529 on a stream is retried before any byte reached the client, and the client gets a clean stream', async () => {
  stack.emulator.faults.add({ status: 529, provider: 'anthropic', count: 1 });
  const requestsBefore = stack.emulator.requests;
  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'stream after overload' }] });
  const message = await stream.finalMessage();
  assert.ok(message.content.length > 0);
  assert.equal(stack.emulator.requests - requestsBefore, 2);
});

test('retries stop after maxAttempts; the client gets the upstream error as it was, recorded once and not billed', async () => {
  stack.emulator.faults.add({ status: 500, provider: 'openai', model: 'gpt-4.1-nano', count: 3 });
  const requestsBefore = stack.emulator.requests;
  let requestId = '';
  await assert.rejects(openai.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.InternalServerError);
    assert.equal(error.headers?.get('x-costgate-attempts'), '3');
    requestId = error.headers?.get('x-costgate-request-id') ?? '';
    return true;
  });
  assert.equal(stack.emulator.requests - requestsBefore, 3);
  const [row] = await ledgerRows(stack, [requestId]);
  assert.equal(row?.status, 500);
  assert.equal(row?.cost, 0n);
});

test('a 400 is not retried and passes through untouched', async () => {
  const requestsBefore = stack.emulator.requests;
  const direct = await fetch(`${stack.emulator.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 10 }, messages: [{ role: 'user', content: 'x' }] }),
  });
  const directBody = (await direct.json()) as { error: { type: string; message: string } };
  await assert.rejects(
    anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 10 }, messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.equal(error.headers?.get('x-costgate-attempts'), '1');
      const body = error.error as { error: { type: string; message: string } };
      assert.equal(body.error.type, directBody.error.type);
      assert.equal(body.error.message, directBody.error.message);
      return true;
    },
  );
  assert.equal(stack.emulator.requests - requestsBefore, 2, 'one direct call, one through the gateway');
});

test('a stream that breaks after bytes reached the client is never retried', async () => {
  const requestsBefore = stack.emulator.requests;
  const response = await fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-emulator-reply-tokens': '200' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5-emu-broken-stream', max_tokens: 500, stream: true, messages: [{ role: 'user', content: 'go' }] }),
  });
  assert.equal(response.headers.get('x-costgate-attempts'), '1');
  const requestId = response.headers.get('x-costgate-request-id') ?? '';
  await assert.rejects(response.text());
  let row;
  for (let attempt = 0; attempt < 100 && !row; attempt++) {
    [row] = await ledgerRows(stack, [requestId]);
    if (!row) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(row?.errorType, 'upstream_stream_broken');
  assert.equal(stack.emulator.requests - requestsBefore, 1);
});

test('a client that goes away stops the retries', async () => {
  // A long server-asked wait: the gateway would sit in it until the client leaves.
  stack.emulator.faults.add({ status: 429, provider: 'openai', model: 'gpt-4.1-mini', retryAfterMs: 1_500 });
  const requestsBefore = stack.emulator.requests;
  const rowsBefore = await stack.gateway.ledger.count();
  const controller = new AbortController();
  const pending = fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'x' }] }),
    signal: controller.signal,
  });
  for (let attempt = 0; attempt < 200 && stack.emulator.requests === requestsBefore; attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await assert.rejects(pending);
  for (let attempt = 0; attempt < 200 && (await stack.gateway.ledger.count()) === rowsBefore; attempt++) {
    await stack.gateway.recorder.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(await stack.gateway.ledger.count(), rowsBefore + 1, 'the abandoned call is recorded once');
  assert.equal(stack.emulator.requests - requestsBefore, 1, 'no attempt after the client left');
  stack.emulator.faults.clear();
});

test('retry-after longer than maxRetryAfterMs is not waited for: the 429 goes back to the client at once', async () => {
  stack.emulator.faults.add({ status: 429, provider: 'openai', model: 'gpt-4.1-long', count: 1, retryAfterMs: 60_000 });
  const requestsBefore = stack.emulator.requests;
  await assert.rejects(openai.chat.completions.create({ model: 'gpt-4.1-long', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.headers?.get('retry-after'), '60');
    return true;
  });
  assert.equal(stack.emulator.requests - requestsBefore, 1);
});

test('timeouts: no response headers in time is a 504 (retried), a stalled stream is cut (not retried)', async () => {
  const timed = await startStack({
    resilience: { retries: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, timeouts: { firstByteMs: 1000, idleMs: 40 }, circuitBreaker: { enabled: false } },
  });
  try {
    const client = new OpenAI({ apiKey: 'sk-client', baseURL: `${timed.url}/v1`, maxRetries: 0 });
    const requestsBefore = timed.emulator.requests;
    let requestId = '';
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini-emu-latency-3000', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 504);
      assert.match(error.message, /first byte timeout/);
      requestId = error.headers?.get('x-costgate-request-id') ?? '';
      return true;
    });
    assert.equal(timed.emulator.requests - requestsBefore, 2);
    const [row] = await ledgerRows(timed, [requestId]);
    assert.equal(row?.errorType, 'upstream_first_byte_timeout');

    // 100 ms between chunks against a 40 ms idle deadline; the first-byte deadline leaves room for a
    // loaded machine, where a stream's headers late by 150 ms would be retried and counted twice.
    const streamBefore = timed.emulator.requests;
    const response = await fetch(`${timed.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-emulator-reply-tokens': '20' },
      body: JSON.stringify({ model: 'gpt-4o-mini-emu-slow-stream', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] }),
    });
    const streamId = response.headers.get('x-costgate-request-id') ?? '';
    await assert.rejects(response.text());
    let streamRow;
    for (let attempt = 0; attempt < 100 && !streamRow; attempt++) {
      [streamRow] = await ledgerRows(timed, [streamId]);
      if (!streamRow) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(streamRow?.errorType, 'upstream_idle_timeout');
    assert.equal(timed.emulator.requests - streamBefore, 1);
  } finally {
    await timed.close();
  }
});
