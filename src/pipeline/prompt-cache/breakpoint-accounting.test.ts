import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPricer } from '../../pricing/pricer.ts';
import { breakpointEffect, implicitBaselineEffect, implicitStep } from './breakpoint-accounting.ts';

const pricer = createPricer();
const at = new Date('2026-08-01T00:00:00Z');
// Hand-computed from published prices, in picodollars per token (USD/MTok * 1e6).
const SONNET = { input: 3_000_000n, write5m: 3_750_000n, write1h: 6_000_000n, read: 300_000n };
const BEDROCK_SONNET = { input: 3_300_000n, write5m: 4_125_000n, write1h: 6_600_000n, read: 330_000n };

test('Anthropic: a first 5m write costs its premium; a read saves the difference', () => {
  const write = breakpointEffect(pricer, {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    usage: { input: { total: 4010, noCache: 10, cacheWrite5m: 4000, cacheWrite1h: 0, cacheRead: 0 }, output: { total: 50 } },
    at,
    clientCoverTokens: 0,
  });
  assert.deepEqual(write && { saving: write.saving, premium: write.premium, savings: write.savings, estimated: write.estimated }, {
    saving: -(4000n * (SONNET.write5m - SONNET.input)),
    premium: 4000n * (SONNET.write5m - SONNET.input),
    savings: 0n,
    estimated: false,
  });
  const read = breakpointEffect(pricer, {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    usage: { input: { total: 4300, noCache: 10, cacheRead: 4000, cacheWrite5m: 0, cacheWrite1h: 290 }, output: { total: 50 } },
    at,
    clientCoverTokens: 0,
  });
  assert.equal(read?.savings, 4000n * (SONNET.input - SONNET.read));
  assert.equal(read?.premium, 290n * (SONNET.write1h - SONNET.input));
  assert.equal(read?.saving, 4000n * (SONNET.input - SONNET.read) - 290n * (SONNET.write1h - SONNET.input));
});

test('Bedrock: regional prices, 1h write premium', () => {
  const effect = breakpointEffect(pricer, {
    provider: 'bedrock',
    model: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
    usage: { input: { total: 6000, noCache: 0, cacheRead: 2000, cacheWrite1h: 4000, cacheWrite5m: 0 }, output: { total: 10 } },
    at,
    clientCoverTokens: 0,
  });
  assert.equal(effect?.premium, 4000n * (BEDROCK_SONNET.write1h - BEDROCK_SONNET.input));
  assert.equal(effect?.savings, 2000n * (BEDROCK_SONNET.input - BEDROCK_SONNET.read));
});

test("with client markers only the part past the client's cover is costgate's, marked estimated", () => {
  const effect = breakpointEffect(pricer, {
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    usage: { input: { total: 5000, noCache: 0, cacheRead: 3000, cacheWrite5m: 2000, cacheWrite1h: 0 }, output: { total: 0 } },
    at,
    clientCoverTokens: 2500,
  });
  assert.equal(effect?.estimated, true);
  assert.equal(effect?.readTokens, 500);
  assert.equal(effect?.writeTokens, 2000);
  assert.equal(effect?.saving, 500n * (SONNET.input - SONNET.read) - 2000n * (SONNET.write5m - SONNET.input));
});

test('OpenAI gpt-5.6-sol against implicit caching (5 / read 0.50 / write 6.25 per MTok), by hand', () => {
  assert.equal(implicitStep(1023), 0);
  assert.equal(implicitStep(2450), 2432);
  const model = { provider: 'openai' as const, model: 'gpt-5.6-sol', at: new Date('2026-08-10T00:00:00Z') };
  // Explicit read of a 2,413-token prefix; implicit caching would have read 2,432 (its 128-token step
  // under 2,450) and written the rest up to 3,584.
  const read = implicitBaselineEffect(pricer, {
    ...model,
    usage: { input: { total: 3632, noCache: 1219, cacheRead: 2413, cacheWrite5m: 0 }, output: { total: 0 } },
    implicitReadTokens: 2450,
  });
  // actual   1219 x 5,000,000 + 2413 x 500,000                     = 7,301,500,000
  // implicit   48 x 5,000,000 + 2432 x 500,000 + 1152 x 6,250,000  = 8,656,000,000
  assert.equal(read?.saving, 1_354_500_000n);
  assert.equal(read?.premium, 0n);
  assert.equal(read?.estimated, true);
  // A first explicit write where implicit caching had nothing to read either.
  const write = implicitBaselineEffect(pricer, {
    ...model,
    usage: { input: { total: 3632, noCache: 1219, cacheRead: 0, cacheWrite5m: 2413 }, output: { total: 0 } },
    implicitReadTokens: 0,
  });
  // actual   1219 x 5,000,000 + 2413 x 6,250,000 = 21,176,250,000
  // implicit   48 x 5,000,000 + 3584 x 6,250,000 = 22,640,000,000
  assert.equal(write?.saving, 1_463_750_000n);
  assert.equal(write?.premium, 2413n * 1_250_000n);
  assert.equal(write?.savings, 1_463_750_000n + 2413n * 1_250_000n);
});
