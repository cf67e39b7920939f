import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resilienceConfigSchema } from '../../config/resilience-config.ts';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderAdapter } from '../../providers/provider.ts';
import type { CallContext, HeaderMap, ResponseSink } from '../context.ts';
import { createResilienceStage, resilienceActive } from './resilience-stage.ts';

/** What the fake upstream does on one attempt. */
type Step = { status: number; headers?: HeaderMap } | { stream: 'ok' | 'broken' };

class RecordingSink implements ResponseSink {
  started = false;
  status: number | undefined;
  headers: HeaderMap = {};
  start(status: number, headers: HeaderMap) {
    this.started = true;
    this.status = status;
    this.headers = headers;
  }
  write() {
    return true;
  }
  onDrain() {}
  end() {}
  abort() {}
}

const adapter = {
  id: 'openai',
  renderError: (error: GatewayError) => ({ status: error.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { message: error.message } }) }),
} as unknown as ProviderAdapter;

function callContext(sink: ResponseSink, signal = new AbortController().signal): CallContext {
  return {
    requestId: 'r1',
    receivedAt: 0,
    startedAt: 0,
    adapter,
    call: { operation: { provider: 'openai', endpoint: 'chat.completions', upstreamPath: '/v1/chat/completions', billable: true }, model: 'gpt-4o', stream: false, headers: {}, body: { model: 'gpt-4o' }, rawBody: undefined },
    signal,
    sink,
    attribution: { tags: {} },
    bodyChanged: false,
    result: undefined,
    facts: undefined,
    firstByteAt: undefined,
    cost: undefined,
    levers: [],
    event: undefined,
  };
}

/** Runs the stage over a scripted upstream; returns the models each attempt asked for. */
async function run(steps: Step[], raw: unknown = {}, context = callContext(new RecordingSink())) {
  const config = resilienceConfigSchema.parse({ retries: { baseDelayMs: 0, maxDelayMs: 0 }, ...(raw as object) });
  const stage = createResilienceStage({ config, adapters: { openai: adapter }, random: () => 0, now: () => 0 });
  const models: Array<string | undefined> = [];
  await stage.run(context, async (attempt = context) => {
    models.push(attempt.call.model);
    const step = steps.shift();
    assert.ok(step, 'no more attempts were expected');
    if ('stream' in step) {
      attempt.sink.start(200, {});
      attempt.facts = { usage: undefined, servedModel: undefined, stopReason: undefined, errorType: step.stream === 'broken' ? 'upstream_stream_broken' : undefined };
      return;
    }
    attempt.result = { status: step.status, headers: step.headers ?? {}, body: Buffer.from('{}') };
    attempt.facts = { usage: undefined, servedModel: attempt.call.model, stopReason: undefined, errorType: step.status >= 400 ? 'error' : undefined };
  });
  return { context, models, left: steps.length };
}

test('retryable statuses are retried up to maxAttempts; the answer carries the attempt count', async () => {
  const { context, models } = await run([{ status: 429 }, { status: 503 }, { status: 200 }]);
  assert.equal(models.length, 3);
  assert.equal(context.result?.status, 200);
  assert.equal(context.result?.headers['x-costgate-attempts'], '3');
  assert.equal(context.resilience?.attempts, 3);

  const exhausted = await run([{ status: 529 }, { status: 529 }, { status: 529 }]);
  assert.equal(exhausted.context.result?.status, 529);
});

test('400, 401, 404 and 422 are answered at once', async () => {
  for (const status of [400, 401, 404, 422]) {
    const { context, models } = await run([{ status }]);
    assert.equal(models.length, 1, `${status} is not retried`);
    assert.equal(context.result?.status, status);
  }
});

test('a stream that started is the answer, even when it broke', async () => {
  const { models, left } = await run([{ stream: 'broken' }, { status: 200 }]);
  assert.equal(models.length, 1);
  assert.equal(left, 1);
});

test('a retry-after beyond maxRetryAfterMs ends the retries at once', async () => {
  const { models, context } = await run([{ status: 429, headers: { 'retry-after': '120' } }, { status: 200 }]);
  assert.equal(models.length, 1);
  assert.equal(context.result?.status, 429);
});

test('an aborted client gets no further attempt', async () => {
  const controller = new AbortController();
  const sink = new RecordingSink();
  const context = callContext(sink, controller.signal);
  const stage = createResilienceStage({ config: resilienceConfigSchema.parse({ retries: { baseDelayMs: 50, maxDelayMs: 50 } }), adapters: {}, random: () => 0.9 });
  let attempts = 0;
  await stage.run(context, async (attempt = context) => {
    attempts += 1;
    attempt.result = { status: 500, headers: {}, body: Buffer.alloc(0) };
    controller.abort();
  });
  assert.equal(attempts, 1);
});

test('after the retries, a same-provider alternate answers and is named as the server', async () => {
  const { context, models } = await run([{ status: 500 }, { status: 500 }, { status: 200 }], {
    retries: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
    fallbacks: { default: { 'gpt-4o': [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
  });
  assert.deepEqual(models, ['gpt-4o', 'gpt-4o', 'gpt-4o-mini']);
  assert.deepEqual(context.resilience, { attempts: 3, servedBy: { provider: 'openai', model: 'gpt-4o-mini' } });
  assert.equal(context.result?.headers['x-costgate-served-by'], 'openai/gpt-4o-mini');
  assert.equal(context.route, 'fallback:openai/gpt-4o-mini');
});

test('an alternate that refuses the call (400) is skipped; the client gets the requested model\'s error', async () => {
  const { context, models } = await run([{ status: 503 }, { status: 400 }], {
    retries: { maxAttempts: 1 },
    fallbacks: { default: { 'gpt-4o': [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
  });
  assert.equal(models.length, 2);
  assert.equal(context.result?.status, 503);
  assert.equal(context.resilience?.servedBy, undefined);
});

test('the stage is left out only when retries, breaker and fallbacks are all off', () => {
  assert.equal(resilienceActive(resilienceConfigSchema.parse({})), true);
  assert.equal(resilienceActive(resilienceConfigSchema.parse({ retries: { maxAttempts: 1 }, circuitBreaker: { enabled: false } })), false);
});
