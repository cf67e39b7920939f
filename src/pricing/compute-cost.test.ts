import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Usage } from '../core/usage.ts';
import { computeCost, effectiveRates } from './compute-cost.ts';
import type { PriceSheet } from './price-sheet.ts';

// Hand-made sheets: these tests check the arithmetic alone, independent of any price data.
const flat: PriceSheet = {
  matchedModel: 'flat',
  source: 'test',
  priceVersion: 'test:flat',
  input: 3,
  output: 15,
  cacheRead: 0.3,
  cacheWrite5m: 3.75,
  cacheWrite1h: 6,
  batchDiscount: 0.5,
};

const tiered: PriceSheet = {
  matchedModel: 'tiered',
  source: 'test',
  priceVersion: 'test:tiered',
  input: { base: 3, tiers: [{ start: 200_000, price: 6 }] },
  output: { base: 15, tiers: [{ start: 200_000, price: 22.5 }] },
  cacheRead: { base: 0.3, tiers: [{ start: 200_000, price: 0.6 }] },
  batchDiscount: 0.5,
};

function usage(input: Usage['input'], output: Usage['output'] = {}): Usage {
  return { input, output };
}

describe('computeCost', () => {
  it('prices each kind of token at its own rate', () => {
    const result = computeCost(
      flat,
      usage({ noCache: 50, cacheRead: 10_000, cacheWrite5m: 2_000, cacheWrite1h: 3_000 }, { total: 500 }),
      false,
    );
    // 50 x 3.00 = 150,000,000 pUSD; 10,000 x 0.30 = 3,000,000,000; 2,000 x 3.75 = 7,500,000,000;
    // 3,000 x 6.00 = 18,000,000,000; 500 x 15.00 = 7,500,000,000.  (1 USD/MTok = 1,000,000 pUSD/token)
    assert.deepEqual(result, {
      cost: 36_150_000_000n,
      priceVersion: 'test:flat',
      breakdown: { input: 150_000_000n, cacheRead: 3_000_000_000n, cacheWrite: 25_500_000_000n, output: 7_500_000_000n },
    });
  });

  it('derives noCache from input.total minus the cache parts', () => {
    const derived = computeCost(flat, usage({ total: 15_050, cacheRead: 10_000, cacheWrite5m: 2_000, cacheWrite1h: 3_000 }, { total: 500 }), false);
    assert.equal(derived?.cost, 36_150_000_000n);
    assert.equal(derived?.breakdown.input, 150_000_000n);
  });

  it('does not add reasoning on top of output.total', () => {
    const result = computeCost(flat, usage({ noCache: 0 }, { total: 100, text: 40, reasoning: 60 }), false);
    assert.equal(result?.cost, 1_500_000_000n); // 100 x 15.00
  });

  it('uses text + reasoning when output.total is missing', () => {
    const result = computeCost(flat, usage({}, { text: 40, reasoning: 60 }), false);
    assert.equal(result?.cost, 1_500_000_000n);
  });

  it('costs 0n for zero or empty usage', () => {
    assert.equal(computeCost(flat, usage({}), false)?.cost, 0n);
    assert.equal(computeCost(flat, usage({ total: 0, noCache: 0, cacheRead: 0 }, { total: 0 }), false)?.cost, 0n);
  });

  it('applies a tier to every token of the request once input.total exceeds its start', () => {
    // At exactly 200,000: base. 200,000 x 3.00 = 600,000,000,000 pUSD.
    assert.equal(computeCost(tiered, usage({ total: 200_000, noCache: 200_000 }), false)?.cost, 600_000_000_000n);
    // At 200,001: tier. 200,001 x 6.00 = 1,200,006,000,000 pUSD.
    assert.equal(computeCost(tiered, usage({ total: 200_001, noCache: 200_001 }), false)?.cost, 1_200_006_000_000n);
    // Cache reads count toward the threshold: 1,000 uncached + 199,500 read = 200,500 > 200,000.
    // 1,000 x 6.00 = 6,000,000,000; 199,500 x 0.60 = 119,700,000,000; 10 out x 22.50 = 225,000,000.
    const withReads = computeCost(tiered, usage({ noCache: 1_000, cacheRead: 199_500 }, { total: 10 }), false);
    assert.equal(withReads?.cost, 125_925_000_000n);
  });

  it('fills missing cache prices: read and 5m write at input, 1h write at 2x input', () => {
    const sheet: PriceSheet = { matchedModel: 'bare', source: 'test', priceVersion: 'v', input: 2, output: 8, batchDiscount: 0.5 };
    const result = computeCost(sheet, usage({ noCache: 10, cacheRead: 20, cacheWrite5m: 30, cacheWrite1h: 40 }), false);
    // 10 x 2 = 20,000,000; 20 x 2 = 40,000,000; 30 x 2 = 60,000,000 + 40 x 4 = 160,000,000.
    assert.deepEqual(result?.breakdown, { input: 20_000_000n, cacheRead: 40_000_000n, cacheWrite: 220_000_000n, output: 0n });
    assert.deepEqual(effectiveRates(sheet, 0).derived, ['cacheRead', 'cacheWrite5m', 'cacheWrite1h']);
  });

  it('is unpriced when output tokens meet a model without an output price', () => {
    const embedding: PriceSheet = { matchedModel: 'e', source: 'test', priceVersion: 'v', input: 0.02, batchDiscount: 0.5 };
    assert.equal(computeCost(embedding, usage({ noCache: 1_000 }, { total: 0 }), false)?.cost, 20_000_000n);
    assert.equal(computeCost(embedding, usage({ noCache: 1_000 }, { total: 3 }), false), undefined);
  });

  it('applies the batch discount to every part, exactly', () => {
    const result = computeCost(
      flat,
      usage({ noCache: 50, cacheRead: 10_000, cacheWrite5m: 2_000, cacheWrite1h: 3_000 }, { total: 500 }),
      true,
    );
    // Half of each part above: 75,000,000 + 1,500,000,000 + 12,750,000,000 + 3,750,000,000.
    assert.deepEqual(result?.breakdown, { input: 75_000_000n, cacheRead: 1_500_000_000n, cacheWrite: 12_750_000_000n, output: 3_750_000_000n });
    assert.equal(result?.cost, 18_075_000_000n);
  });

  it('rounds a discounted half picodollar up', () => {
    const tiny: PriceSheet = { matchedModel: 't', source: 'test', priceVersion: 'v', input: 0.000001, output: 0, batchDiscount: 0.5 };
    // 1 token x 1 pUSD = 1 pUSD; x 0.5 = 0.5 -> 1.  3 tokens = 3 pUSD; x 0.5 = 1.5 -> 2.
    assert.equal(computeCost(tiny, usage({ noCache: 1 }), true)?.cost, 1n);
    assert.equal(computeCost(tiny, usage({ noCache: 3 }), true)?.cost, 2n);
    const third: PriceSheet = { ...tiny, input: 3, batchDiscount: 1 / 3 };
    // 1 token x 3,000,000 pUSD x (1 - 333,333 ppm) = 3,000,000 x 666,667 / 1,000,000 = 2,000,001 pUSD.
    assert.equal(computeCost(third, usage({ noCache: 1 }), true)?.cost, 2_000_001n);
  });

  it('is unpriced for counts that are not non-negative integers', () => {
    assert.equal(computeCost(flat, usage({ noCache: -1 }), false), undefined);
    assert.equal(computeCost(flat, usage({ noCache: 1.5 }), false), undefined);
    assert.equal(computeCost(flat, usage({}, { total: Number.NaN }), false), undefined);
  });
});
