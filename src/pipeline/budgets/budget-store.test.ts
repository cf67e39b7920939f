import { after } from 'node:test';
import { connectTestRedis, deleteKeys, uniquePrefix } from '../shared-state/testing/redis-test-support.ts';
import { budgetStoreSuite } from './budget-store-suite.ts';
import { MemoryBudgetStore } from './memory-budget-store.ts';
import { RedisBudgetStore } from './redis-budget-store.ts';

budgetStoreSuite('memory', async () => ({ store: new MemoryBudgetStore(), close: async () => {} }));

const prefix = uniquePrefix();
const redis = connectTestRedis(prefix);
after(async () => {
  await deleteKeys(redis, prefix);
  await redis.close();
});
budgetStoreSuite('redis', async () => {
  await redis.whenReady(5_000);
  return { store: new RedisBudgetStore(redis.client, prefix, 2_000), close: async () => {} };
});
