import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { dayPeriod } from '../src/pipeline/budgets/budget-periods.ts';
import { startThrowawayRedis, uniquePrefix, type ThrowawayRedis } from '../src/pipeline/shared-state/testing/redis-test-support.ts';
import { startKeyStack, type KeyStack } from './support/key-stack.ts';

let redisServer: ThrowawayRedis;
let closed: KeyStack;
let open: KeyStack;
const prefix = uniquePrefix();

before(async () => {
  redisServer = await startThrowawayRedis();
  const redis = { url: redisServer.url, keyPrefix: prefix, maxReconnectDelayMs: 100 };
  closed = await startKeyStack({ redis, budgets: { failMode: 'closed' } });
  open = await startKeyStack({ redis, budgets: { failMode: 'open' } });
});
after(async () => {
  await closed.close();
  await open.close();
  await redisServer.stop();
});

const ask = (stack: KeyStack, secret: string) =>
  new OpenAI({ apiKey: secret, baseURL: `${stack.url}/v1`, maxRetries: 0 }).chat.completions
    .create({ model: 'gpt-4o-mini', max_tokens: 60, messages: [{ role: 'user', content: 'hello' }] })
    .withResponse();

/** Calls until one is answered (the gateway's Redis connection comes back with backoff). */
async function untilAnswered(stack: KeyStack, secret: string) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await ask(stack, secret);
    } catch (error) {
      if (!(error instanceof OpenAI.RateLimitError) || attempt > 500) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

test('Redis down: fail-closed refuses budgeted calls with 429, fail-open lets them through; after a restart the counter is rebuilt from the ledger', async () => {
  const closedKey = await closed.createKey({ name: 'closed', dailyBudgetUsd: '5' });
  const openKey = await open.createKey({ name: 'open', dailyBudgetUsd: '5' });
  const unlimited = await closed.createKey({ name: 'no limits' });
  const first = await untilAnswered(closed, closedKey.secret);
  let spent = Number(first.response.headers.get('x-costgate-cost-usd'));
  await untilAnswered(open, openKey.secret);

  await redisServer.stop();
  await assert.rejects(ask(closed, closedKey.secret), (error: unknown) => {
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.match(error.message, /budget counters are unavailable/);
    assert.equal(error.headers?.get('retry-after'), '1');
    return true;
  });
  const passed = await ask(open, openKey.secret);
  assert.equal(passed.response.status, 200);
  // A key without limits needs no counters at all.
  assert.equal((await ask(closed, unlimited.secret)).response.status, 200);

  // Redis comes back empty (this one keeps nothing on disk); the day's spend is in the ledger.
  await redisServer.restart();
  const again = await untilAnswered(closed, closedKey.secret);
  spent += Number(again.response.headers.get('x-costgate-cost-usd'));
  const client = new Redis(redisServer.url);
  try {
    const counter = Number(await client.get(`${prefix}budget:{${closedKey.id}}:spent:${dayPeriod(Date.now()).period}`));
    // Rebuilt from the ledger (the first call) plus the call just settled, in nanodollars rounded up.
    assert.ok(Math.abs(counter / 1e9 - spent) <= 2e-9, `counter ${counter} nUSD vs $${spent}`);
  } finally {
    client.disconnect();
  }
});

test('a streamed call settles at its real cost once the stream has ended', async () => {
  const { id, secret } = await closed.createKey({ name: 'streamer', dailyBudgetUsd: '5' });
  const client = new OpenAI({ apiKey: secret, baseURL: `${closed.url}/v1`, maxRetries: 0 });
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', max_tokens: 80, stream: true, messages: [{ role: 'user', content: 'stream please' }] })
    .withResponse();
  let chunks = 0;
  for await (const _chunk of stream) chunks += 1;
  assert.ok(chunks > 1);
  const requestId = response.headers.get('x-costgate-request-id') ?? '';
  await closed.gateway.recorder.flush();
  const [row] = await closed.gateway.ledger.get([requestId]);
  assert.ok(row?.cost && row.cost > 0n);
  const redis = new Redis(redisServer.url);
  try {
    const counter = await redis.get(`${prefix}budget:{${id}}:spent:${dayPeriod(Date.now()).period}`);
    assert.equal(Number(counter), Number((row.cost + 999n) / 1000n));
    // Nothing left held: the reservation was replaced by the cost.
    assert.equal(Number(await redis.get(`${prefix}budget:{${id}}:reserved`)), 0);
  } finally {
    redis.disconnect();
  }
});
