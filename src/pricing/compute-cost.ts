/**
 * Cost of one call from its usage and a price sheet, in integer picodollars.
 *
 *   cost = noCache * input + cacheRead * cacheRead + cacheWrite5m * write5m + cacheWrite1h * write1h
 *        + output.total * output                       (reasoning is already inside output.total)
 *
 * - noCache, when the usage does not say, is input.total minus the cache parts (at least 0).
 * - Long-context tiers: the tier is picked by the request's whole input (input.total, i.e. uncached
 *   + cache reads + cache writes), and its rate applies to every token of that unit in the request,
 *   output included. That is how Anthropic bills prompts over 200K and how genai-prices models it.
 * - Prices the data lacks are filled in by rule:
 *     cache read, 5m write -> the input price (an unpriced part of the prompt is billed as prompt; this
 *       is also right for OpenAI models before gpt-5.6, which charge nothing extra for writes);
 *     1h write -> 2x the input price (Anthropic's published 1h multiplier; Bedrock's data has no 1h
 *       column, and LiteLLM's us-gov rows show the same 2x);
 *     output -> none: a model without an output price (embeddings) is unpriced if it reports output.
 * - Batch: every part is multiplied by (1 - batchDiscount) as an exact rational (parts per million),
 *   rounded half up to the picodollar, and the cost is the sum of the discounted parts.
 */
import { perMillionToPicodollarsPerToken, type Picodollars } from '../core/money.ts';
import type { Usage } from '../core/usage.ts';
import { rateAt, type PriceSheet } from './price-sheet.ts';
import type { CostBreakdown, CostResult, DerivedPrice } from './types.ts';

export interface EffectiveRates {
  /** USD per million tokens. */
  input: number;
  /** undefined: the data has no output price. */
  output: number | undefined;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  derived: DerivedPrice[];
}

/** The per-MTok rates that apply to a request whose whole input is `inputTotal` tokens. */
export function effectiveRates(sheet: PriceSheet, inputTotal: number): EffectiveRates {
  const derived: DerivedPrice[] = [];
  const input = rateAt(sheet.input, inputTotal);
  const pick = (rate: PriceSheet['cacheRead'], name: DerivedPrice, fallback: number): number => {
    if (rate !== undefined) return rateAt(rate, inputTotal);
    derived.push(name);
    return fallback;
  };
  const output = sheet.output === undefined ? undefined : rateAt(sheet.output, inputTotal);
  if (output === undefined) derived.push('output');
  return {
    input,
    output,
    cacheRead: pick(sheet.cacheRead, 'cacheRead', input),
    cacheWrite5m: pick(sheet.cacheWrite5m, 'cacheWrite5m', input),
    cacheWrite1h: pick(sheet.cacheWrite1h, 'cacheWrite1h', 2 * input),
    derived,
  };
}

interface TokenCounts {
  noCache: bigint;
  cacheRead: bigint;
  cacheWrite5m: bigint;
  cacheWrite1h: bigint;
  output: bigint;
  inputTotal: number;
}

/** undefined when the usage cannot be priced with this sheet (invalid counts, or output without an output price). */
export function computeCost(sheet: PriceSheet, usage: Usage, batch: boolean): CostResult | undefined {
  const counts = tokenCounts(usage);
  if (!counts) return undefined;
  const rates = effectiveRates(sheet, counts.inputTotal);
  if (rates.output === undefined && counts.output > 0n) return undefined;

  const perToken = perMillionToPicodollarsPerToken;
  let breakdown: CostBreakdown = {
    input: counts.noCache * perToken(rates.input),
    cacheRead: counts.cacheRead * perToken(rates.cacheRead),
    cacheWrite: counts.cacheWrite5m * perToken(rates.cacheWrite5m) + counts.cacheWrite1h * perToken(rates.cacheWrite1h),
    output: counts.output * perToken(rates.output ?? 0),
  };
  if (batch) {
    const keep = keepFraction(sheet.batchDiscount);
    breakdown = {
      input: keep(breakdown.input),
      cacheRead: keep(breakdown.cacheRead),
      cacheWrite: keep(breakdown.cacheWrite),
      output: keep(breakdown.output),
    };
  }
  return {
    cost: breakdown.input + breakdown.cacheRead + breakdown.cacheWrite + breakdown.output,
    priceVersion: sheet.priceVersion,
    breakdown,
  };
}

function tokenCounts(usage: Usage): TokenCounts | undefined {
  const { input, output } = usage;
  const fields = [
    input.total,
    input.noCache,
    input.cacheRead,
    input.cacheWrite5m,
    input.cacheWrite1h,
    output.total,
    output.text,
    output.reasoning,
  ];
  if (!fields.every((value) => value === undefined || (Number.isSafeInteger(value) && value >= 0))) return undefined;

  const cacheRead = input.cacheRead ?? 0;
  const cacheWrite5m = input.cacheWrite5m ?? 0;
  const cacheWrite1h = input.cacheWrite1h ?? 0;
  const cached = cacheRead + cacheWrite5m + cacheWrite1h;
  const noCache = input.noCache ?? Math.max(0, (input.total ?? 0) - cached);
  const outputTotal = output.total ?? (output.text ?? 0) + (output.reasoning ?? 0);
  return {
    noCache: BigInt(noCache),
    cacheRead: BigInt(cacheRead),
    cacheWrite5m: BigInt(cacheWrite5m),
    cacheWrite1h: BigInt(cacheWrite1h),
    output: BigInt(outputTotal),
    inputTotal: input.total ?? noCache + cached,
  };
}

const PARTS = 1_000_000n;

/** Multiplies by (1 - discount) as the rational keptParts / 1e6, rounding half up (amounts are never negative). */
function keepFraction(discount: number): (amount: Picodollars) => Picodollars {
  const kept = PARTS - BigInt(Math.round(discount * Number(PARTS)));
  return (amount) => (amount * kept + PARTS / 2n) / PARTS;
}
