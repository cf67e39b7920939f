import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { formatUsd } from '../src/core/money.ts';
import { ledgerRows, picodollars, startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let client: Anthropic;

before(async () => {
  stack = await startStack();
  client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
});
after(() => stack.close());

// claude-sonnet-4-5: $3 input, $3.75 5m write, $6 1h write, $0.30 read, $15 output per million.
const SONNET = { input: 3, write5m: 3.75, write1h: 6, read: 0.3, output: 15 };
const TOOLS_TEXT = Array.from({ length: 150 }, (_, index) => `Tool guidance ${index}: prefer the search tool for order lookups.`).join('\n');
const CONTEXT_TEXT = Array.from({ length: 150 }, (_, index) => `Customer record ${index}: plan=pro, seats=${index % 9}.`).join('\n');

function expectedCost(usage: Anthropic.Usage): bigint {
  const split = usage.cache_creation;
  return picodollars([
    [usage.input_tokens, SONNET.input],
    [split?.ephemeral_5m_input_tokens ?? usage.cache_creation_input_tokens ?? 0, SONNET.write5m],
    [split?.ephemeral_1h_input_tokens ?? 0, SONNET.write1h],
    [usage.cache_read_input_tokens ?? 0, SONNET.read],
    [usage.output_tokens, SONNET.output],
  ]);
}

function request(question: string): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 200,
    // 1-hour entry first, then a 5-minute one: the order Anthropic requires.
    system: [
      { type: 'text', text: TOOLS_TEXT, cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'text', text: CONTEXT_TEXT, cache_control: { type: 'ephemeral', ttl: '5m' } },
    ],
    messages: [{ role: 'user', content: question }],
    metadata: { user_id: 'end-user-7' },
  };
}

test('messages with cache_control: 1h and 5m writes, then reads, priced additively', async () => {
  const first = await client.messages.create(request('first question'), { headers: { 'x-costgate-feature': 'support' } }).withResponse();
  const writes = first.data.usage.cache_creation;
  assert.ok((writes?.ephemeral_1h_input_tokens ?? 0) > 0 && (writes?.ephemeral_5m_input_tokens ?? 0) > 0, 'both TTLs written');
  assert.equal(first.response.headers.get('x-costgate-cost-usd'), formatUsd(expectedCost(first.data.usage)));

  const second = await client.messages.create(request('second question'), { headers: { 'x-costgate-feature': 'support' } }).withResponse();
  assert.ok((second.data.usage.cache_read_input_tokens ?? 0) > 0, 'the prefix is read from cache');
  const [firstRow, secondRow] = await ledgerRows(stack, [
    first.response.headers.get('x-costgate-request-id') ?? '',
    second.response.headers.get('x-costgate-request-id') ?? '',
  ]);
  assert.equal(firstRow?.cost, expectedCost(first.data.usage));
  assert.equal(firstRow?.usage.input.cacheWrite1h, writes?.ephemeral_1h_input_tokens);
  assert.equal(firstRow?.usage.input.cacheWrite5m, writes?.ephemeral_5m_input_tokens);
  const u = second.data.usage;
  assert.equal(secondRow?.usage.input.total, u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0));
  assert.equal(secondRow?.cost, expectedCost(u));
  // Accounting against the uncached price: writes paid 0.75 (5m) and 3 (1h) per million over input,
  // reads saved 2.70 per million.
  assert.equal(
    firstRow?.cacheWritePremium,
    picodollars([
      [writes?.ephemeral_5m_input_tokens ?? 0, SONNET.write5m - SONNET.input],
      [writes?.ephemeral_1h_input_tokens ?? 0, SONNET.write1h - SONNET.input],
    ]),
  );
  assert.equal(secondRow?.cacheReadSaving, picodollars([[u.cache_read_input_tokens ?? 0, SONNET.input - SONNET.read]]));
  const [report] = await stack.gateway.ledger.report({ by: 'feature', filter: { feature: 'support' } });
  assert.equal(report?.cacheReadSavings, (firstRow?.cacheReadSaving ?? 0n) + (secondRow?.cacheReadSaving ?? 0n));
  assert.equal(secondRow?.attribution.user, 'end-user-7');
  assert.equal(secondRow?.attribution.feature, 'support');
});

test('streamed messages: usage merged from message_start and the final message_delta', async () => {
  const stream = client.messages.stream({ ...request('streamed question'), stream: true }, { headers: { 'x-costgate-feature': 'support-stream' } });
  const message = await stream.finalMessage();
  const requestId = (await stream.withResponse()).response.headers.get('x-costgate-request-id') ?? '';
  const [row] = await ledgerRows(stack, [requestId]);
  assert.ok(row);
  assert.equal(row.stream, true);
  assert.equal(row.usage.output.total, message.usage.output_tokens);
  assert.equal(row.usage.input.cacheRead, message.usage.cache_read_input_tokens ?? 0);
  assert.equal(row.cost, expectedCost(message.usage));
  assert.equal(row.stopReason, message.stop_reason);
});

test('max_tokens cut: stop reason recorded', async () => {
  const { data, response } = await client.messages
    .create({ model: 'claude-sonnet-4-5', max_tokens: 3, messages: [{ role: 'user', content: 'long answer please' }] }, { headers: { 'x-emulator-reply-tokens': '50' } })
    .withResponse();
  assert.equal(data.stop_reason, 'max_tokens');
  const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
  assert.equal(row?.stopReason, 'max_tokens');
  assert.equal(row?.usage.output.total, 3);
});

test('count_tokens passes through and is not a billable ledger row', async () => {
  const before = await stack.gateway.ledger.count();
  const counted = await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'count me' }] });
  assert.ok(counted.input_tokens > 0);
  await stack.gateway.recorder.flush();
  assert.equal(await stack.gateway.ledger.count(), before);
});
