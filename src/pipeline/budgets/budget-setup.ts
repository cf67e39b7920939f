import type { Redis } from 'ioredis';
import type { BudgetsConfig } from '../../config/keys-config.ts';
import type { CachedKeyLookup } from '../../keys/cached-key-lookup.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { Stage } from '../stage.ts';
import { BudgetKeeper, type SpendSource } from './budget-keeper.ts';
import { MemoryBudgetStore } from './memory-budget-store.ts';
import { MemoryRateLimiter } from './rate-limiter.ts';
import { RedisBudgetStore } from './redis-budget-store.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';
import { createVirtualKeyStage } from './virtual-key-stage.ts';

/** What the gateway hands the pipeline when virtual keys are on. */
export interface VirtualKeyAccess {
  lookup: CachedKeyLookup;
  /** Settled spend per key from the ledger, to rebuild counters a restart (of Redis or the process) lost. */
  spendSource: SpendSource;
  /** How long after a Redis restart replicas wait before rebuilding counters (see BudgetKeeper). */
  rebuildGraceMs?: number;
}

export interface BudgetCounterRedis {
  client: Redis;
  keyPrefix: string;
  commandTimeoutMs?: number;
}

/** Counters in Redis when replicas share one, else in this process. */
export function createBudgetStage(options: {
  config: BudgetsConfig;
  keys: VirtualKeyAccess;
  pricer: Pricer;
  redis?: BudgetCounterRedis;
  log?: (line: string) => void;
}): Stage {
  const { redis } = options;
  const store = redis ? new RedisBudgetStore(redis.client, redis.keyPrefix, redis.commandTimeoutMs) : new MemoryBudgetStore();
  const rates = redis ? new RedisRateLimiter(redis.client, redis.keyPrefix, redis.commandTimeoutMs) : new MemoryRateLimiter();
  return createVirtualKeyStage({
    keys: options.keys.lookup,
    budgets: new BudgetKeeper(store, options.keys.spendSource, redis ? (options.keys.rebuildGraceMs ?? 0) : 0),
    rates,
    pricer: options.pricer,
    config: options.config,
    ...(options.log ? { log: options.log } : {}),
  });
}

/** The ledger's settled spend of a key, summed from its hourly series. */
export function ledgerSpendSource(ledger: { hourlySeries(query: { dimension: 'api_key'; from: number; to: number }): Promise<Array<{ key: string | null; cost: bigint }>> }, flush: () => Promise<void>): SpendSource {
  return async (keyId, from, to) => {
    // Rows still queued in this process would be missed otherwise.
    await flush();
    const points = await ledger.hourlySeries({ dimension: 'api_key', from, to });
    let total = 0n;
    for (const point of points) if (point.key === keyId) total += point.cost;
    return total;
  };
}
