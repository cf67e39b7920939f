/**
 * Config price overrides. They win over the library, and can price models the library does not know
 * (fine-tunes, application inference profiles, negotiated rates).
 *
 * priceVersion: `override:<pattern>[in=..,out=..,cr=..,w5m=..,w1h=..,batch=..]` with the prices as
 * given (unset ones omitted), so a ledger row stays recomputable after the config changes.
 */
import type { ProviderId } from '../core/provider-id.ts';
import type { PriceSheet } from './price-sheet.ts';
import type { PriceOverride } from './types.ts';

const DEFAULT_BATCH_DISCOUNT = 0.5;

export interface OverrideTable {
  find(provider: ProviderId, model: string): PriceSheet | undefined;
}

/** Throws on an invalid override: a bad price in config must fail loudly at startup, not bill wrongly. */
export function createOverrideTable(overrides: readonly PriceOverride[]): OverrideTable {
  const exact = new Map<string, PriceSheet>();
  const prefixes: { provider: ProviderId; prefix: string; sheet: PriceSheet }[] = [];
  for (const override of overrides) {
    validate(override);
    const pattern = override.model.trim().toLowerCase();
    const sheet = toSheet(override);
    if (pattern.endsWith('*')) {
      prefixes.push({ provider: override.provider, prefix: pattern.slice(0, -1), sheet });
    } else {
      exact.set(`${override.provider}\n${pattern}`, sheet);
    }
  }
  // Longest prefix first, so the most specific pattern wins.
  prefixes.sort((a, b) => b.prefix.length - a.prefix.length);

  return {
    find(provider, model) {
      const id = model.trim().toLowerCase();
      const exactSheet = exact.get(`${provider}\n${id}`);
      if (exactSheet) return exactSheet;
      return prefixes.find((entry) => entry.provider === provider && id.startsWith(entry.prefix))?.sheet;
    },
  };
}

function toSheet(override: PriceOverride): PriceSheet {
  const batchDiscount = override.batchDiscount ?? DEFAULT_BATCH_DISCOUNT;
  const parts = [
    `in=${override.inputPerMTok}`,
    `out=${override.outputPerMTok}`,
    override.cacheReadPerMTok === undefined ? '' : `cr=${override.cacheReadPerMTok}`,
    override.cacheWrite5mPerMTok === undefined ? '' : `w5m=${override.cacheWrite5mPerMTok}`,
    override.cacheWrite1hPerMTok === undefined ? '' : `w1h=${override.cacheWrite1hPerMTok}`,
    `batch=${batchDiscount}`,
  ].filter((part) => part !== '');
  const model = override.model.trim();
  return {
    matchedModel: `override:${model}`,
    source: 'config override',
    priceVersion: `override:${model}[${parts.join(',')}]`,
    input: override.inputPerMTok,
    output: override.outputPerMTok,
    ...(override.cacheReadPerMTok === undefined ? {} : { cacheRead: override.cacheReadPerMTok }),
    ...(override.cacheWrite5mPerMTok === undefined ? {} : { cacheWrite5m: override.cacheWrite5mPerMTok }),
    ...(override.cacheWrite1hPerMTok === undefined ? {} : { cacheWrite1h: override.cacheWrite1hPerMTok }),
    batchDiscount,
  };
}

function validate(override: PriceOverride): void {
  const label = `price override ${override.provider}/${override.model}`;
  const pattern = override.model.trim();
  if (pattern === '' || pattern === '*' || pattern.slice(0, -1).includes('*')) {
    throw new Error(`${label}: model must be an id or a non-empty prefix ending with '*'`);
  }
  const prices: [string, number | undefined][] = [
    ['inputPerMTok', override.inputPerMTok],
    ['outputPerMTok', override.outputPerMTok],
    ['cacheReadPerMTok', override.cacheReadPerMTok],
    ['cacheWrite5mPerMTok', override.cacheWrite5mPerMTok],
    ['cacheWrite1hPerMTok', override.cacheWrite1hPerMTok],
  ];
  for (const [name, value] of prices) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new Error(`${label}: ${name} must be a finite number >= 0, got ${value}`);
    }
  }
  const discount = override.batchDiscount;
  if (discount !== undefined && !(Number.isFinite(discount) && discount >= 0 && discount <= 1)) {
    throw new Error(`${label}: batchDiscount must be between 0 and 1, got ${discount}`);
  }
}
