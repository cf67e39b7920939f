import { connectTestRedis, deleteKeys, uniquePrefix } from '../shared-state/testing/redis-test-support.ts';
import type { SharedRedis } from '../shared-state/shared-redis.ts';
import { RedisResponseStore } from './redis-response-store.ts';
import { responseStoreSuite } from './response-store-suite.ts';

const prefix = uniquePrefix();
const connections: SharedRedis[] = [];

responseStoreSuite('redis', {
  async create(maxEntryBytes) {
    // Each store its own prefix, so tests of the suite do not see each other's entries.
    const redis = connectTestRedis(`${prefix}${connections.length}:`);
    connections.push(redis);
    return new RedisResponseStore(redis, { maxEntryBytes, blockMs: 200 });
  },
  async cleanup() {
    for (const redis of connections) {
      await deleteKeys(redis, redis.keyPrefix);
      await redis.close();
    }
  },
});
