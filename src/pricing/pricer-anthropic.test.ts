import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convertAnthropicUsage } from '../providers/anthropic/convert-anthropic-usage.ts';
import type { Usage } from '../core/usage.ts';
import { createPricer } from './pricer.ts';

// Expected values are computed by hand from the published prices in provider-facts §7.2
// (Sonnet 4.5: input 3, 5m write 3.75, 1h write 6, read 0.30, output 15; over 200K input:
// 6 / 7.50 / 12 / 0.60 / 22.50), not from the library. 1 USD/MTok = 1,000,000 pUSD per token.
const pricer = createPricer();
const at = new Date('2025-11-01T12:00:00Z');

function anthropicUsage(name: string): Usage {
  const body = JSON.parse(readFileSync(new URL(`../providers/anthropic/fixtures/${name}`, import.meta.url), 'utf8'));
  const usage = convertAnthropicUsage(body.usage);
  assert.ok(usage);
  return usage;
}

describe('pricing Anthropic (cache tokens are on top of input_tokens)', () => {
  it('claude-sonnet-4-5 with reads, 5m writes and 1h writes', () => {
    const result = pricer.cost({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5-20250929',
      usage: anthropicUsage('message-cache-split.json'),
      at,
    });
    // input      50 x 3,000,000  =    150,000,000
    // read   10,000 x   300,000  =  3,000,000,000
    // 5m      2,000 x 3,750,000  =  7,500,000,000
    // 1h      3,000 x 6,000,000  = 18,000,000,000  (writes: 25,500,000,000)
    // output    500 x 15,000,000 =  7,500,000,000
    // total                         36,150,000,000 pUSD = $0.03615
    assert.deepEqual(result?.breakdown, {
      input: 150_000_000n,
      cacheRead: 3_000_000_000n,
      cacheWrite: 25_500_000_000n,
      output: 7_500_000_000n,
    });
    assert.equal(result?.cost, 36_150_000_000n);
    assert.match(result?.priceVersion ?? '', /^genai-prices@[\w.-]+:anthropic\/claude-sonnet-4-5@base$/);
  });

  it('the docs example: 21 input + 188,086 written (188,107 total, under the 200K tier)', () => {
    const result = pricer.cost({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      usage: anthropicUsage('message-cache-write-large.json'),
      at,
    });
    // 21 x 3,000,000 = 63,000,000; 188,086 x 3,750,000 = 705,322,500,000; 393 x 15,000,000 = 5,895,000,000
    assert.equal(result?.cost, 711_280_500_000n);
  });

  it('long context: over 200K total input, the tier price applies to every token', () => {
    const usage: Usage = {
      input: { total: 211_500, noCache: 150_000, cacheRead: 60_000, cacheWrite5m: 500, cacheWrite1h: 1_000 },
      output: { total: 2_000 },
    };
    const result = pricer.cost({ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', usage, at });
    // input 150,000 x 6,000,000  = 900,000,000,000
    // read   60,000 x   600,000  =  36,000,000,000
    // 5m        500 x 7,500,000  =   3,750,000,000
    // 1h      1,000 x 12,000,000 =  12,000,000,000
    // output  2,000 x 22,500,000 =  45,000,000,000
    // total                         996,750,000,000 pUSD = $0.99675
    assert.equal(result?.cost, 996_750_000_000n);
  });

  it('exactly 200,000 input tokens is still the base tier', () => {
    const usage: Usage = { input: { total: 200_000, noCache: 200_000 }, output: { total: 0 } };
    // 200,000 x 3,000,000 = 600,000,000,000
    assert.equal(pricer.cost({ provider: 'anthropic', model: 'claude-sonnet-4-5', usage, at })?.cost, 600_000_000_000n);
  });

  it('claude-sonnet-4-6 lost its long-context surcharge on 2026-03-13', () => {
    const usage: Usage = { input: { total: 250_000, noCache: 250_000 }, output: { total: 0 } };
    const before = pricer.cost({ provider: 'anthropic', model: 'claude-sonnet-4-6', usage, at: new Date('2026-03-12T23:59:59Z') });
    const after = pricer.cost({ provider: 'anthropic', model: 'claude-sonnet-4-6', usage, at: new Date('2026-03-13T00:00:00Z') });
    assert.equal(before?.cost, 1_500_000_000_000n); // 250,000 x 6,000,000
    assert.equal(after?.cost, 750_000_000_000n); // 250,000 x 3,000,000
    assert.match(before?.priceVersion ?? '', /:anthropic\/claude-sonnet-4-6@base$/);
    assert.match(after?.priceVersion ?? '', /:anthropic\/claude-sonnet-4-6@2026-03-13$/);
  });

  it('claude-opus-4-8 with thinking: reasoning is inside output_tokens (5 / 0.50 / 25)', () => {
    const result = pricer.cost({ provider: 'anthropic', model: 'claude-opus-4-8', usage: anthropicUsage('message-thinking.json'), at: new Date('2026-06-01') });
    // 400 x 5,000,000 = 2,000,000,000; 2,048 x 500,000 = 1,024,000,000; 1,500 x 25,000,000 = 37,500,000,000
    assert.equal(result?.cost, 40_524_000_000n);
  });

  it('Message Batches at 50%, cache writes included', () => {
    const result = pricer.cost({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5-20250929',
      usage: anthropicUsage('message-cache-split.json'),
      at,
      batch: true,
    });
    // 36,150,000,000 / 2
    assert.equal(result?.cost, 18_075_000_000n);
  });
});
