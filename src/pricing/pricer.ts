/** The pricing module: createPricer and its types. Other folders import from here. */
export { createPricer, type PricerOptions } from './create-pricer.ts';
export { GENAI_PRICES_SOURCE, GENAI_PRICES_VERSION } from './genai-prices-source.ts';
export type {
  CostBreakdown,
  CostInput,
  CostResult,
  DerivedPrice,
  PriceDescription,
  PriceOverride,
  PriceTierDescription,
  Pricer,
} from './types.ts';
