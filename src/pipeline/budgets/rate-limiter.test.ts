import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../shared-state/testing/redis-test-support.ts';
import { MemoryRateLimiter, WINDOW_MS, type RateLimiter } from './rate-limiter.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

// 12:00:15 UTC: 45 s left in the minute.
const NOW = Date.UTC(2026, 11, 4, 12, 0, 15);
const prefix = uniquePrefix();
const redis = connectTestRedis(prefix);
after(async () => {
  await deleteKeys(redis, prefix);
  await redis.close();
});

let sequence = 0;

function suite(name: string, open: () => Promise<RateLimiter>): void {
  test(`${name}: requests per minute, with retry-after to the end of the window`, async () => {
    const limiter = await open();
    const keyId = `rpm${(sequence += 1)}`;
    const request = { keyId, requestsPerMinute: 3, tokensPerMinute: undefined, tokens: 10, now: NOW };
    for (let index = 0; index < 3; index += 1) assert.equal((await limiter.acquire(request)).allowed, true);
    assert.deepEqual(await limiter.acquire(request), { allowed: false, limit: 'requests', retryAfterSeconds: 45 });
    // The next minute starts afresh.
    assert.equal((await limiter.acquire({ ...request, now: NOW + WINDOW_MS })).allowed, true);
  });

  test(`${name}: tokens per minute count the worst case, then the real count`, async () => {
    const limiter = await open();
    const keyId = `tpm${(sequence += 1)}`;
    const request = { keyId, requestsPerMinute: undefined, tokensPerMinute: 1000, tokens: 600, now: NOW };
    const first = await limiter.acquire(request);
    assert.ok(first.allowed);
    // 600 counted: another 600 would pass the limit.
    assert.deepEqual(await limiter.acquire(request), { allowed: false, limit: 'tokens', retryAfterSeconds: 45 });
    // The call really used 150 tokens: the counter drops to 150, and the next call fits.
    await limiter.adjust(keyId, first.window, 150 - 600);
    assert.equal((await limiter.acquire(request)).allowed, true);
    assert.equal((await limiter.acquire({ ...request, tokens: 300 })).allowed, false);
  });

  test(`${name}: one call larger than the whole limit passes in an empty window`, async () => {
    const limiter = await open();
    const keyId = `big${(sequence += 1)}`;
    const request = { keyId, requestsPerMinute: undefined, tokensPerMinute: 100, tokens: 5000, now: NOW };
    assert.equal((await limiter.acquire(request)).allowed, true);
    assert.equal((await limiter.acquire({ ...request, tokens: 1 })).allowed, false);
  });
}

suite('memory', async () => new MemoryRateLimiter());
suite('redis', async () => {
  await redis.whenReady(5_000);
  return new RedisRateLimiter(redis.client, prefix, 2_000);
});
