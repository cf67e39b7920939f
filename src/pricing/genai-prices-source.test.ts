import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { createGenaiPricesSource, GENAI_PRICES_SOURCE, GENAI_PRICES_VERSION } from './genai-prices-source.ts';

describe('genai-prices source', () => {
  it('reads the installed package version', () => {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@pydantic/genai-prices');
    const manifest = JSON.parse(readFileSync(new URL('../package.json', `file://${entry}`), 'utf8'));
    assert.equal(GENAI_PRICES_VERSION, manifest.version);
    assert.equal(GENAI_PRICES_SOURCE, `genai-prices@${manifest.version}`);
  });

  it('memoizes a resolution for the rest of the UTC day', () => {
    const source = createGenaiPricesSource();
    const morning = source.resolve('openai', 'gpt-4o', new Date('2025-10-01T00:00:01Z'));
    const evening = source.resolve('openai', 'gpt-4o', new Date('2025-10-01T23:59:59Z'));
    const nextDay = source.resolve('openai', 'gpt-4o', new Date('2025-10-02T00:00:00Z'));
    assert.ok(morning);
    assert.equal(evening, morning);
    assert.notEqual(nextDay, morning);
    assert.deepEqual(nextDay, morning);
  });

  it('picks the dated row in force, and names it in priceVersion', () => {
    const source = createGenaiPricesSource();
    const before = source.resolve('openai', 'gpt-5.6-terra', new Date('2026-07-29T12:00:00Z'));
    const after = source.resolve('openai', 'gpt-5.6-terra', new Date('2026-07-30T00:00:00Z'));
    // provider-facts §7.1: gpt-5.6-terra was 2.50 / 15 before 2026-07-30, then 2 / 12.
    assert.deepEqual([before?.input, before?.output], [{ base: 2.5, tiers: [{ start: 271_999, price: 5 }] }, { base: 15, tiers: [{ start: 271_999, price: 22.5 }] }]);
    assert.equal(typeof after?.input === 'object' ? after.input.base : after?.input, 2);
    assert.equal(before?.priceVersion, `${GENAI_PRICES_SOURCE}:openai/gpt-5.6-terra@base`);
    assert.equal(after?.priceVersion, `${GENAI_PRICES_SOURCE}:openai/gpt-5.6-terra@2026-07-30`);
  });

  it('caches unknown models as unpriced, with a bounded cache', () => {
    const source = createGenaiPricesSource({ cacheSize: 2 });
    const at = new Date('2025-10-01');
    assert.equal(source.resolve('openai', 'no-such-model', at), undefined);
    assert.equal(source.resolve('openai', 'no-such-model', at), undefined);
    assert.ok(source.resolve('openai', 'gpt-4o', at));
    assert.ok(source.resolve('openai', 'gpt-4o-mini', at));
    assert.ok(source.resolve('openai', 'gpt-5', at));
  });

  it('maps bedrock to the library provider "aws" only', () => {
    const source = createGenaiPricesSource();
    const at = new Date('2026-01-15');
    assert.equal(source.resolve('bedrock', 'claude-sonnet-4-5', at)?.matchedModel, undefined);
    assert.equal(source.resolve('bedrock', 'amazon.nova-pro-v1:0', at)?.matchedModel, 'amazon.nova-pro-v1:0');
    assert.equal(source.resolve('anthropic', 'claude-sonnet-4-5', at)?.matchedModel, 'claude-sonnet-4-5');
  });
});
