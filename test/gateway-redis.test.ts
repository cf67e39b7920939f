import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { SharedRedis } from '../src/pipeline/shared-state/shared-redis.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../src/pipeline/shared-state/testing/redis-test-support.ts';
import { eventually } from '../src/pipeline/shared-state/testing/replica.ts';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

// Two gateways (each with its own emulator and ledger) configured with the same Redis and prefix.
const prefix = uniquePrefix();
const CONFIG = { responseCache: { persist: false, features: { faq: { exact: 'on' } } }, redis: { url: TEST_REDIS_URL, keyPrefix: prefix } };
const FAQ = { 'x-costgate-feature': 'faq' };

let first: Stack;
let second: Stack;
let observer: SharedRedis;
before(async () => {
  first = await startStack(CONFIG);
  second = await startStack(CONFIG);
  observer = connectTestRedis(prefix);
});
after(async () => {
  await first.close();
  await second.close();
  await deleteKeys(observer, prefix);
  await observer.close();
});

test('an answer cached through one gateway is served by another gateway sharing its Redis', async () => {
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'What is the capital of Italy?' }], max_tokens: 50 };
  const client = (stack: Stack) => new OpenAI({ apiKey: 'sk-client-a', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  const miss = await client(first).chat.completions.create(request, { headers: FAQ }).withResponse();
  assert.equal(miss.response.headers.get('x-costgate-cache'), 'miss');
  // The first gateway writes the entry after answering: wait until Redis holds it.
  assert.ok(await eventually(async () => (await observer.client.keys(`${prefix}rc:entry:*`)).length === 1));

  const upstreamBefore = second.emulator.requests;
  const hit = await client(second).chat.completions.create(request, { headers: FAQ }).withResponse();
  assert.equal(hit.response.headers.get('x-costgate-cache'), 'exact_hit');
  assert.equal(second.emulator.requests, upstreamBefore, 'the second gateway never called its upstream');
  assert.deepEqual(hit.data, miss.data);
  const [row] = await ledgerRows(second, [hit.response.headers.get('x-costgate-request-id') ?? '']);
  assert.equal(row?.cacheStatus, 'exact_hit');
  assert.equal(row?.cost, 0n);

  const otherClient = new OpenAI({ apiKey: 'sk-client-b', baseURL: `${second.url}/v1`, maxRetries: 0 });
  const other = await otherClient.chat.completions.create(request, { headers: FAQ }).withResponse();
  assert.equal(other.response.headers.get('x-costgate-cache'), 'miss', 'another credential is another tenant');
});
