import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

// Exact cache on for the "faq" feature only; everything else passes through untouched.
const CONFIG = { responseCache: { persist: true, features: { faq: { exact: 'on' } } } };
const FAQ = { 'x-costgate-feature': 'faq' };

let stack: Stack;
before(async () => {
  stack = await startStack(CONFIG);
});
after(() => stack.close());

function openai(apiKey = 'sk-client-a'): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${stack.url}/v1`, maxRetries: 0 });
}

async function collectChat(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<{ text: string; chunks: number; finish: string | null }> {
  let text = '';
  let chunks = 0;
  let finish: string | null = null;
  for await (const chunk of stream) {
    chunks += 1;
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  return { text, chunks, finish };
}

describe('exact response cache through the official SDKs', () => {
  test('OpenAI chat: the repeat is served from the cache at zero cost, its baseline the replaced call', async () => {
    const client = openai();
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'What is the capital of France?' }], max_tokens: 50 };
    const first = await client.chat.completions.create(request, { headers: FAQ }).withResponse();
    const upstreamBefore = stack.emulator.requests;
    const second = await client.chat.completions.create(request, { headers: FAQ }).withResponse();
    assert.equal(stack.emulator.requests, upstreamBefore, 'the hit never reached the upstream');
    assert.deepEqual(second.data, first.data);
    assert.equal(second.response.headers.get('x-costgate-cache'), 'exact_hit');
    assert.equal(first.response.headers.get('x-costgate-cache'), 'miss');
    const ids = [first.response.headers.get('x-costgate-request-id') ?? '', second.response.headers.get('x-costgate-request-id') ?? ''];
    const [miss, hit] = await ledgerRows(stack, ids);
    assert.ok(miss && hit);
    assert.equal(miss.cacheStatus, 'miss');
    assert.equal(hit.cacheStatus, 'exact_hit');
    assert.equal(hit.cost, 0n);
    assert.equal(hit.baselineCost, miss.cost);
    const lever = hit.levers?.find((effect) => effect.lever === 'response_cache');
    assert.equal(lever?.saving, miss.cost);
    assert.equal(lever?.estimated, true);
    assert.equal(lever?.detail?.cachedRequestId, ids[0]);
  });

  test('OpenAI chat stream: the recorded stream replays chunk for chunk, usage chunk as the client asked', async () => {
    const client = openai();
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Stream me a haiku' }], stream: true as const };
    const first = await collectChat(await client.chat.completions.create(request, { headers: FAQ }));
    const upstreamBefore = stack.emulator.requests;
    const second = await collectChat(await client.chat.completions.create(request, { headers: FAQ }));
    assert.equal(stack.emulator.requests, upstreamBefore);
    assert.deepEqual(second, first);
    assert.ok(first.text.length > 0 && first.finish === 'stop');
    // A client that asks for usage is a different request: its stream has the usage chunk.
    const withUsage = await client.chat.completions.create({ ...request, stream_options: { include_usage: true } }, { headers: FAQ });
    let usageSeen = false;
    for await (const chunk of withUsage) if (chunk.usage) usageSeen = true;
    assert.ok(usageSeen);
    assert.equal(stack.emulator.requests, upstreamBefore + 1);
  });

  test('Anthropic messages stream: the SDK assembles the same final message from the replay', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
    const request = { model: 'claude-sonnet-4-5', max_tokens: 60, messages: [{ role: 'user' as const, content: 'Name three rivers' }] };
    const first = await client.messages.stream(request, { headers: FAQ }).finalMessage();
    const upstreamBefore = stack.emulator.requests;
    const replayed = client.messages.stream(request, { headers: FAQ });
    const texts: string[] = [];
    replayed.on('text', (text) => texts.push(text));
    const second = await replayed.finalMessage();
    assert.equal(stack.emulator.requests, upstreamBefore);
    assert.deepEqual(second, first);
    assert.equal(texts.join(''), (first.content[0] as { text: string }).text);
  });

  test('Bedrock ConverseStream: the AWS event-stream frames replay intact (CRCs and all)', async () => {
    const client = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: stack.url,
      credentials: { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' },
      maxAttempts: 1,
    });
    const input = {
      modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
      messages: [{ role: 'user' as const, content: [{ text: 'Describe the sea' }] }],
      requestMetadata: { feature: 'faq' },
    };
    async function run(): Promise<{ text: string; stop: string | undefined; outputTokens: number | undefined }> {
      const response = await client.send(new ConverseStreamCommand(input));
      let text = '';
      let stop: string | undefined;
      let outputTokens: number | undefined;
      for await (const event of response.stream ?? []) {
        text += event.contentBlockDelta?.delta?.text ?? '';
        stop = event.messageStop?.stopReason ?? stop;
        outputTokens = event.metadata?.usage?.outputTokens ?? outputTokens;
      }
      return { text, stop, outputTokens };
    }
    const first = await run();
    const upstreamBefore = stack.emulator.requests;
    const second = await run();
    assert.equal(stack.emulator.requests, upstreamBefore);
    assert.deepEqual(second, first);
    assert.ok(first.text.length > 0);
  });
});

describe('tenancy and request directives', () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Which tenant am I?' }] };

  test('another API key, or another customer under the same key, never sees the entry', async () => {
    await openai('sk-tenant-one').chat.completions.create(request, { headers: { ...FAQ, 'x-costgate-customer': 'acme' } });
    const before = stack.emulator.requests;
    const otherKey = await openai('sk-tenant-two').chat.completions.create(request, { headers: { ...FAQ, 'x-costgate-customer': 'acme' } }).withResponse();
    const otherCustomer = await openai('sk-tenant-one').chat.completions.create(request, { headers: { ...FAQ, 'x-costgate-customer': 'globex' } }).withResponse();
    const same = await openai('sk-tenant-one').chat.completions.create(request, { headers: { ...FAQ, 'x-costgate-customer': 'acme' } }).withResponse();
    assert.equal(otherKey.response.headers.get('x-costgate-cache'), 'miss');
    assert.equal(otherCustomer.response.headers.get('x-costgate-cache'), 'miss');
    assert.equal(same.response.headers.get('x-costgate-cache'), 'exact_hit');
    assert.equal(stack.emulator.requests, before + 2);
  });

  test('no-store neither reads nor writes; no-cache refreshes; features without a policy are untouched', async () => {
    const client = openai('sk-directives');
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Directive test' }] };
    const noStore = await client.chat.completions.create(body, { headers: { ...FAQ, 'cache-control': 'no-store' } }).withResponse();
    const afterNoStore = await client.chat.completions.create(body, { headers: FAQ }).withResponse();
    assert.equal(noStore.response.headers.get('x-costgate-cache'), null);
    assert.equal(afterNoStore.response.headers.get('x-costgate-cache'), 'miss', 'no-store did not store');
    const noCache = await client.chat.completions.create(body, { headers: { ...FAQ, 'cache-control': 'no-cache' } }).withResponse();
    assert.equal(noCache.response.headers.get('x-costgate-cache'), 'miss');
    const hit = await client.chat.completions.create(body, { headers: FAQ }).withResponse();
    assert.equal(hit.response.headers.get('x-costgate-cache'), 'exact_hit');
    assert.equal(hit.data.id, noCache.data.id, 'no-cache stored its fresh answer');
    const other = await client.chat.completions.create(body, { headers: { 'x-costgate-feature': 'search' } }).withResponse();
    const otherAgain = await client.chat.completions.create(body, { headers: { 'x-costgate-feature': 'search' } }).withResponse();
    assert.equal(otherAgain.response.headers.get('x-costgate-cache'), null);
    assert.notEqual(other.response.headers.get('x-costgate-request-id'), null);
  });
});
