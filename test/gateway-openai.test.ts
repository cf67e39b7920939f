import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { formatUsd } from '../src/core/money.ts';
import { ledgerRows, picodollars, startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ apiKey: 'sk-client-key', baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
after(() => stack.close());

// gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million tokens.
const MINI = { input: 0.15, cached: 0.075, output: 0.6 };
const LONG_SYSTEM = Array.from({ length: 200 }, (_, index) => `Rule ${index}: answer briefly and cite the policy number.`).join('\n');

test('non-streamed chat: response untouched, cost header and ledger row match hand-computed OpenAI inclusive accounting', async () => {
  const first = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: LONG_SYSTEM }, { role: 'user', content: 'hi' }] }, { headers: { 'x-costgate-feature': 'faq', 'x-costgate-customer': 'acme' } })
    .withResponse();
  // Same long prefix again: the emulator's automatic prefix caching serves part of it from cache.
  const { data, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: LONG_SYSTEM }, { role: 'user', content: 'hello again' }] }, { headers: { 'x-costgate-feature': 'faq', 'x-costgate-customer': 'acme' } })
    .withResponse();
  const usage = data.usage;
  assert.ok(usage);
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  assert.ok(cached >= 1024, `expected a prefix cache hit, got ${cached} cached tokens`);
  const expected = picodollars([
    [usage.prompt_tokens - cached, MINI.input],
    [cached, MINI.cached],
    [usage.completion_tokens, MINI.output],
  ]);
  assert.equal(response.headers.get('x-costgate-cost-usd'), formatUsd(expected));
  const requestId = response.headers.get('x-costgate-request-id');
  assert.ok(requestId);
  const [row] = await ledgerRows(stack, [requestId]);
  assert.ok(row);
  assert.equal(row.cost, expected);
  assert.equal(row.baselineCost, expected);
  assert.equal(row.usage.input.total, usage.prompt_tokens);
  assert.equal(row.usage.input.cacheRead, cached);
  assert.equal(row.usage.input.noCache, usage.prompt_tokens - cached);
  assert.deepEqual([row.attribution.feature, row.attribution.customer], ['faq', 'acme']);
  assert.equal(row.provider, 'openai');
  assert.equal(row.endpoint, 'chat.completions');
  assert.equal(row.stream, false);
  assert.equal(row.status, 200);
  assert.ok(row.priceVersion);
  assert.ok(first.response.headers.get('x-costgate-request-id'));
});

test('streamed chat without include_usage: the client sees no usage chunk, the ledger still gets usage', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream please' }] }, { headers: { 'x-costgate-feature': 'chat' } })
    .withResponse();
  let text = '';
  for await (const chunk of stream) {
    assert.equal(chunk.usage, undefined, 'the client did not ask for usage and must not see it');
    assert.ok(chunk.choices.length > 0, 'no usage-only chunk may reach the client');
    text += chunk.choices[0]?.delta.content ?? '';
  }
  assert.ok(text.length > 0);
  const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
  assert.ok(row?.usage.input.total && row.usage.output.total);
  assert.equal(row.stream, true);
  assert.equal(row.cost, picodollars([[row.usage.input.total, MINI.input], [row.usage.output.total, MINI.output]]));
  assert.ok(row.ttfbMs !== undefined && row.ttfbMs <= row.latencyMs);
});

test('streamed chat with include_usage: the client gets its usage chunk as asked', async () => {
  const stream = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'with usage' }],
  });
  let usageChunks = 0;
  for await (const chunk of stream) if (chunk.usage) usageChunks += 1;
  assert.equal(usageChunks, 1);
});

test('responses API, streamed and not, is priced from response.usage', async () => {
  const { data, response } = await client.responses.create({ model: 'gpt-4o-mini', input: 'Say hi' }).withResponse();
  assert.ok(data.usage);
  const expected = picodollars([[data.usage.input_tokens, MINI.input], [data.usage.output_tokens, MINI.output]]);
  assert.equal(response.headers.get('x-costgate-cost-usd'), formatUsd(expected));

  const { data: stream, response: streamed } = await client.responses.create({ model: 'gpt-4o-mini', input: 'Stream hi', stream: true }).withResponse();
  let completed = false;
  for await (const event of stream) if (event.type === 'response.completed') completed = true;
  assert.ok(completed);
  const [row] = await ledgerRows(stack, [streamed.headers.get('x-costgate-request-id') ?? '']);
  assert.ok(row?.usage.output.total);
  assert.equal(row.endpoint, 'responses');
});

test('embeddings are recorded; model listing passes through without a ledger row', async () => {
  const { data, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b c'] }).withResponse();
  assert.equal(data.data.length, 2);
  const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
  assert.equal(row?.cost, picodollars([[data.usage.prompt_tokens, 0.02]]));

  const before = await stack.gateway.ledger.count();
  const models = await client.models.list();
  assert.ok(models.data.length > 0);
  await stack.gateway.recorder.flush();
  assert.equal(await stack.gateway.ledger.count(), before);
});

test('attribution falls back to the OpenAI user and metadata fields', async () => {
  const { response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', user: 'user-42', metadata: { feature: 'search', customer: 'globex', env: 'prod' }, store: true, messages: [{ role: 'user', content: 'x' }] })
    .withResponse();
  const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
  assert.equal(row?.attribution.user, 'user-42');
  assert.equal(row?.attribution.feature, 'search');
  assert.equal(row?.attribution.customer, 'globex');
  assert.equal(row?.attribution.tags.env, 'prod');
});

test('a model without a known price is recorded as unpriced, never $0', async () => {
  const { response } = await client.chat.completions.create({ model: 'ft:acme-private-9', messages: [{ role: 'user', content: 'x' }] }).withResponse();
  assert.equal(response.headers.get('x-costgate-cost-usd'), null);
  const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
  assert.equal(row?.cost, undefined);
  assert.ok(row?.usage.input.total, 'usage is still recorded');
  const unpriced = await stack.gateway.ledger.unpricedModels();
  assert.ok(unpriced.some((model) => model.model === 'ft:acme-private-9'));
});
