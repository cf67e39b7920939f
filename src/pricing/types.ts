import type { Picodollars } from '../core/money.ts';
import type { ProviderId } from '../core/provider-id.ts';
import type { Usage } from '../core/usage.ts';

export interface CostInput {
  provider: ProviderId;
  model: string;
  usage: Usage;
  /** When the call was made: picks the price row in force then. */
  at: Date;
  /** Priced at the batch discount (OpenAI Batch, Anthropic Message Batches, Bedrock batch inference). */
  batch?: boolean | undefined;
}

export interface CostBreakdown {
  /** Uncached input tokens. */
  input: Picodollars;
  cacheRead: Picodollars;
  /** 5-minute and 1-hour writes together (OpenAI writes are recorded as 5m; see the OpenAI converter). */
  cacheWrite: Picodollars;
  /** All output tokens, reasoning included. */
  output: Picodollars;
}

export interface CostResult {
  /** Sum of the breakdown, batch discount applied. */
  cost: Picodollars;
  /** Identifies the price data used; stored on the ledger row so the cost can be recomputed. */
  priceVersion: string;
  breakdown: CostBreakdown;
}

/** The rates of one long-context tier: they apply when the request's total input exceeds `aboveInputTokens`. */
export interface PriceTierDescription {
  aboveInputTokens: number;
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok: number;
  cacheWrite5mPerMTok: number;
  cacheWrite1hPerMTok: number;
}

/** A price that the data does not give and the pricer fills in by rule (see compute-cost.ts). */
export type DerivedPrice = 'output' | 'cacheRead' | 'cacheWrite5m' | 'cacheWrite1h';

export interface PriceDescription {
  provider: ProviderId;
  model: string;
  /** The price-data entry the model resolved to, e.g. 'claude-sonnet-4-5' or 'override:ft:gpt-4o*'. */
  matchedModel: string;
  /** Where the prices come from: 'genai-prices@0.1.8' or 'config override'. */
  source: string;
  priceVersion: string;
  /** Date the source last checked the prices, when it says. */
  checked?: string;
  /** Effective USD per million tokens as cost() uses them, at the base (shortest-context) tier. */
  prices: {
    inputPerMTok: number;
    outputPerMTok: number;
    cacheReadPerMTok: number;
    cacheWrite5mPerMTok: number;
    cacheWrite1hPerMTok: number;
    /** Long-context tiers, in ascending order. */
    tiers?: readonly PriceTierDescription[];
  };
  /** Which of `prices` were filled in by rule rather than read from the data. */
  derived: readonly DerivedPrice[];
  /** Fraction taken off for batch calls (0.5 = half price). */
  batchDiscount: number;
}

export interface Pricer {
  /** undefined = unpriced (unknown model or a token kind without a price); never a made-up 0. */
  cost(input: CostInput): CostResult | undefined;
  describe(provider: ProviderId, model: string, at?: Date): PriceDescription | undefined;
}

export interface PriceOverride {
  provider: ProviderId;
  /** An exact model id, or a prefix ending with '*'. Matched case-insensitively; exact beats prefix, longer prefix beats shorter. */
  model: string;
  inputPerMTok: number;
  outputPerMTok: number;
  /** Defaults to the input price, like any model without a cache-read price. */
  cacheReadPerMTok?: number | undefined;
  /** Defaults to the input price. */
  cacheWrite5mPerMTok?: number | undefined;
  /** Defaults to 2x the input price. */
  cacheWrite1hPerMTok?: number | undefined;
  /** Fraction taken off for batch calls; default 0.5. */
  batchDiscount?: number | undefined;
}
