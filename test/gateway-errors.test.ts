import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

let stack: Stack;

before(async () => {
  stack = await startStack({ server: { maxBodyBytes: 64 * 1024 } });
});
after(() => stack.close());

async function post(path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const response = await fetch(stack.url + path, { method: 'POST', headers, body });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

test('bad input is answered in each provider\'s own error shape and status, and nothing is recorded', async () => {
  const before = await stack.gateway.ledger.count();

  const malformed = await post('/v1/chat/completions', '{"model": "gpt-4o",');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.error.type, 'invalid_request_error');
  assert.match(malformed.json.error.message, /not valid JSON/);

  const noModel = await post('/v1/messages', JSON.stringify({ max_tokens: 10, messages: [] }));
  assert.equal(noModel.status, 400);
  assert.equal(noModel.json.type, 'error');
  assert.equal(noModel.json.error.type, 'invalid_request_error');
  assert.match(noModel.json.error.message, /model/);

  const unknown = await post('/v1/nope', '{}');
  assert.equal(unknown.status, 404);
  assert.ok(unknown.json.error.message.includes('/v1/nope'));

  const unknownBedrock = await post('/model/x/explode', '{}');
  assert.equal(unknownBedrock.status, 404);
  assert.equal(unknownBedrock.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');

  const oversized = await post('/v1/messages', JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1, messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }));
  assert.equal(oversized.status, 413);
  assert.equal(oversized.json.error.type, 'request_too_large');

  const wrongType = await post('/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse', 'hello', { 'content-type': 'text/plain' });
  assert.equal(wrongType.status, 415);
  assert.equal(wrongType.headers.get('x-amzn-errortype'), 'ValidationException');

  await stack.gateway.recorder.flush();
  assert.equal(await stack.gateway.ledger.count(), before, 'rejected requests never reach the ledger as calls');
});

test('upstream errors keep their status, body and retry-after, and are recorded as not billed', async () => {
  const client = new OpenAI({ apiKey: 'x', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o-mini-emu-429', messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.headers?.get('retry-after'), '1');
      return true;
    },
  );
  const anthropic = new Anthropic({ apiKey: 'x', baseURL: stack.url, maxRetries: 0 });
  let requestId = '';
  await assert.rejects(
    anthropic.messages.create({ model: 'claude-sonnet-4-5-emu-529', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError);
      assert.equal(error.status, 529);
      assert.equal((error.error as { error?: { type?: string } }).error?.type, 'overloaded_error');
      requestId = error.headers?.get('x-costgate-request-id') ?? '';
      return true;
    },
  );
  const [row] = await ledgerRows(stack, [requestId]);
  assert.equal(row?.status, 529);
  assert.equal(row?.errorType, 'overloaded_error');
  assert.equal(row?.cost, 0n);
});

test('a client that disconnects mid-stream aborts the upstream call', async () => {
  const abortedBefore = stack.emulator.abortedRequests;
  const controller = new AbortController();
  const response = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-emulator-reply-tokens': '400' },
    body: JSON.stringify({ model: 'gpt-4o-mini-emu-slow-stream', stream: true, messages: [{ role: 'user', content: 'go' }] }),
    signal: controller.signal,
  });
  const requestId = response.headers.get('x-costgate-request-id') ?? '';
  const reader = response.body?.getReader();
  await reader?.read();
  controller.abort();
  await reader?.cancel().catch(() => {});
  // The emulator notices the closed socket once the gateway drops its upstream request.
  for (let attempt = 0; attempt < 50 && stack.emulator.abortedRequests === abortedBefore; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(stack.emulator.abortedRequests, abortedBefore + 1);
  for (let attempt = 0; attempt < 50; attempt++) {
    const [row] = await ledgerRows(stack, [requestId]);
    if (row) {
      assert.equal(row.errorType, 'client_aborted');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('the aborted call must still be recorded');
});

test('a stream that breaks upstream breaks for the client too and is recorded with what was seen', async () => {
  const response = await fetch(`${stack.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-emulator-reply-tokens': '200' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5-emu-broken-stream', max_tokens: 500, stream: true, messages: [{ role: 'user', content: 'go' }] }),
  });
  const requestId = response.headers.get('x-costgate-request-id') ?? '';
  await assert.rejects(response.text());
  for (let attempt = 0; attempt < 50; attempt++) {
    const [row] = await ledgerRows(stack, [requestId]);
    if (row) {
      assert.equal(row.errorType, 'upstream_stream_broken');
      assert.ok((row.usage.input.total ?? 0) > 0, 'input usage from message_start is kept');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('the broken call must still be recorded');
});
