/**
 * Prices from the @pydantic/genai-prices data bundled with the installed package.
 *
 * calcPrice is used only to resolve a model id to the library's model entry and to the price row in
 * force at the call's time (`model_price`); its float totals are never used. All arithmetic happens
 * in compute-cost.ts, in integer picodollars.
 *
 * priceVersion: `genai-prices@<package version>:<library provider>/<model entry id>@<row>`, where row is
 * the start_date of the dated row in force, or 'base' for the undated one, e.g.
 * `genai-prices@0.1.8:anthropic/claude-sonnet-4-6@2026-03-13`. That names the exact data used. (If
 * someone enables the library's updatePrices auto-update, the package version no longer pins the
 * data; costgate does not.)
 *
 * Resolution is memoized per (provider, model, UTC day) in a bounded LRU map. Dated rows start at UTC
 * midnight, so a day never spans two rows. Models with time-of-day prices (none for OpenAI, Anthropic or
 * AWS today) are not memoized.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { calcPrice, type ModelInfo, type ModelPrice, type PriceCalculation } from '@pydantic/genai-prices';
import type { ProviderId } from '../core/provider-id.ts';
import { BoundedCache } from './bounded-cache.ts';
import { bedrockModelIdCandidates } from './bedrock-model-id.ts';
import type { PriceSheet, Rate, RateTier } from './price-sheet.ts';

const LIBRARY_PROVIDER_ID: Record<ProviderId, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  bedrock: 'aws',
};

/** OpenAI Batch, Anthropic Message Batches and Bedrock batch inference are all 50% of on-demand. */
const BATCH_DISCOUNT = 0.5;
const DAY_MS = 86_400_000;
const PACKAGE_NAME = '@pydantic/genai-prices';

export const GENAI_PRICES_VERSION = readPackageVersion();
export const GENAI_PRICES_SOURCE = `genai-prices@${GENAI_PRICES_VERSION}`;

export interface PriceSource {
  resolve(provider: ProviderId, model: string, at: Date): PriceSheet | undefined;
}

export function createGenaiPricesSource(options: { cacheSize?: number } = {}): PriceSource {
  // null caches "no price", so unknown models are not looked up again on every request.
  const cache = new BoundedCache<string, PriceSheet | null>(options.cacheSize ?? 4096);
  return {
    resolve(provider, model, at) {
      const time = at.getTime();
      if (Number.isNaN(time)) throw new RangeError('Invalid date passed to the pricer');
      const key = `${provider}\n${model}\n${Math.floor(time / DAY_MS)}`;
      const cached = cache.get(key);
      if (cached !== undefined) return cached ?? undefined;
      const { sheet, cacheable } = lookUp(provider, model, at);
      if (cacheable) cache.set(key, sheet ?? null);
      return sheet;
    },
  };
}

function lookUp(provider: ProviderId, model: string, at: Date): { sheet: PriceSheet | undefined; cacheable: boolean } {
  const libraryProvider = LIBRARY_PROVIDER_ID[provider];
  const candidates = provider === 'bedrock' ? bedrockModelIdCandidates(model) : [model.trim()];
  for (const candidate of candidates) {
    const calculation = resolveWithLibrary(candidate, libraryProvider, at);
    if (calculation) {
      return { sheet: toSheet(libraryProvider, calculation), cacheable: !hasTimeOfDayPrices(calculation.model) };
    }
  }
  return { sheet: undefined, cacheable: true };
}

function resolveWithLibrary(model: string, providerId: string, at: Date): PriceCalculation | undefined {
  if (model === '') return undefined;
  try {
    // Empty usage: only the model and the price row are wanted, not the library's float totals.
    return calcPrice({}, model, { providerId, timestamp: at }) ?? undefined;
  } catch {
    // Malformed entries in the library's data make calcPrice throw; treat that model as unpriced.
    return undefined;
  }
}

function toSheet(libraryProvider: string, calculation: PriceCalculation): PriceSheet | undefined {
  const prices = calculation.model_price;
  const input = toRate(prices.input_mtok);
  // Rows without a per-token input price (per-hour audio, free moderation) cannot price token usage.
  if (input === undefined) return undefined;
  const modelId = calculation.model.id;
  return {
    matchedModel: modelId,
    source: GENAI_PRICES_SOURCE,
    priceVersion: `${GENAI_PRICES_SOURCE}:${libraryProvider}/${modelId}@${rowLabel(calculation.model, prices)}`,
    input,
    ...optionalRate('output', prices.output_mtok),
    ...optionalRate('cacheRead', prices.cache_read_mtok),
    ...optionalRate('cacheWrite5m', prices.cache_write_mtok),
    ...optionalRate('cacheWrite1h', prices.cache_write_1h_mtok),
    batchDiscount: BATCH_DISCOUNT,
  };
}

function optionalRate<Name extends string>(name: Name, value: ModelPrice[string]): { [K in Name]?: Rate } {
  const rate = toRate(value);
  return (rate === undefined ? {} : { [name]: rate }) as { [K in Name]?: Rate };
}

function toRate(value: ModelPrice[string]): Rate | undefined {
  if (isPrice(value)) return value;
  if (typeof value !== 'object' || value === null || !isPrice(value.base) || !Array.isArray(value.tiers)) return undefined;
  const tiers: RateTier[] = [];
  for (const tier of value.tiers) {
    if (!Number.isSafeInteger(tier.start) || tier.start < 0 || !isPrice(tier.price)) return undefined;
    tiers.push({ start: tier.start, price: tier.price });
  }
  return { base: value.base, tiers };
}

function isPrice(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** 'base' for an undated row, else the row's start date (or time-of-day window). */
function rowLabel(model: ModelInfo, price: ModelPrice): string {
  if (!Array.isArray(model.prices)) return 'base';
  const constraint = model.prices.find((row) => row.prices === price)?.constraint;
  if (constraint === undefined) return 'base';
  return constraint.type === 'start_date' ? constraint.start_date : `${constraint.start_time}-${constraint.end_time}`;
}

function hasTimeOfDayPrices(model: ModelInfo): boolean {
  return Array.isArray(model.prices) && model.prices.some((row) => row.constraint?.type === 'time_of_date');
}

/** The installed package's version, from its package.json (which its `exports` map does not expose). */
function readPackageVersion(): string {
  try {
    let directory = dirname(createRequire(import.meta.url).resolve(PACKAGE_NAME));
    for (let depth = 0; depth < 5; depth++) {
      try {
        const manifest: unknown = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
        if (isManifest(manifest) && manifest.name === PACKAGE_NAME) return manifest.version;
      } catch {
        // No readable package.json here; keep walking up.
      }
      directory = dirname(directory);
    }
  } catch {
    // Package not resolvable from here (bundled build): fall through.
  }
  return 'unknown';
}

function isManifest(value: unknown): value is { name: string; version: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { version?: unknown }).version === 'string'
  );
}
