import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../core/errors.ts';
import type { CallContext } from '../context.ts';
import type { DeferQueue, DeferredRequest } from './defer-queue.ts';
import { createDeferStage } from './defer-stage.ts';

function queue(webhooksEnabled = true): DeferQueue & { requests: DeferredRequest[] } {
  const requests: DeferredRequest[] = [];
  return {
    requests,
    webhooksEnabled,
    async enqueue(request) {
      requests.push(request);
      return `dtest${requests.length}abc`;
    },
  };
}

function context(headers: Record<string, string>, overrides: { provider?: string; upstreamPath?: string; stream?: boolean } = {}): CallContext {
  return {
    requestId: 'r1',
    receivedAt: 1_700_000_000_000,
    call: {
      operation: { provider: overrides.provider ?? 'openai', endpoint: 'chat.completions', upstreamPath: overrides.upstreamPath ?? '/chat/completions', billable: true },
      model: 'gpt-4o-mini',
      stream: overrides.stream ?? false,
      headers,
      body: { model: 'gpt-4o-mini', messages: [] },
      rawBody: undefined,
    },
    adapter: { renderError: (error: GatewayError) => ({ status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { message: error.message } }) }) },
    attribution: { tags: {}, feature: 'nightly' },
    result: undefined,
    levers: [],
  } as unknown as CallContext;
}

async function run(call: CallContext, deferQueue: DeferQueue): Promise<boolean> {
  let called = false;
  await createDeferStage(deferQueue).run(call, async () => {
    called = true;
  });
  return called;
}

test('without the header the call passes through untouched', async () => {
  const deferQueue = queue();
  const call = context({});
  assert.equal(await run(call, deferQueue), true);
  assert.equal(call.result, undefined);
  assert.equal(deferQueue.requests.length, 0);
});

test('a deferred call is queued with its batch path and attribution and answered 202 without calling next', async () => {
  const deferQueue = queue();
  const call = context({ 'x-costgate-defer': '24h', 'x-costgate-webhook': 'https://hooks.example/x' });
  assert.equal(await run(call, deferQueue), false);
  assert.equal(call.result?.status, 202);
  const body = JSON.parse(call.result?.body.toString() ?? '{}') as { id: string; status: string; result_url: string };
  assert.deepEqual([body.id, body.status, body.result_url], ['dtest1abc', 'pending', '/costgate/deferred/dtest1abc']);
  const [request] = deferQueue.requests;
  assert.equal(request?.upstreamPath, '/v1/chat/completions');
  assert.equal(request?.feature, 'nightly');
  assert.equal(request?.webhook, 'https://hooks.example/x');
});

test('refused with 400 and nothing queued: short windows, streams, Bedrock, non-batch endpoints, webhooks without a secret, bad URLs', async () => {
  const cases: Array<[CallContext, DeferQueue]> = [
    [context({ 'x-costgate-defer': '1h' }), queue()],
    [context({ 'x-costgate-defer': 'tomorrow' }), queue()],
    [context({ 'x-costgate-defer': '24h' }, { stream: true }), queue()],
    [context({ 'x-costgate-defer': '24h' }, { provider: 'bedrock', upstreamPath: '/model/x/converse' }), queue()],
    [context({ 'x-costgate-defer': '24h' }, { upstreamPath: '/models' }), queue()],
    [context({ 'x-costgate-defer': '24h', 'x-costgate-webhook': 'https://hooks.example/x' }), queue(false)],
    [context({ 'x-costgate-defer': '24h', 'x-costgate-webhook': 'file:///etc/passwd' }), queue()],
  ];
  for (const [call, deferQueue] of cases) {
    assert.equal(await run(call, deferQueue), false);
    assert.equal(call.result?.status, 400, JSON.stringify(call.call.headers));
    assert.equal((deferQueue as ReturnType<typeof queue>).requests.length, 0);
  }
});

test('deferred Anthropic requests get their cache markers raised to 1h when asked, and only then', async () => {
  const anthropicBody = () => ({
    model: 'claude-haiku-4-5',
    system: [{ type: 'text', text: 'long policy', cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'q', cache_control: { type: 'ephemeral', ttl: '5m' } }] }],
  });
  for (const oneHourCache of [true, false]) {
    const deferQueue = queue();
    const call = context({ 'x-costgate-defer': '24h' }, { provider: 'anthropic', upstreamPath: '/v1/messages' });
    (call.call as { body: Record<string, unknown> }).body = anthropicBody();
    await createDeferStage(deferQueue, { oneHourCache }).run(call, async () => {});
    const body = deferQueue.requests[0]?.body as ReturnType<typeof anthropicBody>;
    const ttls = [body.system[0]?.cache_control, body.messages[0]?.content[0]?.cache_control].map((control) => (control as { ttl?: string }).ttl);
    assert.deepEqual(ttls, oneHourCache ? ['1h', '1h'] : [undefined, '5m']);
  }
});
