/**
 * Money is never a float. Amounts are integer picodollars (1e-12 USD) held in a bigint:
 * fine enough that a single token of the cheapest published price ($0.005/MTok = 5,000 pUSD)
 * is exact, and a bigint so that sums over millions of rows cannot lose precision.
 */
export type Picodollars = bigint;

export const PICODOLLARS_PER_USD = 1_000_000_000_000n;

/** A price in USD per million tokens, as published, to picodollars per token. */
export function perMillionToPicodollarsPerToken(usdPerMillion: number): Picodollars {
  // USD/MTok * 1e12 pUSD/USD / 1e6 tokens/MTok = USD/MTok * 1e6 pUSD/token.
  // Published prices have at most 6 decimals, so rounding here is exact in practice.
  return BigInt(Math.round(usdPerMillion * 1_000_000));
}

export function picodollarsToUsd(amount: Picodollars): number {
  const whole = amount / PICODOLLARS_PER_USD;
  const fraction = amount % PICODOLLARS_PER_USD;
  return Number(whole) + Number(fraction) / 1e12;
}

/** A decimal string with up to 12 places and no trailing zeros, e.g. "0.000123". */
export function formatUsd(amount: Picodollars): string {
  const negative = amount < 0n;
  const absolute = negative ? -amount : amount;
  const whole = absolute / PICODOLLARS_PER_USD;
  const fraction = (absolute % PICODOLLARS_PER_USD).toString().padStart(12, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
