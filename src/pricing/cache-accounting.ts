import type { Picodollars } from '../core/money.ts';
import type { Usage } from '../core/usage.ts';
import type { CostInput, Pricer } from './pricer.ts';

/**
 * What prompt caching did to one call's bill, measured against the same tokens at the uncached
 * input price: the premium paid to write the cache, and the saving earned by reading it.
 * Both are zero when the call neither wrote nor read; undefined when the model is unpriced.
 */
export interface CacheAccounting {
  writePremium: Picodollars;
  readSaving: Picodollars;
}

function withUncached(usage: Usage, moveReads: boolean, moveWrites: boolean): Usage {
  const input = usage.input;
  const reads = moveReads ? (input.cacheRead ?? 0) : 0;
  const writes = moveWrites ? (input.cacheWrite5m ?? 0) + (input.cacheWrite1h ?? 0) : 0;
  const noCache = input.noCache ?? (input.total ?? 0) - (input.cacheRead ?? 0) - (input.cacheWrite5m ?? 0) - (input.cacheWrite1h ?? 0);
  return {
    ...usage,
    input: {
      ...input,
      noCache: noCache + reads + writes,
      ...(moveReads ? { cacheRead: 0 } : {}),
      ...(moveWrites ? { cacheWrite5m: 0, cacheWrite1h: 0 } : {}),
    },
  };
}

export function cacheAccounting(pricer: Pricer, input: CostInput, actualCost: Picodollars): CacheAccounting | undefined {
  const { cacheRead = 0, cacheWrite5m = 0, cacheWrite1h = 0 } = input.usage.input;
  let writePremium = 0n;
  let readSaving = 0n;
  if (cacheWrite5m + cacheWrite1h > 0) {
    const withoutWrites = pricer.cost({ ...input, usage: withUncached(input.usage, false, true) });
    if (!withoutWrites) return undefined;
    writePremium = actualCost - withoutWrites.cost;
  }
  if (cacheRead > 0) {
    const withoutReads = pricer.cost({ ...input, usage: withUncached(input.usage, true, false) });
    if (!withoutReads) return undefined;
    readSaving = withoutReads.cost - actualCost;
  }
  return { writePremium, readSaving };
}
