/**
 * The pricer: config overrides first, then the genai-prices data. A model neither knows is unpriced
 * (undefined), never $0; a known model with zero usage costs 0n.
 */
import type { ProviderId } from '../core/provider-id.ts';
import { computeCost, effectiveRates } from './compute-cost.ts';
import { createGenaiPricesSource, type PriceSource } from './genai-prices-source.ts';
import { createOverrideTable } from './overrides.ts';
import { tierStarts, type PriceSheet } from './price-sheet.ts';
import type { PriceDescription, PriceOverride, PriceTierDescription, Pricer } from './types.ts';

export interface PricerOptions {
  overrides?: readonly PriceOverride[];
  /** For tests: a different default source. */
  source?: PriceSource;
}

export function createPricer(options: PricerOptions = {}): Pricer {
  const overrides = createOverrideTable(options.overrides ?? []);
  const library = options.source ?? createGenaiPricesSource();
  const resolve = (provider: ProviderId, model: string, at: Date): PriceSheet | undefined =>
    overrides.find(provider, model) ?? library.resolve(provider, model, at);

  return {
    cost({ provider, model, usage, at, batch }) {
      const sheet = resolve(provider, model, at);
      return sheet ? computeCost(sheet, usage, batch ?? false) : undefined;
    },
    describe(provider, model, at = new Date()) {
      const sheet = resolve(provider, model, at);
      return sheet ? describeSheet(provider, model, sheet) : undefined;
    },
  };
}

function describeSheet(provider: ProviderId, model: string, sheet: PriceSheet): PriceDescription {
  const base = effectiveRates(sheet, 0);
  const tiers: PriceTierDescription[] = tierStarts(sheet).map((start) => {
    const rates = effectiveRates(sheet, start + 1);
    return {
      aboveInputTokens: start,
      inputPerMTok: rates.input,
      outputPerMTok: rates.output ?? 0,
      cacheReadPerMTok: rates.cacheRead,
      cacheWrite5mPerMTok: rates.cacheWrite5m,
      cacheWrite1hPerMTok: rates.cacheWrite1h,
    };
  });
  return {
    provider,
    model,
    matchedModel: sheet.matchedModel,
    source: sheet.source,
    priceVersion: sheet.priceVersion,
    ...(sheet.checked === undefined ? {} : { checked: sheet.checked }),
    prices: {
      inputPerMTok: base.input,
      outputPerMTok: base.output ?? 0,
      cacheReadPerMTok: base.cacheRead,
      cacheWrite5mPerMTok: base.cacheWrite5m,
      cacheWrite1hPerMTok: base.cacheWrite1h,
      ...(tiers.length === 0 ? {} : { tiers }),
    },
    derived: base.derived,
    batchDiscount: sheet.batchDiscount,
  };
}
