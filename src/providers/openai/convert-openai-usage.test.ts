import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  convertOpenAIChatUsage,
  convertOpenAIEmbeddingsUsage,
  convertOpenAIResponsesUsage,
} from './convert-openai-usage.ts';

function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

describe('convertOpenAIChatUsage', () => {
  it('treats cached tokens as part of prompt_tokens (cookbook: 2006 prompt, 1920 cached)', () => {
    const body = fixture('chat-completion-cached.json');
    const usage = convertOpenAIChatUsage(body.usage);
    assert.deepEqual(usage?.input, { total: 2006, noCache: 86, cacheRead: 1920 });
    assert.deepEqual(usage?.output, { total: 300, text: 300, reasoning: 0 });
    assert.equal(usage?.raw, body.usage);
  });

  it('keeps reasoning inside the output total', () => {
    const usage = convertOpenAIChatUsage(fixture('chat-completion-reasoning.json').usage);
    assert.deepEqual(usage?.input, { total: 3000, noCache: 1976, cacheRead: 1024 });
    assert.deepEqual(usage?.output, { total: 2500, text: 700, reasoning: 1800 });
  });

  it('takes gpt-5.6 cache writes out of the prompt and records them as cacheWrite5m', () => {
    const usage = convertOpenAIChatUsage(fixture('chat-completion-cache-write.json').usage);
    // 5000 prompt - 1024 read - 3500 written = 476 uncached.
    assert.deepEqual(usage?.input, { total: 5000, noCache: 476, cacheRead: 1024, cacheWrite5m: 3500 });
  });

  it('leaves cache and reasoning undefined when an old model reports no details', () => {
    const usage = convertOpenAIChatUsage(fixture('chat-completion-legacy.json').usage);
    assert.deepEqual(usage?.input, { total: 12, noCache: 12 });
    assert.deepEqual(usage?.output, { total: 5 });
  });

  it('distinguishes a reported zero from a missing field', () => {
    const usage = convertOpenAIChatUsage({
      prompt_tokens: 0,
      completion_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    assert.deepEqual(usage?.input, { total: 0, noCache: 0, cacheRead: 0 });
    assert.deepEqual(usage?.output, { total: 0 });
    const missing = convertOpenAIChatUsage({ prompt_tokens: 10 });
    assert.deepEqual(missing?.input, { total: 10, noCache: 10 });
    assert.deepEqual(missing?.output, {});
  });

  it('reads only the final streamed chunk; usage:null chunks give undefined', () => {
    const chunks = fixture('chat-stream-chunks.json') as { usage: unknown }[];
    const converted = chunks.map((chunk) => convertOpenAIChatUsage(chunk.usage));
    assert.deepEqual(converted.slice(0, 3), [undefined, undefined, undefined]);
    assert.deepEqual(converted[3]?.input, { total: 1500, noCache: 220, cacheRead: 1280 });
    assert.deepEqual(converted[3]?.output, { total: 3, text: 3, reasoning: 0 });
  });

  it('ignores malformed fields instead of failing the whole usage', () => {
    const usage = convertOpenAIChatUsage({
      prompt_tokens: 100,
      completion_tokens: 'ten',
      prompt_tokens_details: { cached_tokens: -5 },
      completion_tokens_details: null,
    });
    assert.deepEqual(usage?.input, { total: 100, noCache: 100 });
    assert.deepEqual(usage?.output, {});
  });

  it('clamps noCache at 0 if reads and writes exceed the prompt', () => {
    const usage = convertOpenAIChatUsage({
      prompt_tokens: 100,
      completion_tokens: 1,
      prompt_tokens_details: { cached_tokens: 80, cache_write_tokens: 40 },
    });
    assert.equal(usage?.input.noCache, 0);
  });

  it('returns undefined for things that are not usage', () => {
    for (const raw of [undefined, null, 'usage', 42, [], {}, { total_tokens: 5 }]) {
      assert.equal(convertOpenAIChatUsage(raw), undefined, JSON.stringify(raw));
    }
  });
});

describe('convertOpenAIResponsesUsage', () => {
  it('converts a Responses body: input_tokens includes cached tokens', () => {
    const usage = convertOpenAIResponsesUsage(fixture('responses-body.json').usage);
    assert.deepEqual(usage?.input, { total: 4096, noCache: 128, cacheRead: 3968 });
    assert.deepEqual(usage?.output, { total: 900, text: 68, reasoning: 832 });
  });

  it('converts response.completed (streaming) with cache writes', () => {
    const event = fixture('responses-completed-event.json');
    const usage = convertOpenAIResponsesUsage(event.response.usage);
    // 12000 - 8192 read - 3000 written = 808 uncached.
    assert.deepEqual(usage?.input, { total: 12000, noCache: 808, cacheRead: 8192, cacheWrite5m: 3000 });
    assert.deepEqual(usage?.output, { total: 640, text: 128, reasoning: 512 });
  });

  it('returns undefined without counts', () => {
    assert.equal(convertOpenAIResponsesUsage({ total_tokens: 3 }), undefined);
    assert.equal(convertOpenAIResponsesUsage(null), undefined);
  });
});

describe('convertOpenAIEmbeddingsUsage', () => {
  it('records prompt tokens as uncached input and a zero output', () => {
    const body = fixture('embeddings-body.json');
    const usage = convertOpenAIEmbeddingsUsage(body.usage);
    assert.deepEqual(usage, { input: { total: 8, noCache: 8 }, output: { total: 0 }, raw: body.usage });
  });

  it('returns undefined without prompt_tokens', () => {
    assert.equal(convertOpenAIEmbeddingsUsage({ total_tokens: 8 }), undefined);
    assert.equal(convertOpenAIEmbeddingsUsage(undefined), undefined);
  });
});
