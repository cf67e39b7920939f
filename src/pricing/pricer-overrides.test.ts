import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Usage } from '../core/usage.ts';
import { createPricer, GENAI_PRICES_SOURCE } from './pricer.ts';

const at = new Date('2025-10-01T12:00:00Z');
const cachedGpt4o: Usage = {
  input: { total: 2006, noCache: 86, cacheRead: 1920 },
  output: { total: 300 },
};

describe('price overrides', () => {
  it('win over the library', () => {
    const pricer = createPricer({
      overrides: [{ provider: 'openai', model: 'gpt-4o', inputPerMTok: 2, outputPerMTok: 8, cacheReadPerMTok: 0.5 }],
    });
    const result = pricer.cost({ provider: 'openai', model: 'gpt-4o', usage: cachedGpt4o, at });
    // 86 x 2,000,000 = 172,000,000; 1920 x 500,000 = 960,000,000; 300 x 8,000,000 = 2,400,000,000
    assert.equal(result?.cost, 3_532_000_000n);
    assert.equal(result?.priceVersion, 'override:gpt-4o[in=2,out=8,cr=0.5,batch=0.5]');
  });

  it('price a model the library does not know, by prefix', () => {
    const pricer = createPricer({
      overrides: [{ provider: 'openai', model: 'ft:gpt-4o-mini:acme*', inputPerMTok: 0.3, outputPerMTok: 1.2 }],
    });
    const usage: Usage = { input: { total: 1000, noCache: 1000 }, output: { total: 500 } };
    const result = pricer.cost({ provider: 'openai', model: 'ft:gpt-4o-mini:acme::9XyZ', usage, at });
    // 1000 x 300,000 = 300,000,000; 500 x 1,200,000 = 600,000,000
    assert.equal(result?.cost, 900_000_000n);
    assert.equal(result?.priceVersion, 'override:ft:gpt-4o-mini:acme*[in=0.3,out=1.2,batch=0.5]');
  });

  it('prefer exact over prefix, the longer prefix, and the same provider', () => {
    const pricer = createPricer({
      overrides: [
        { provider: 'bedrock', model: 'arn:*', inputPerMTok: 1, outputPerMTok: 1 },
        { provider: 'bedrock', model: 'arn:aws:bedrock:us-east-1:123:application-inference-profile/*', inputPerMTok: 2, outputPerMTok: 2 },
        { provider: 'bedrock', model: 'arn:aws:bedrock:us-east-1:123:application-inference-profile/team-a', inputPerMTok: 3, outputPerMTok: 3 },
        { provider: 'openai', model: 'team-b*', inputPerMTok: 9, outputPerMTok: 9 },
      ],
    });
    const input = (provider: 'bedrock' | 'openai', model: string) => pricer.describe(provider, model, at)?.prices.inputPerMTok;
    assert.equal(input('bedrock', 'arn:aws:bedrock:us-east-1:123:application-inference-profile/team-a'), 3);
    assert.equal(input('bedrock', 'ARN:AWS:BEDROCK:US-EAST-1:123:APPLICATION-INFERENCE-PROFILE/TEAM-A'), 3);
    assert.equal(input('bedrock', 'arn:aws:bedrock:us-east-1:123:application-inference-profile/team-b'), 2);
    assert.equal(input('bedrock', 'arn:aws:bedrock:eu-west-1:9:foundation-model/x'), 1);
    assert.equal(input('bedrock', 'team-b-model'), undefined);
  });

  it('use their own batch discount, and 2x input for 1h writes by default', () => {
    const pricer = createPricer({
      overrides: [{ provider: 'anthropic', model: 'claude-custom', inputPerMTok: 4, outputPerMTok: 20, batchDiscount: 0.4 }],
    });
    const usage: Usage = { input: { noCache: 100, cacheWrite1h: 100 }, output: { total: 10 } };
    // 100 x 4,000,000 = 400,000,000; 100 x 8,000,000 (2x input) = 800,000,000; 10 x 20,000,000 = 200,000,000
    // = 1,400,000,000, x 0.6 = 840,000,000
    assert.equal(pricer.cost({ provider: 'anthropic', model: 'claude-custom', usage, at })?.cost, 1_400_000_000n);
    assert.equal(pricer.cost({ provider: 'anthropic', model: 'claude-custom', usage, at, batch: true })?.cost, 840_000_000n);
  });

  it('are rejected when invalid', () => {
    const base = { provider: 'openai', model: 'x', inputPerMTok: 1, outputPerMTok: 1 } as const;
    assert.throws(() => createPricer({ overrides: [{ ...base, inputPerMTok: -1 }] }), /inputPerMTok/);
    assert.throws(() => createPricer({ overrides: [{ ...base, outputPerMTok: Number.NaN }] }), /outputPerMTok/);
    assert.throws(() => createPricer({ overrides: [{ ...base, batchDiscount: 1.5 }] }), /batchDiscount/);
    assert.throws(() => createPricer({ overrides: [{ ...base, model: '*' }] }), /prefix/);
    assert.throws(() => createPricer({ overrides: [{ ...base, model: 'a*b*' }] }), /prefix/);
  });
});

describe('unpriced models', () => {
  const pricer = createPricer();

  it('are undefined, never 0', () => {
    const usage: Usage = { input: { total: 10, noCache: 10 }, output: { total: 10 } };
    assert.equal(pricer.cost({ provider: 'openai', model: 'gpt-unknown-9', usage, at }), undefined);
    assert.equal(pricer.cost({ provider: 'anthropic', model: 'claude-nonexistent-1', usage, at }), undefined);
    assert.equal(pricer.cost({ provider: 'openai', model: '', usage, at }), undefined);
    assert.equal(pricer.describe('openai', 'gpt-unknown-9', at), undefined);
  });

  it('are not looked up on another provider', () => {
    const usage: Usage = { input: { total: 10, noCache: 10 }, output: { total: 10 } };
    assert.equal(pricer.cost({ provider: 'anthropic', model: 'gpt-4o', usage, at }), undefined);
  });

  it('differ from a known model with zero usage, which costs 0n', () => {
    const zero: Usage = { input: { total: 0, noCache: 0, cacheRead: 0 }, output: { total: 0 } };
    const result = pricer.cost({ provider: 'openai', model: 'gpt-4o', usage: zero, at });
    assert.equal(result?.cost, 0n);
  });

  it('include models whose output is priced by nothing (embeddings with output tokens)', () => {
    const usage: Usage = { input: { total: 10, noCache: 10 }, output: { total: 5 } };
    assert.equal(pricer.cost({ provider: 'openai', model: 'text-embedding-3-small', usage, at }), undefined);
  });

  it('throw on an invalid date rather than price at a guessed time', () => {
    const usage: Usage = { input: { total: 1 }, output: {} };
    assert.throws(() => pricer.cost({ provider: 'openai', model: 'gpt-4o', usage, at: new Date('nope') }), RangeError);
  });
});

describe('describe', () => {
  const pricer = createPricer();

  it('gives the effective rates, tiers and version (claude-sonnet-4-5)', () => {
    const description = pricer.describe('anthropic', 'claude-sonnet-4-5-20250929', at);
    assert.ok(description);
    const { priceVersion, ...rest } = description;
    assert.equal(priceVersion, `${GENAI_PRICES_SOURCE}:anthropic/claude-sonnet-4-5@base`);
    assert.deepEqual(rest, {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5-20250929',
      matchedModel: 'claude-sonnet-4-5',
      source: GENAI_PRICES_SOURCE,
      prices: {
        inputPerMTok: 3,
        outputPerMTok: 15,
        cacheReadPerMTok: 0.3,
        cacheWrite5mPerMTok: 3.75,
        cacheWrite1hPerMTok: 6,
        tiers: [
          {
            aboveInputTokens: 200_000,
            inputPerMTok: 6,
            outputPerMTok: 22.5,
            cacheReadPerMTok: 0.6,
            cacheWrite5mPerMTok: 7.5,
            cacheWrite1hPerMTok: 12,
          },
        ],
      },
      derived: [],
      batchDiscount: 0.5,
    });
  });

  it('marks prices filled in by rule (Bedrock has no 1h write price)', () => {
    const description = pricer.describe('bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0', at);
    assert.equal(description?.prices.cacheWrite1hPerMTok, 6);
    assert.deepEqual(description?.derived, ['cacheWrite1h']);
  });

  it('describes overrides', () => {
    const withOverride = createPricer({ overrides: [{ provider: 'openai', model: 'my-model', inputPerMTok: 1, outputPerMTok: 2 }] });
    const description = withOverride.describe('openai', 'my-model');
    assert.equal(description?.source, 'config override');
    assert.equal(description?.matchedModel, 'override:my-model');
    assert.deepEqual(description?.prices, {
      inputPerMTok: 1,
      outputPerMTok: 2,
      cacheReadPerMTok: 1,
      cacheWrite5mPerMTok: 1,
      cacheWrite1hPerMTok: 2,
    });
    assert.deepEqual(description?.derived, ['cacheRead', 'cacheWrite5m', 'cacheWrite1h']);
  });
});
