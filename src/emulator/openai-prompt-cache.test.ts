import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningEmulator, startEmulator } from './index.ts';
import { textOfTokens } from './test-support.ts';

// gpt-5.6+ explicit prompt caching (provider-facts §1.1) through the official SDK.
let emulator: RunningEmulator;
let client: OpenAI;

before(async () => {
  emulator = await startEmulator();
  client = new OpenAI({ apiKey: 'x', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
});
after(() => emulator.close());

const MINUTE = 60_000;
const MARK = { mode: 'explicit' as const };
const SYSTEM = textOfTokens(2000, 'Rules');

function chat(system: OpenAI.ChatCompletionSystemMessageParam['content'], question: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) {
  return client.chat.completions.create({
    model: 'gpt-5.6-sol',
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: question },
    ],
    ...extra,
  });
}

describe('gpt-5.6 explicit breakpoints', () => {
  test('a marker changes no token; explicit mode writes at the marker, the next call reads exactly there', async () => {
    emulator.reset();
    const plain = await chat(SYSTEM, 'first', { prompt_cache_options: { mode: 'explicit' } });
    assert.equal(plain.usage?.prompt_tokens_details?.cached_tokens, 0);
    assert.equal(plain.usage?.prompt_tokens_details?.cache_write_tokens, 0, 'explicit mode without a marker caches nothing');
    const marked = [{ type: 'text' as const, text: SYSTEM, prompt_cache_breakpoint: MARK }];
    const write = await chat(marked, 'second', { prompt_cache_options: { mode: 'explicit', ttl: '30m' } });
    assert.equal(write.usage?.prompt_tokens, plain.usage?.prompt_tokens, 'a string content equals one marked text part');
    const written = write.usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
    assert.ok(written > 2000 && written < 2100, `written ${written}: the system message, not the question`);
    assert.notEqual(written % 128, 0);
    const read = await chat(marked, 'third, a different question', { prompt_cache_options: { mode: 'explicit' } });
    assert.equal(read.usage?.prompt_tokens_details?.cached_tokens, written, 'read at the exact offset, not rounded to 128');
    assert.equal(read.usage?.prompt_tokens_details?.cache_write_tokens, 0);
  });

  test('the default implicit mode writes the whole prompt at 128-token steps and reads it back', async () => {
    emulator.reset();
    const first = await chat(SYSTEM, 'question');
    const written = first.usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
    assert.equal(written, 1024 + Math.floor(((first.usage?.prompt_tokens ?? 0) - 1024) / 128) * 128);
    const second = await chat(SYSTEM, 'question');
    assert.equal(second.usage?.prompt_tokens_details?.cached_tokens, written);
  });

  test('entries live 30 minutes on gpt-5.6', async () => {
    emulator.reset();
    const marked = [{ type: 'text' as const, text: SYSTEM, prompt_cache_breakpoint: MARK }];
    const options = { prompt_cache_options: { mode: 'explicit' as const } };
    await chat(marked, 'a', options);
    emulator.clock.advance(29 * MINUTE);
    assert.ok((await chat(marked, 'b', options)).usage?.prompt_tokens_details?.cached_tokens);
    emulator.clock.advance(31 * MINUTE);
    assert.equal((await chat(marked, 'c', options)).usage?.prompt_tokens_details?.cached_tokens, 0);
  });

  test('Responses: input_text markers, and the options echoed on the response', async () => {
    emulator.reset();
    const input: OpenAI.Responses.ResponseInput = [
      { role: 'user', content: [{ type: 'input_text', text: SYSTEM, prompt_cache_breakpoint: MARK }, { type: 'input_text', text: 'what now?' }] },
    ];
    const first = await client.responses.create({ model: 'gpt-5.6-terra', input, prompt_cache_options: { mode: 'explicit' } });
    assert.deepEqual(first.prompt_cache_options, { mode: 'explicit', ttl: '30m' });
    const written = first.usage?.input_tokens_details.cache_write_tokens ?? 0;
    assert.ok(written > 2000 && written < (first.usage?.input_tokens ?? 0));
    const second = await client.responses.create({ model: 'gpt-5.6-terra', input, prompt_cache_options: { mode: 'explicit' } });
    assert.equal(second.usage?.input_tokens_details.cached_tokens, written);
    const older = await client.responses.create({ model: 'gpt-5.5', input: 'hi' });
    assert.equal(older.prompt_cache_options, undefined);
  });

  test('models before gpt-5.6 and malformed options are refused with a 400', async () => {
    const marked = [{ type: 'text' as const, text: 'x', prompt_cache_breakpoint: MARK }];
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: marked }] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /prompt_cache_breakpoint/.test(error.message),
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-5.5', messages: [{ role: 'user', content: 'x' }], prompt_cache_options: { mode: 'explicit' } }),
      OpenAI.BadRequestError,
    );
    await assert.rejects(
      client.chat.completions.create({
        model: 'gpt-5.6-luna',
        messages: [{ role: 'user', content: 'x' }],
        prompt_cache_options: { ttl: '1h' as '30m' },
      }),
      OpenAI.BadRequestError,
    );
  });
});
