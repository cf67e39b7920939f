import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPricer } from '../../pricing/pricer.ts';
import { breakpointEffect } from './breakpoint-accounting.ts';

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
