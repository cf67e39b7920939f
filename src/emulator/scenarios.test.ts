import assert from 'node:assert/strict';
import { connect, constants as http2Constants } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InternalServerException,
  ServiceUnavailableException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { type RunningEmulator, startEmulator } from './index.ts';
import { eventually, textOfTokens } from './test-support.ts';

let emulator: RunningEmulator;
let openai: OpenAI;
let anthropic: Anthropic;
let bedrock: BedrockRuntimeClient;

before(async () => {
  emulator = await startEmulator();
  openai = new OpenAI({ apiKey: 'x', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'x', baseURL: emulator.url, maxRetries: 0 });
  bedrock = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
});
after(async () => {
  bedrock.destroy();
  await emulator.close();
});

const chat = (model: string, options: OpenAI.RequestOptions = {}) =>
  openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }, options);
const message = (model: string) =>
  anthropic.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
const converse = (modelId: string) =>
  bedrock.send(new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));

describe('failure scenarios parse into each SDK error class', () => {
  test('OpenAI: 429 with retry-after, 500, and 503 for emu-529', async () => {
    await assert.rejects(chat('gpt-4o-emu-429'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.status, 429);
      assert.equal(error.headers?.get('retry-after'), '1');
      assert.equal(error.code, 'rate_limit_exceeded');
      return true;
    });
    await assert.rejects(chat('gpt-4o-emu-500'), (error: unknown) => error instanceof OpenAI.InternalServerError && error.status === 500);
    await assert.rejects(chat('gpt-4o-emu-529'), (error: unknown) => error instanceof OpenAI.InternalServerError && error.status === 503);
  });

  test('Anthropic: rate_limit_error 429, api_error 500, overloaded_error 529', async () => {
    const errorType = (error: unknown) => ((error as { error: { error: { type: string } } }).error.error.type);
    await assert.rejects(message('claude-sonnet-4-5-emu-429'), (error: unknown) => {
      assert.ok(error instanceof Anthropic.RateLimitError);
      assert.equal(error.headers?.get('retry-after'), '1');
      assert.equal(errorType(error), 'rate_limit_error');
      return true;
    });
    await assert.rejects(message('claude-emu-500'), (error: unknown) => error instanceof Anthropic.InternalServerError && errorType(error) === 'api_error');
    await assert.rejects(message('claude-emu-529'), (error: unknown) => {
      assert.ok(error instanceof Anthropic.InternalServerError);
      assert.equal(error.status, 529);
      assert.equal(errorType(error), 'overloaded_error');
      return true;
    });
  });

  test('Bedrock: ThrottlingException 429, InternalServerException 500, ServiceUnavailableException 503', async () => {
    await assert.rejects(converse('anthropic.claude-emu-429'), (error: unknown) => {
      assert.ok(error instanceof ThrottlingException);
      assert.equal(error.$metadata.httpStatusCode, 429);
      return true;
    });
    await assert.rejects(converse('anthropic.claude-emu-500'), (error: unknown) => error instanceof InternalServerException);
    await assert.rejects(
      converse('anthropic.claude-emu-529'),
      (error: unknown) => error instanceof ServiceUnavailableException && error.$metadata.httpStatusCode === 503,
    );
  });

  test('the x-emulator-scenario header works like the model id', async () => {
    await assert.rejects(
      chat('gpt-4o', { headers: { 'x-emulator-scenario': 'emu-500' } }),
      (error: unknown) => error instanceof OpenAI.InternalServerError,
    );
  });

  test('emu-429-then-ok: a 429, then success; an SDK retry gets through after retry-after', async () => {
    await assert.rejects(chat('gpt-4o-emu-429-then-ok'), (error: unknown) => error instanceof OpenAI.RateLimitError);
    assert.equal((await chat('gpt-4o-emu-429-then-ok')).object, 'chat.completion');
    await assert.rejects(converse('anthropic.claude-emu-429-then-ok'), (error: unknown) => error instanceof ThrottlingException);
    assert.equal((await converse('anthropic.claude-emu-429-then-ok')).stopReason, 'end_turn');

    const retrying = new OpenAI({ apiKey: 'x', baseURL: `${emulator.url}/v1`, maxRetries: 1 });
    const before = emulator.requests;
    const completion = await retrying.chat.completions.create({
      model: 'gpt-4o-emu-429-then-ok',
      messages: [{ role: 'user', content: 'retry me' }],
    });
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.equal(emulator.requests - before, 2);
  });
});

describe('timing scenarios', () => {
  test('emu-latency-<ms> delays the response', async () => {
    const started = performance.now();
    await chat('gpt-4o-emu-latency-150');
    assert.ok(performance.now() - started >= 140);
  });

  test('the latencyMs option delays every response and shows in Bedrock metrics', async () => {
    const slow = await startEmulator({ latencyMs: 80 });
    try {
      const client = new BedrockRuntimeClient({
        region: 'us-east-1',
        endpoint: slow.url,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
      const started = performance.now();
      const result = await client.send(
        new ConverseCommand({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      );
      assert.ok(performance.now() - started >= 75);
      assert.equal(result.metrics?.latencyMs, 80);
      client.destroy();
    } finally {
      await slow.close();
    }
  });

  test('emu-slow-stream paces chunks 100 ms apart', async () => {
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o-emu-slow-stream', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { headers: { 'x-emulator-reply-tokens': '3' } },
    );
    const arrivals: number[] = [];
    for await (const _chunk of stream) arrivals.push(performance.now());
    assert.equal(arrivals.length, 5, 'role, three tokens, finish');
    assert.ok((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0) >= 350);
  });

  test('a client abort during a slow stream is counted in abortedRequests', async () => {
    const before = emulator.abortedRequests;
    const stream = await openai.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true },
      { headers: { 'x-emulator-scenario': 'emu-slow-stream' } },
    );
    for await (const _chunk of stream) break; // leaving the loop aborts the request
    await eventually(() => emulator.abortedRequests === before + 1);
  });

  test('an HTTP/2 stream reset (the Bedrock transport) is counted as an abort', async () => {
    const before = emulator.abortedRequests;
    const session = connect(emulator.url);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': `/model/${encodeURIComponent('anthropic.claude-emu-slow-stream')}/converse-stream`,
      });
      stream.end(JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      stream.close(http2Constants.NGHTTP2_CANCEL);
      await eventually(() => emulator.abortedRequests === before + 1);
    } finally {
      session.close();
    }
  });

  test('a client abort while waiting on latency is counted too', async () => {
    const before = emulator.abortedRequests;
    const controller = new AbortController();
    const pending = chat('gpt-4o-emu-latency-5000', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending);
    await eventually(() => emulator.abortedRequests === before + 1);
  });
});

describe('emu-broken-stream', () => {
  test('OpenAI, Anthropic and Bedrock streams fail midway; not counted as client aborts', async () => {
    const before = emulator.abortedRequests;
    const openaiStream = await openai.chat.completions.create({
      model: 'gpt-4o-emu-broken-stream',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let received = 0;
    await assert.rejects(async () => {
      for await (const _chunk of openaiStream) received += 1;
    });
    assert.ok(received > 0, 'some chunks arrived before the break');

    await assert.rejects(
      anthropic.messages
        .stream({ model: 'claude-emu-broken-stream', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
        .finalMessage(),
    );

    await assert.rejects(async () => {
      const result = await bedrock.send(
        new ConverseStreamCommand({
          modelId: 'anthropic.claude-emu-broken-stream',
          messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        }),
      );
      for await (const _event of result.stream ?? []) {
        // drain until the connection breaks
      }
    });
    await assert.rejects(chat('gpt-4o-emu-broken-stream'), 'a non-stream body is cut too');
    assert.equal(emulator.abortedRequests, before);
  });
});

describe('control endpoints and counters', () => {
  test('clock, reset and stats over HTTP', async () => {
    const clock = (await (await fetch(`${emulator.url}/emulator/clock`)).json()) as { now: number };
    const advanced = await fetch(`${emulator.url}/emulator/clock`, {
      method: 'POST',
      body: JSON.stringify({ advanceMs: 60_000 }),
    });
    const after = (await advanced.json()) as { now: number };
    assert.ok(after.now - clock.now >= 60_000);
    const bad = await fetch(`${emulator.url}/emulator/clock`, { method: 'POST', body: '{"advanceMs":"soon"}' });
    assert.equal(bad.status, 400);

    const system = [{ type: 'text' as const, text: textOfTokens(1100, 'Reset'), cache_control: { type: 'ephemeral' as const } }];
    const ask = () =>
      anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, system, messages: [{ role: 'user', content: 'hi' }] });
    await ask();
    assert.equal((await ask()).usage.cache_read_input_tokens, 1100);
    assert.equal((await fetch(`${emulator.url}/emulator/reset`, { method: 'POST' })).status, 200);
    assert.equal((await ask()).usage.cache_read_input_tokens, 0, 'reset forgot the cache');

    const stats = (await (await fetch(`${emulator.url}/emulator/stats`)).json()) as { requests: number };
    assert.equal(stats.requests, emulator.requests, 'control calls are not counted');
  });

  test('unknown routes and malformed JSON answer in the provider error shape', async () => {
    // Files and batches are emulated now; fine-tuning is not.
    await assert.rejects(
      openai.fineTuning.jobs.list(),
      (error: unknown) => error instanceof OpenAI.NotFoundError,
    );
    const response = await fetch(`${emulator.url}/v1/messages`, { method: 'POST', body: '{not json' });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { type: string; error: { type: string } };
    assert.deepEqual([body.type, body.error.type], ['error', 'invalid_request_error']);
  });
});
