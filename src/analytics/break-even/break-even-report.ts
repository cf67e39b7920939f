import type { ProviderId } from '../../core/provider-id.ts';
import type { LedgerAnalytics } from '../../ledger/analytics.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { breakEven, syntheticProfile, type BreakEvenResult, type HourlyTokens, type ModelUnitTerms, type OnDemandPrices } from './break-even.ts';

export interface BreakEvenRequest {
  model: string;
  from?: number;
  to?: number;
  terms: ModelUnitTerms;
  /** On-demand prices; default: the price table's for this model (Bedrock first). */
  prices?: OnDemandPrices;
  maxUnits: number;
  /** A profile from three numbers instead of the ledger. */
  synthetic?: { tokensPerHour: number; outputShare: number; peakToMean: number };
}

export interface BreakEvenReport extends BreakEvenResult {
  model: string;
  source: 'ledger' | 'synthetic';
  prices: OnDemandPrices;
  terms: ModelUnitTerms;
  /** The profile, for charts: tokens per hour. */
  profile: HourlyTokens[];
}

/** USD per million tokens from the price table, or undefined when the model has no price. */
export function onDemandPrices(pricer: Pricer, model: string, providers: readonly ProviderId[] = ['bedrock', 'anthropic', 'openai']): OnDemandPrices | undefined {
  const at = new Date();
  for (const provider of providers) {
    const input = pricer.cost({ provider, model, at, usage: { input: { total: 1_000_000, noCache: 1_000_000 }, output: { total: 0 } } });
    const output = pricer.cost({ provider, model, at, usage: { input: { total: 0, noCache: 0 }, output: { total: 1_000_000 } } });
    if (input && output) return { inputPerMTok: Number(input.cost) / 1e12, outputPerMTok: Number(output.cost) / 1e12 };
  }
  return undefined;
}

export class BreakEvenInputError extends Error {
  override name = 'BreakEvenInputError';
}

export async function modelBreakEven(ledger: Pick<LedgerAnalytics, 'modelProfile'>, pricer: Pricer, request: BreakEvenRequest): Promise<BreakEvenReport> {
  const prices = request.prices ?? onDemandPrices(pricer, request.model);
  if (!prices) throw new BreakEvenInputError(`no known on-demand price for ${request.model}; pass --input-price and --output-price (USD per million tokens)`);
  let profile: HourlyTokens[];
  if (request.synthetic) {
    profile = syntheticProfile(request.synthetic);
  } else {
    const found = await ledger.modelProfile({
      model: request.model,
      ...(request.from !== undefined ? { from: request.from } : {}),
      ...(request.to !== undefined ? { to: request.to } : {}),
    });
    profile = found.hours.map(({ inputTokens, outputTokens }) => ({ inputTokens, outputTokens }));
  }
  const result = breakEven(profile, prices, request.terms, request.maxUnits);
  return { ...result, model: request.model, source: request.synthetic ? 'synthetic' : 'ledger', prices, terms: request.terms, profile };
}
