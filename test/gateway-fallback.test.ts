import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

const BEDROCK_SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';

let stack: Stack;
let anthropic: Anthropic;
let openai: OpenAI;

before(async () => {
  stack = await startStack({
    resilience: {
      retries: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      circuitBreaker: { enabled: false },
      fallbacks: {
        features: { support: { 'claude-sonnet-4-5': [{ provider: 'bedrock', model: BEDROCK_SONNET }] } },
        default: { 'gpt-4.1': [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      },
    },
  });
  anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0, defaultHeaders: { 'x-costgate-feature': 'support' } });
  openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
after(() => stack.close());

function bedrockCost(row: { usage: Parameters<Stack['gateway']['pricer']['cost']>[0]['usage']; time: number }) {
  return stack.gateway.pricer.cost({ provider: 'bedrock', model: BEDROCK_SONNET, usage: row.usage, at: new Date(row.time) });
}

test('a 529 storm on Anthropic: the call goes to the same Claude model on Bedrock and the client gets a Messages response', async () => {
  stack.emulator.faults.add({ status: 529, provider: 'anthropic' });
  try {
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'where is my order?' }] })
      .withResponse();
    assert.equal(data.type, 'message');
    assert.equal(data.role, 'assistant');
    assert.ok(data.content[0]?.type === 'text' && data.content[0].text.length > 0);
    assert.ok(data.usage.output_tokens > 0);
    assert.equal(response.headers.get('x-costgate-served-by'), `bedrock/${BEDROCK_SONNET}`);
    assert.equal(response.headers.get('x-costgate-attempts'), '3', 'two refused on Anthropic, one answered on Bedrock');

    const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
    assert.ok(row);
    assert.equal(row.provider, 'bedrock');
    assert.equal(row.requestedModel, 'claude-sonnet-4-5');
    assert.equal(row.servedModel, BEDROCK_SONNET);
    assert.equal(row.status, 200);
    assert.equal(row.usage.output.total, data.usage.output_tokens);
    assert.equal(row.route, `fallback:bedrock/${BEDROCK_SONNET}`);
    const expected = bedrockCost(row);
    assert.ok(expected, 'Bedrock Sonnet 4.5 has a price');
    assert.equal(row.cost, expected.cost);
    assert.equal(row.priceVersion, expected.priceVersion);
  } finally {
    stack.emulator.faults.clear();
  }
});

test('the same storm on a stream: Bedrock event-stream frames reach the Anthropic client as Messages SSE', async () => {
  stack.emulator.faults.add({ status: 529, provider: 'anthropic' });
  try {
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'stream it please' }] });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const message = await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.ok(texts.length > 1, 'text arrives in deltas');
    assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : '', texts.join(''));
    assert.ok(message.usage.output_tokens > 0);
    assert.ok(message.stop_reason);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.equal(response.headers.get('x-costgate-served-by'), `bedrock/${BEDROCK_SONNET}`);

    const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
    assert.ok(row);
    assert.equal(row.provider, 'bedrock');
    assert.equal(row.servedModel, BEDROCK_SONNET);
    assert.equal(row.stream, true);
    assert.equal(row.usage.output.total, message.usage.output_tokens);
    assert.equal(row.cost, bedrockCost(row)?.cost);
  } finally {
    stack.emulator.faults.clear();
  }
});

test('without a storm the call stays on Anthropic, and a feature without fallbacks gets the error', async () => {
  const { response } = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  assert.equal(response.headers.get('x-costgate-served-by'), null);
  const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
  assert.equal(row?.provider, 'anthropic');

  stack.emulator.faults.add({ status: 529, provider: 'anthropic' });
  try {
    const other = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0, defaultHeaders: { 'x-costgate-feature': 'search' } });
    await assert.rejects(other.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError);
      assert.equal(error.status, 529);
      assert.equal((error.error as { error?: { type?: string } }).error?.type, 'overloaded_error');
      return true;
    });
  } finally {
    stack.emulator.faults.clear();
  }
});

test('when the alternate fails too, the client gets the requested upstream\'s own error', async () => {
  stack.emulator.faults.add({ status: 529, provider: 'anthropic' });
  stack.emulator.faults.add({ status: 500, provider: 'bedrock' });
  try {
    await assert.rejects(anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError);
      assert.equal(error.status, 529);
      assert.equal(error.headers?.get('x-costgate-attempts'), '4');
      return true;
    });
  } finally {
    stack.emulator.faults.clear();
  }
});

test('a same-provider model alternate: gpt-4.1 failing is answered by gpt-4o-mini, priced as gpt-4o-mini', async () => {
  stack.emulator.faults.add({ status: 500, provider: 'openai', model: 'gpt-4.1' });
  try {
    const { data, response } = await openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    assert.ok(data.choices[0]?.message.content);
    assert.equal(response.headers.get('x-costgate-served-by'), 'openai/gpt-4o-mini');
    const [row] = await ledgerRows(stack, [response.headers.get('x-costgate-request-id') ?? '']);
    assert.ok(row);
    assert.equal(row.provider, 'openai');
    assert.equal(row.requestedModel, 'gpt-4.1');
    assert.match(row.servedModel ?? '', /^gpt-4o-mini/);
    assert.equal(row.cost, stack.gateway.pricer.cost({ provider: 'openai', model: row.servedModel ?? '', usage: row.usage, at: new Date(row.time) })?.cost);
  } finally {
    stack.emulator.faults.clear();
  }
});
