import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { SharedRedis } from '../shared-state/shared-redis.ts';
import { connectTestRedis, deleteKeys, startThrowawayRedis, uniquePrefix, type ThrowawayRedis } from '../shared-state/testing/redis-test-support.ts';
import { eventually } from '../shared-state/testing/replica.ts';
import { prefixStatisticsSuite } from './prefix-statistics-suite.ts';
import { RedisPrefixStatistics } from './redis-prefix-statistics.ts';

const MINUTE = 60_000;
const creation = { feature: 'chat', kind: 'system' as const, positionClass: 'system', tokens: 3000 };
const connections: SharedRedis[] = [];
const opened: RedisPrefixStatistics[] = [];
let server: ThrowawayRedis | undefined;

function replica(prefix: string, url?: string, log?: (line: string) => void): RedisPrefixStatistics {
  const redis = connectTestRedis(prefix, url, log);
  connections.push(redis);
  const statistics = new RedisPrefixStatistics(redis, { blockMs: 200, publishIntervalMs: 10 });
  opened.push(statistics);
  return statistics;
}

async function closeAll(): Promise<void> {
  for (const statistics of opened.splice(0)) await statistics.close();
  for (const redis of connections.splice(0)) {
    if (redis.available) await deleteKeys(redis, redis.keyPrefix);
    await redis.close();
  }
}

after(async () => {
  await closeAll();
  await server?.stop();
});

prefixStatisticsSuite('redis', {
  // Each instance under a prefix of its own: the suite's tests do not share evidence.
  create: (maxPrefixes) => {
    const redis = connectTestRedis(uniquePrefix());
    connections.push(redis);
    const statistics = new RedisPrefixStatistics(redis, { blockMs: 200, ...(maxPrefixes !== undefined ? { maxPrefixes } : {}) });
    opened.push(statistics);
    return statistics;
  },
  cleanup: closeAll,
});

describe('prompt-cache evidence shared by replicas', () => {
  test('each replica plans from the evidence of both; a replica started later loads it', async () => {
    const prefix = uniquePrefix();
    const first = replica(prefix);
    const second = replica(prefix);
    await Promise.all([first.ready, second.ready]);

    for (let call = 0; call < 6; call += 1) first.observe('p', call * 30 * MINUTE, creation);
    first.markLive('p', 5 * 30 * MINUTE, '1h');
    first.account('chat', 0, 100n, 40n);
    second.observe('q', 0, creation);
    await Promise.all([first.publish(), second.publish()]);

    assert.ok(await eventually(() => second.peek('p')?.occurrences === 6), 'the other replica saw every occurrence');
    assert.ok(await eventually(() => first.peek('q') !== undefined), 'and the other way round');
    const at = 5 * 30 * MINUTE;
    assert.deepEqual(second.estimate(second.peek('p'), 'chat', 'system', at), first.estimate(first.peek('p'), 'chat', 'system', at));
    assert.equal(second.estimate(second.peek('p'), 'chat', 'system', at).ownGaps, 5);
    assert.equal(second.peek('p')?.liveTtl, '1h');
    assert.equal(second.lastDay('chat', 0).savings, 40n);

    // The first replica leaves (publishing and writing its snapshot); the second goes on.
    await first.close();
    second.observe('r', 0, creation);
    await second.publish();
    const late = replica(prefix);
    await late.ready;
    assert.equal(late.peek('p')?.occurrences, 6, 'from the snapshot');
    assert.equal(late.lastDay('chat', 0).savings, 40n);
    assert.ok(await eventually(() => late.peek('r') !== undefined), 'and the changes published after it');
  });

  test('with Redis down each replica keeps its own evidence; queued changes reach the others once it is back', async () => {
    server = await startThrowawayRedis();
    const lines: string[] = [];
    const prefix = uniquePrefix();
    const first = replica(prefix, server.url, (line) => lines.push(line));
    const second = replica(prefix, server.url);
    await Promise.all([first.ready, second.ready]);

    await server.stop();
    assert.ok(await eventually(() => !connections.some((redis) => redis.keyPrefix === prefix && redis.available)));
    for (let call = 0; call < 3; call += 1) first.observe('x', call * MINUTE, creation);
    await first.publish();
    assert.equal(first.peek('x')?.occurrences, 3, 'planning goes on from the local evidence');
    assert.equal(second.peek('x'), undefined);
    assert.equal(lines.filter((line) => line.startsWith('redis unavailable')).length, 1);

    await server.restart();
    assert.ok(await eventually(() => connections.every((redis) => redis.keyPrefix !== prefix || redis.available)), 'reconnected');
    await first.publish();
    assert.ok(await eventually(() => second.peek('x')?.occurrences === 3), 'the queued changes arrived');
  });
});
