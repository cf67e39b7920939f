import { encode } from 'gpt-tokenizer';
import { PROVIDER_IDS } from '../../core/provider-id.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { RoutingExample } from './routing-dataset.ts';

/**
 * Costs for data that carries none: the price table (or `--price MODEL=IN/OUT` in USD per million
 * tokens) applied to the prompt's token count and an assumed answer length. Token counts use the
 * o200k BPE, which is close to, not equal to, each provider's own tokenizer.
 */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  source: string;
}

export function parsePriceFlag(flag: string): [string, { inputPerMTok: number; outputPerMTok: number }] {
  const match = /^(.+)=([0-9.]+)\/([0-9.]+)$/.exec(flag);
  if (!match) throw new Error(`--price must look like MODEL=INPUT/OUTPUT (USD per million tokens), got "${flag}"`);
  const [, model, input, output] = match as unknown as [string, string, string, string];
  return [model, { inputPerMTok: Number(input), outputPerMTok: Number(output) }];
}

export function resolvePrices(models: readonly string[], flags: readonly string[], pricer: Pricer): Record<string, ModelPrice> {
  const given = new Map(flags.map(parsePriceFlag));
  const prices: Record<string, ModelPrice> = {};
  const missing: string[] = [];
  for (const model of models) {
    const flag = given.get(model);
    if (flag) {
      prices[model] = { ...flag, source: '--price' };
      continue;
    }
    const found = PROVIDER_IDS.map((provider) => pricer.describe(provider, model)).find((description) => description !== undefined);
    if (found) prices[model] = { inputPerMTok: found.prices.inputPerMTok, outputPerMTok: found.prices.outputPerMTok, source: `${found.source} (${found.matchedModel})` };
    else missing.push(model);
  }
  if (missing.length > 0) {
    throw new Error(`no price known for ${missing.map((model) => `"${model}"`).join(', ')}: the data has no costs, so pass --price 'MODEL=INPUT/OUTPUT' (USD per million tokens)`);
  }
  return prices;
}

export function estimatedCosts(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, outputTokens: number): (example: RoutingExample, model: string) => number {
  const tokens = new Map<RoutingExample, number>();
  for (const example of examples) tokens.set(example, encode(example.prompt, { disallowedSpecial: new Set() }).length);
  return (example, model) => {
    const price = prices[model];
    if (!price) throw new Error(`no price for ${model}`);
    const input = tokens.get(example) ?? encode(example.prompt, { disallowedSpecial: new Set() }).length;
    return (input * price.inputPerMTok + outputTokens * price.outputPerMTok) / 1e6;
  };
}
