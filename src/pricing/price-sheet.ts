/**
 * A price sheet is one resolved row of prices, whatever its source (genai-prices data or a config
 * override), in USD per million tokens as published. compute-cost.ts turns it into picodollars.
 */

export interface RateTier {
  /** The tier applies when the request's total input tokens are strictly greater than this. */
  start: number;
  price: number;
}

/** USD per million tokens: flat, or tiered by the request's total input tokens. */
export type Rate = number | { readonly base: number; readonly tiers: readonly RateTier[] };

export interface PriceSheet {
  matchedModel: string;
  source: string;
  priceVersion: string;
  checked?: string;
  input: Rate;
  /** Absent for embedding models: pricing output tokens > 0 against it gives "unpriced". */
  output?: Rate;
  cacheRead?: Rate;
  cacheWrite5m?: Rate;
  cacheWrite1h?: Rate;
  batchDiscount: number;
}

/**
 * The rate in force for a request with `inputTotal` input tokens. Like genai-prices and Anthropic's
 * billing, the last tier whose start the input total exceeds wins, and it applies to every token of
 * that unit in the request (not just the tokens past the threshold).
 */
export function rateAt(rate: Rate, inputTotal: number): number {
  if (typeof rate === 'number') return rate;
  let price = rate.base;
  for (const tier of [...rate.tiers].sort((a, b) => a.start - b.start)) {
    if (inputTotal > tier.start) price = tier.price;
  }
  return price;
}

/** Every tier start in the sheet, ascending and without repeats. */
export function tierStarts(sheet: PriceSheet): number[] {
  const starts = new Set<number>();
  for (const rate of [sheet.input, sheet.output, sheet.cacheRead, sheet.cacheWrite5m, sheet.cacheWrite1h]) {
    if (rate !== undefined && typeof rate !== 'number') for (const tier of rate.tiers) starts.add(tier.start);
  }
  return [...starts].sort((a, b) => a - b);
}
