import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { SharedRedis } from '../shared-state/shared-redis.ts';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../shared-state/testing/redis-test-support.ts';
import { RedisRecentCalls } from './redis-recent-calls.ts';
import { recentCallsSuite } from './recent-calls-suite.ts';

const connections: SharedRedis[] = [];
const created: RedisRecentCalls[] = [];

function connect(prefix = uniquePrefix()): SharedRedis {
  const redis = connectTestRedis(prefix);
  connections.push(redis);
  return redis;
}

async function cleanup(): Promise<void> {
  for (const calls of created.splice(0)) await calls.flush();
  for (const redis of connections.splice(0)) {
    await deleteKeys(redis, redis.keyPrefix);
    await redis.close();
  }
}
after(cleanup);

recentCallsSuite(
  'redis',
  (maxEntries, maxAgeMs, clock, maxCharacters) => {
    const calls = new RedisRecentCalls(connect(), maxEntries, maxAgeMs, clock, maxCharacters);
    created.push(calls);
    return calls;
  },
  cleanup,
);

test('feedback reaching another replica finds the call, prompt included', async () => {
  const prefix = uniquePrefix();
  const first = connect(prefix);
  const second = connect(prefix);
  assert.ok((await first.whenReady(2_000)) && (await second.whenReady(2_000)));
  const served = new RedisRecentCalls(first);
  const other = new RedisRecentCalls(second);
  served.remember('request-1', { model: 'gpt-4o-mini', feature: 'support', prompt: 'how do I reset my password', tiers: ['gpt-4o-mini', 'gpt-4o'], apiKeyId: 'key-1' });
  await served.flush();
  assert.equal(other.get('request-1'), undefined, 'not in the other replica memory');
  const found = await other.lookup('request-1');
  assert.equal(found?.prompt, 'how do I reset my password');
  assert.equal(found?.model, 'gpt-4o-mini');
  assert.equal(found?.apiKeyId, 'key-1');
  assert.equal(await other.lookup('request-2'), undefined);
});
