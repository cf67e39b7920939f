import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

const BEDROCK_HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';

// The gateway runs on the emulator's clock, so a cooldown passes with clock.advance(), not a wait.
let stack: Stack;
let client: Anthropic;

before(async () => {
  stack = await startStack(
    {
      resilience: {
        retries: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
        circuitBreaker: { failureThreshold: 2, failureRate: 0.5, windowMs: 60_000, cooldownMs: 30_000 },
        fallbacks: { default: { 'claude-haiku-4-5': [{ provider: 'bedrock', model: BEDROCK_HAIKU }] } },
      },
    },
    { emulatorClock: true },
  );
  client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
});
after(() => stack.close());

function ask(model: string) {
  return client.messages.create({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] }).withResponse();
}

test('repeated 5xx open the breaker; while open, calls fail fast in Anthropic\'s shape; after the cooldown a probe closes it', async () => {
  stack.emulator.faults.add({ status: 500, provider: 'anthropic', model: 'claude-sonnet-4-5' });
  const requestsBefore = stack.emulator.requests;
  await assert.rejects(ask('claude-sonnet-4-5'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.InternalServerError);
    assert.equal(error.status, 500, 'the upstream error itself, from the attempt before the breaker opened');
    assert.equal(error.headers?.get('x-costgate-attempts'), '2', 'the second failure opened the breaker, so no third attempt');
    return true;
  });
  assert.equal(stack.emulator.requests - requestsBefore, 2);

  let refusedId = '';
  await assert.rejects(ask('claude-sonnet-4-5'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.APIError);
    assert.equal(error.status, 503);
    assert.equal(error.headers?.get('x-costgate-circuit'), 'open');
    assert.equal(error.headers?.get('retry-after'), '30');
    const body = error.error as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.match(body.error.message, /circuit breaker for anthropic claude-sonnet-4-5 is open/);
    refusedId = error.headers?.get('x-costgate-request-id') ?? '';
    return true;
  });
  assert.equal(stack.emulator.requests - requestsBefore, 2, 'nothing was sent upstream while open');
  const [row] = await ledgerRows(stack, [refusedId]);
  assert.equal(row?.status, 503);
  assert.equal(row?.errorType, 'circuit_open');
  assert.equal(row?.cost, 0n);

  const { response: other } = await ask('claude-opus-4-1');
  assert.equal(other.status, 200, 'another model has its own breaker');

  stack.emulator.faults.clear();
  stack.emulator.clock.advance(29_000);
  await assert.rejects(ask('claude-sonnet-4-5'), (error: unknown) => error instanceof Anthropic.APIError && error.status === 503);
  stack.emulator.clock.advance(1_000);
  const probe = await ask('claude-sonnet-4-5');
  assert.equal(probe.response.headers.get('x-costgate-attempts'), '1');
  const after = await ask('claude-sonnet-4-5');
  assert.equal(after.response.status, 200, 'closed again');
});

test('a probe that fails reopens the breaker for another cooldown', async () => {
  stack.emulator.faults.add({ status: 529, provider: 'anthropic', model: 'claude-opus-4-5' });
  await assert.rejects(ask('claude-opus-4-5'));
  await assert.rejects(ask('claude-opus-4-5'), (error: unknown) => error instanceof Anthropic.APIError && error.status === 503);
  stack.emulator.clock.advance(30_000);
  const requestsBefore = stack.emulator.requests;
  await assert.rejects(ask('claude-opus-4-5'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.APIError);
    assert.equal(error.status, 529, 'the probe went upstream and failed');
    return true;
  });
  assert.equal(stack.emulator.requests - requestsBefore, 1, 'one probe, no retries past the reopened breaker');
  await assert.rejects(ask('claude-opus-4-5'), (error: unknown) => error instanceof Anthropic.APIError && error.status === 503);
  stack.emulator.faults.clear();
});

test('while the breaker is open, a call with a fallback goes straight to the alternate', async () => {
  stack.emulator.faults.add({ status: 529, provider: 'anthropic', model: 'claude-haiku-4-5' });
  const first = await ask('claude-haiku-4-5');
  assert.equal(first.response.headers.get('x-costgate-served-by'), `bedrock/${BEDROCK_HAIKU}`);
  const requestsBefore = stack.emulator.requests;
  const second = await ask('claude-haiku-4-5');
  assert.equal(second.response.headers.get('x-costgate-served-by'), `bedrock/${BEDROCK_HAIKU}`);
  assert.equal(second.response.headers.get('x-costgate-attempts'), '1', 'no attempt on the open upstream');
  assert.equal(stack.emulator.requests - requestsBefore, 1);
  assert.equal(second.data.type, 'message');
  stack.emulator.faults.clear();
});
