import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convertAnthropicUsage } from '../providers/anthropic/convert-anthropic-usage.ts';
import { convertBedrockConverseUsage } from '../providers/bedrock/convert-bedrock-usage.ts';
import type { Usage } from '../core/usage.ts';
import { createPricer } from './pricer.ts';

// Expected values are computed by hand from provider-facts §7.3: Sonnet 4.5 on the global profile is
// 3 / write 3.75 / read 0.30 / 15; regional endpoints and geographic profiles are +10%
// (3.30 / 4.125 / 0.33 / 16.50). The 1h write is 2x input (6.00 global, 6.60 regional).
const pricer = createPricer();
const at = new Date('2026-01-15T12:00:00Z');

function bedrockFixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`../providers/bedrock/fixtures/${name}`, import.meta.url), 'utf8'));
}

function converseUsage(): Usage {
  const usage = convertBedrockConverseUsage(bedrockFixture('converse-cache-details.json').usage);
  assert.ok(usage);
  return usage;
}

describe('pricing Bedrock (cache tokens are on top of inputTokens)', () => {
  it('Converse on the global Sonnet 4.5 profile, with 5m and 1h writes', () => {
    const result = pricer.cost({ provider: 'bedrock', model: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', usage: converseUsage(), at });
    // input    100 x 3,000,000 =    300,000,000
    // read   5,000 x   300,000 =  1,500,000,000
    // 5m     1,500 x 3,750,000 =  5,625,000,000
    // 1h       500 x 6,000,000 =  3,000,000,000  (2x input: the data has no 1h price)
    // output   400 x 15,000,000 = 6,000,000,000
    // total                      16,425,000,000
    assert.deepEqual(result?.breakdown, {
      input: 300_000_000n,
      cacheRead: 1_500_000_000n,
      cacheWrite: 8_625_000_000n,
      output: 6_000_000_000n,
    });
    assert.equal(result?.cost, 16_425_000_000n);
    assert.match(result?.priceVersion ?? '', /:aws\/global\.anthropic\.claude-sonnet-4-5-20250929-v1:0@base$/);
  });

  it('the US geographic profile and the in-region id cost 10% more', () => {
    // input 100 x 3,300,000 = 330,000,000; read 5,000 x 330,000 = 1,650,000,000;
    // 5m 1,500 x 4,125,000 = 6,187,500,000; 1h 500 x 6,600,000 = 3,300,000,000;
    // output 400 x 16,500,000 = 6,600,000,000; total 18,067,500,000 (= 1.1 x 16,425,000,000)
    for (const model of [
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-sonnet-4-5-20250929-v1%3A0',
    ]) {
      const result = pricer.cost({ provider: 'bedrock', model, usage: converseUsage(), at });
      assert.equal(result?.cost, 18_067_500_000n, model);
      assert.match(result?.priceVersion ?? '', /:aws\/regional\.anthropic\.claude-sonnet-4-5-20250929-v1:0@base$/, model);
    }
  });

  it('InvokeModel with an Anthropic body, priced on the US profile', () => {
    const usage = convertAnthropicUsage(bedrockFixture('invoke-model-claude.json').usage);
    assert.ok(usage);
    const result = pricer.cost({ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', usage, at });
    // 60 x 3,300,000 = 198,000,000; 9,000 x 330,000 = 2,970,000,000;
    // 2,500 x 4,125,000 = 10,312,500,000; 210 x 16,500,000 = 3,465,000,000
    assert.equal(result?.cost, 16_945_500_000n);
  });

  it('batch inference at 50%', () => {
    const result = pricer.cost({
      provider: 'bedrock',
      model: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      usage: converseUsage(),
      at,
      batch: true,
    });
    assert.equal(result?.cost, 8_212_500_000n); // 16,425,000,000 / 2
  });

  it('leaves models the data does not know unpriced', () => {
    for (const model of [
      'cohere.command-r-plus-v1:0',
      'anthropic.claude-v2:1',
      'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6',
    ]) {
      assert.equal(pricer.cost({ provider: 'bedrock', model, usage: converseUsage(), at }), undefined, model);
    }
  });
});
