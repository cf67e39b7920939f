import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages/messages';
import { type RunningEmulator, startEmulator } from './index.ts';
import { textOfTokens } from './test-support.ts';
import { countTokens } from './tokens.ts';

const MINUTE = 60_000;
let emulator: RunningEmulator;
let client: Anthropic;

before(async () => {
  emulator = await startEmulator();
  client = new Anthropic({ apiKey: 'x', baseURL: emulator.url, maxRetries: 0 });
});
after(() => emulator.close());

function cacheCounters(usage: Anthropic.Usage) {
  return {
    input: usage.input_tokens,
    write: usage.cache_creation_input_tokens,
    read: usage.cache_read_input_tokens,
    write5m: usage.cache_creation?.ephemeral_5m_input_tokens,
    write1h: usage.cache_creation?.ephemeral_1h_input_tokens,
  };
}

describe('messages', () => {
  test('create: deterministic text reply, end_turn, additive usage', async () => {
    const request = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Hi there' }] };
    const message = await client.messages.create(request);
    const again = await client.messages.create(request);
    assert.equal(message.type, 'message');
    assert.equal(message.stop_reason, 'end_turn');
    const block = message.content[0];
    assert.equal(block?.type, 'text');
    assert.equal(block?.type === 'text' ? countTokens(block.text) : 0, 24);
    assert.deepEqual(again.content, message.content);
    assert.deepEqual(cacheCounters(message.usage), { input: countTokens('Hi there'), write: 0, read: 0, write5m: 0, write1h: 0 });
    assert.equal(message.usage.output_tokens, 24);
  });

  test('max_tokens cuts the reply with stop_reason max_tokens', async () => {
    const message = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 7,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(message.stop_reason, 'max_tokens');
    assert.equal(message.usage.output_tokens, 7);
  });

  // The SDK drops ping events, so the raw SSE test below checks for them.
  test('stream: finalMessage matches create, usage complete after message_delta', async () => {
    const request = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Stream it' }] };
    const stream = client.messages.stream(request);
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const final = await stream.finalMessage();
    const plain = await client.messages.create(request);
    assert.deepEqual(final.content, plain.content);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 24);
    assert.equal(final.usage.input_tokens, plain.usage.input_tokens);
    const distinct = types.filter((type, index) => type !== types[index - 1]);
    assert.deepEqual(distinct, [
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  test('raw SSE carries event names and cache fields in message_start', async () => {
    const response = await fetch(`${emulator.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await response.text();
    assert.match(text, /^event: message_start\ndata: /);
    assert.match(text, /event: ping\ndata: \{"type":"ping"\}/);
    assert.match(text, /"cache_creation":\{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0\}/);
    assert.match(text, /event: message_delta\ndata: .*"stop_reason":"max_tokens".*"output_tokens":3/);
  });

  test('count_tokens counts the same input as create', async () => {
    const params = {
      model: 'claude-sonnet-4-5',
      system: 'You are terse.',
      messages: [{ role: 'user' as const, content: 'Count me' }],
    };
    const counted = await client.messages.countTokens(params);
    const message = await client.messages.create({ ...params, max_tokens: 5 });
    assert.equal(counted.input_tokens, message.usage.input_tokens);
  });

  test('missing max_tokens is a 400 invalid_request_error in Anthropic error shape', async () => {
    const params = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] };
    await assert.rejects(client.messages.create(params as unknown as MessageCreateParamsNonStreaming), (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.equal(error.status, 400);
      const body = error.error as { type: string; error: { type: string }; request_id: string };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.request_id, /^req_/);
      return true;
    });
  });
});

describe('prompt caching', () => {
  const system = (tokens: number, lead: string, ttl?: '5m' | '1h') => [
    {
      type: 'text' as const,
      text: textOfTokens(tokens, lead),
      cache_control: ttl === undefined ? { type: 'ephemeral' as const } : { type: 'ephemeral' as const, ttl },
    },
  ];
  const ask = (model: string, systemBlocks: Anthropic.TextBlockParam[]) =>
    client.messages.create({ model, max_tokens: 10, system: systemBlocks, messages: [{ role: 'user', content: 'Hi' }] });

  test('a write, then a read, then expiry after 5 minutes', async () => {
    const blocks = system(1500, 'Policy');
    assert.deepEqual(cacheCounters((await ask('claude-sonnet-4-5', blocks)).usage), {
      input: 1,
      write: 1500,
      read: 0,
      write5m: 1500,
      write1h: 0,
    });
    assert.deepEqual(cacheCounters((await ask('claude-sonnet-4-5', blocks)).usage), {
      input: 1,
      write: 0,
      read: 1500,
      write5m: 0,
      write1h: 0,
    });
    emulator.clock.advance(5 * MINUTE + 1);
    assert.equal((await ask('claude-sonnet-4-5', blocks)).usage.cache_creation_input_tokens, 1500);
  });

  test('1h and 5m breakpoints split the write; after 6 minutes only the 1h part is read', async () => {
    const blocks = [...system(1200, 'Manual', '1h'), ...system(1300, 'Examples', '5m')];
    const first = cacheCounters((await ask('claude-sonnet-4-5', blocks)).usage);
    assert.deepEqual(first, { input: 1, write: 2500, read: 0, write5m: 1300, write1h: 1200 });
    emulator.clock.advance(6 * MINUTE);
    const later = cacheCounters((await ask('claude-sonnet-4-5', blocks)).usage);
    assert.deepEqual(later, { input: 1, write: 1300, read: 1200, write5m: 1300, write1h: 0 });
  });

  test('below the model minimum (haiku-4-5: 4096) nothing is cached', async () => {
    const blocks = system(1500, 'Short');
    for (let call = 0; call < 2; call += 1) {
      assert.deepEqual(cacheCounters((await ask('claude-haiku-4-5', blocks)).usage), {
        input: 1501,
        write: 0,
        read: 0,
        write5m: 0,
        write1h: 0,
      });
    }
  });

  test('streamed messages report the same cache counters', async () => {
    const blocks = system(1100, 'Streamed');
    const params = { model: 'claude-sonnet-4-5', max_tokens: 10, system: blocks, messages: [{ role: 'user' as const, content: 'Hi' }] };
    const first = await client.messages.stream(params).finalMessage();
    const second = await client.messages.stream(params).finalMessage();
    assert.equal(first.usage.cache_creation_input_tokens, 1100);
    assert.equal(second.usage.cache_read_input_tokens, 1100);
    assert.equal(second.usage.input_tokens, 1);
  });

  test('top-level cache_control caches the conversation and moves forward with it', async () => {
    const turn1: Anthropic.MessageParam[] = [{ role: 'user', content: textOfTokens(1200, 'Conversation') }];
    const first = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, cache_control: { type: 'ephemeral' }, messages: turn1 });
    assert.equal(first.usage.cache_creation_input_tokens, 1200);
    const turn2: Anthropic.MessageParam[] = [...turn1, { role: 'assistant', content: 'Sure' }, { role: 'user', content: 'More' }];
    const second = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, cache_control: { type: 'ephemeral' }, messages: turn2 });
    assert.equal(second.usage.cache_read_input_tokens, 1200);
    assert.equal(second.usage.cache_creation_input_tokens, countTokens('Sure') + countTokens('More'));
  });

  test('a string content and the same text as a marked block are one prefix', async () => {
    const question = textOfTokens(1300, 'Shorthand');
    const marked = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 5,
      messages: [{ role: 'user', content: [{ type: 'text', text: question, cache_control: { type: 'ephemeral' } }] }],
    });
    assert.equal(marked.usage.cache_creation_input_tokens, 1300);
    // The next turn sends the earlier message back as a plain string, as clients do.
    const next = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 5,
      messages: [
        { role: 'user', content: question },
        { role: 'assistant', content: 'Noted' },
        { role: 'user', content: [{ type: 'text', text: 'And then?', cache_control: { type: 'ephemeral' } }] },
      ],
    });
    assert.equal(next.usage.cache_read_input_tokens, 1300);
  });

  test('invalid breakpoints are 400s: five of them, or 1h after 5m', async () => {
    const tiny = (ttl: '5m' | '1h') => ({ type: 'text' as const, text: 'x', cache_control: { type: 'ephemeral' as const, ttl } });
    const isBadRequest = (error: unknown) => error instanceof Anthropic.BadRequestError;
    await assert.rejects(ask('claude-sonnet-4-5', ['5m', '5m', '5m', '5m', '5m'].map(() => tiny('5m'))), isBadRequest);
    await assert.rejects(ask('claude-sonnet-4-5', [tiny('5m'), tiny('1h')]), isBadRequest);
  });
});
