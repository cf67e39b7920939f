import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningEmulator, startEmulator } from './index.ts';
import { countTokens } from './tokens.ts';
import { textOfTokens } from './test-support.ts';

let emulator: RunningEmulator;
let client: OpenAI;

before(async () => {
  emulator = await startEmulator();
  client = new OpenAI({ apiKey: 'x', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
});
after(() => emulator.close());

describe('chat completions', () => {
  test('non-stream: deterministic reply of the default 24 tokens and inclusive usage', async () => {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hi' }] };
    const first = await client.chat.completions.create(request);
    const second = await client.chat.completions.create(request);
    const content = first.choices[0]?.message.content ?? '';
    assert.equal(first.object, 'chat.completion');
    assert.equal(first.choices[0]?.finish_reason, 'stop');
    assert.equal(content, second.choices[0]?.message.content);
    assert.equal(countTokens(content), 24);
    assert.equal(first.usage?.completion_tokens, 24);
    assert.equal(first.usage?.prompt_tokens_details?.cached_tokens, 0);
    assert.equal(first.usage?.completion_tokens_details?.reasoning_tokens, 0);
    assert.equal(first.usage?.total_tokens, (first.usage?.prompt_tokens ?? 0) + 24);
  });

  test('max_tokens and max_completion_tokens cut the reply with finish_reason length', async () => {
    for (const cap of [{ max_tokens: 5 }, { max_completion_tokens: 5 }]) {
      const completion = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Long answer please' }],
        ...cap,
      });
      assert.equal(completion.choices[0]?.finish_reason, 'length');
      assert.equal(completion.usage?.completion_tokens, 5);
    }
  });

  test('x-emulator-reply-tokens sets the reply length', async () => {
    const completion = await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-emulator-reply-tokens': '3' } },
    );
    assert.equal(completion.usage?.completion_tokens, 3);
    assert.equal(countTokens(completion.choices[0]?.message.content ?? ''), 3);
  });

  test('reasoning models spend reasoning tokens inside completion_tokens', async () => {
    const completion = await client.chat.completions.create({
      model: 'o3-mini',
      messages: [{ role: 'user', content: 'Think' }],
    });
    assert.equal(completion.usage?.completion_tokens_details?.reasoning_tokens, 32);
    assert.equal(completion.usage?.completion_tokens, 32 + 24);
  });

  test('stream with include_usage: usage: null on chunks, a final choices: [] usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.equal(last?.usage?.completion_tokens, 24);
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null));
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
    const plain = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    assert.equal(text, plain.choices[0]?.message.content, 'stream and non-stream give the same reply');
  });

  test('stream without include_usage carries no usage field', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const chunk of stream) assert.equal('usage' in chunk, false);
  });

  test('automatic prefix caching: >= 1024 tokens, 128-token steps, 10 idle minutes', async () => {
    const messages = [
      { role: 'system' as const, content: textOfTokens(1500, 'Prefix') },
      { role: 'user' as const, content: 'question one' },
    ];
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages });
    const second = await client.chat.completions.create({ model: 'gpt-4o', messages });
    const promptTokens = second.usage?.prompt_tokens ?? 0;
    const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    assert.equal(first.usage?.prompt_tokens_details?.cached_tokens, 0);
    assert.equal(cached, 1024 + Math.floor((promptTokens - 1024) / 128) * 128);

    const followUp = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [...messages, { role: 'assistant', content: 'answer' }, { role: 'user', content: 'question two' }],
    });
    assert.equal(followUp.usage?.prompt_tokens_details?.cached_tokens, cached, 'shared prefix hits');

    const otherKey = await client.chat.completions.create({ model: 'gpt-4o', messages, prompt_cache_key: 'tenant-b' });
    assert.equal(otherKey.usage?.prompt_tokens_details?.cached_tokens, 0, 'prompt_cache_key separates caches');

    emulator.clock.advance(10 * 60_000 + 1);
    const expired = await client.chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(expired.usage?.prompt_tokens_details?.cached_tokens, 0);
  });
});

describe('responses', () => {
  test('non-stream: completed with Responses usage', async () => {
    const response = await client.responses.create({ model: 'gpt-4o', input: 'Hello', instructions: 'Be brief' });
    assert.equal(response.status, 'completed');
    assert.equal(countTokens(response.output_text), 24);
    assert.equal(response.usage?.output_tokens, 24);
    assert.equal(response.usage?.input_tokens_details.cached_tokens, 0);
    assert.equal(response.usage?.output_tokens_details.reasoning_tokens, 0);
    assert.equal(response.usage?.total_tokens, (response.usage?.input_tokens ?? 0) + 24);
  });

  test('max_output_tokens makes the response incomplete', async () => {
    const response = await client.responses.create({ model: 'gpt-4o', input: 'Hello', max_output_tokens: 16 });
    assert.equal(response.status, 'incomplete');
    assert.equal(response.incomplete_details?.reason, 'max_output_tokens');
    assert.equal(response.usage?.output_tokens, 16);
  });

  test('stream: the real event sequence, ending in response.completed with usage', async () => {
    const stream = client.responses.stream({ model: 'o3', input: 'Hello' });
    const types: string[] = [];
    stream.on('event', (event) => types.push(event.type));
    const final = await stream.finalResponse();
    const distinct = types.filter((type, index) => type !== types[index - 1]);
    assert.deepEqual(distinct, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    assert.equal(final.status, 'completed');
    assert.equal(countTokens(final.output_text), 24);
    assert.equal(final.usage?.output_tokens_details.reasoning_tokens, 32);
    assert.equal(final.usage?.output_tokens, 56);
  });

  test('stream cut by max_output_tokens ends in response.incomplete', async () => {
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'Hello', max_output_tokens: 16 });
    const final = await stream.finalResponse();
    assert.equal(final.status, 'incomplete');
    assert.equal(final.usage?.output_tokens, 16);
  });
});

describe('embeddings and models', () => {
  test('embeddings: default base64 transport, dimensions honored, usage counted', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first text', 'second'] });
    assert.equal(result.data.length, 2);
    assert.equal(result.data[0]?.embedding.length, 1536);
    assert.equal(result.usage.prompt_tokens, countTokens('first text') + countTokens('second'));
    assert.equal(result.usage.total_tokens, result.usage.prompt_tokens);

    const small = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'first text',
      dimensions: 64,
      encoding_format: 'float',
    });
    assert.equal(small.data[0]?.embedding.length, 64);
    const again = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'first text', dimensions: 64 });
    assert.deepEqual(again.data[0]?.embedding, small.data[0]?.embedding.map((value) => Math.fround(value)));
  });

  test('empty input is a 400', async () => {
    await assert.rejects(
      client.embeddings.create({ model: 'text-embedding-3-small', input: '' }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.status === 400,
    );
  });

  test('models.list and retrieve', async () => {
    const models = await client.models.list();
    assert.ok(models.data.some((model) => model.id === 'gpt-4o-mini'));
    const model = await client.models.retrieve('my-custom-model');
    assert.equal(model.id, 'my-custom-model');
  });
});
