import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  convertOpenAIChatUsage,
  convertOpenAIEmbeddingsUsage,
} from '../providers/openai/convert-openai-usage.ts';
import type { Usage } from '../core/usage.ts';
import { createPricer } from './pricer.ts';

// Expected values are computed by hand from the published prices in provider-facts §7.1, not from
// the library, so wrong library data fails these tests. 1 USD/MTok = 1,000,000 pUSD per token.
const pricer = createPricer();
const at = new Date('2025-10-01T12:00:00Z');

function openAIFixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`../providers/openai/fixtures/${name}`, import.meta.url), 'utf8'));
}

function chatUsage(name: string): Usage {
  const usage = convertOpenAIChatUsage(openAIFixture(name).usage);
  assert.ok(usage);
  return usage;
}

describe('pricing OpenAI (cached tokens are inside prompt_tokens)', () => {
  it('gpt-4o: 2006 prompt with 1920 cached, 300 completion at 2.50 / 1.25 / 10.00', () => {
    const result = pricer.cost({ provider: 'openai', model: 'gpt-4o-2024-08-06', usage: chatUsage('chat-completion-cached.json'), at });
    // uncached 2006 - 1920 = 86 x 2,500,000 = 215,000,000 pUSD
    // cached   1920 x 1,250,000             = 2,400,000,000
    // output    300 x 10,000,000            = 3,000,000,000
    // total                                   5,615,000,000 pUSD = $0.005615
    assert.deepEqual(result?.breakdown, {
      input: 215_000_000n,
      cacheRead: 2_400_000_000n,
      cacheWrite: 0n,
      output: 3_000_000_000n,
    });
    assert.equal(result?.cost, 5_615_000_000n);
    assert.match(result?.priceVersion ?? '', /^genai-prices@[\w.-]+:openai\/gpt-4o@base$/);
  });

  it('gpt-5: reasoning tokens are billed once, inside completion_tokens (1.25 / 0.125 / 10.00)', () => {
    const result = pricer.cost({ provider: 'openai', model: 'gpt-5-2025-08-07', usage: chatUsage('chat-completion-reasoning.json'), at });
    // uncached 3000 - 1024 = 1976 x 1,250,000 = 2,470,000,000
    // cached   1024 x 125,000                 =   128,000,000
    // output   2500 (1800 of them reasoning) x 10,000,000 = 25,000,000,000
    // total                                      27,598,000,000
    assert.equal(result?.cost, 27_598_000_000n);
    assert.equal(result?.breakdown.output, 25_000_000_000n);
  });

  it('gpt-5.6-sol: cache writes at the cache-write price (5 / 0.50 / write 6.25 / 30)', () => {
    const result = pricer.cost({
      provider: 'openai',
      model: 'gpt-5.6-sol',
      usage: chatUsage('chat-completion-cache-write.json'),
      at: new Date('2026-08-10T00:00:00Z'),
    });
    // uncached 5000 - 1024 - 3500 = 476 x 5,000,000 = 2,380,000,000
    // cached   1024 x 500,000                       =   512,000,000
    // written  3500 x 6,250,000                     = 21,875,000,000
    // output    200 x 30,000,000                    =  6,000,000,000
    // total                                           30,767,000,000
    assert.equal(result?.cost, 30_767_000_000n);
    assert.equal(result?.breakdown.cacheWrite, 21_875_000_000n);
  });

  it('gpt-4o-mini streamed usage chunk (0.15 / 0.075 / 0.60)', () => {
    const chunks = openAIFixture('chat-stream-chunks.json') as { usage: unknown }[];
    const usage = convertOpenAIChatUsage(chunks.at(-1)?.usage);
    assert.ok(usage);
    const result = pricer.cost({ provider: 'openai', model: 'gpt-4o-mini-2024-07-18', usage, at });
    // 220 x 150,000 = 33,000,000; 1280 x 75,000 = 96,000,000; 3 x 600,000 = 1,800,000
    assert.equal(result?.cost, 130_800_000n);
  });

  it('batch: 50% of every part (gpt-4o batch is 1.25 / 5.00)', () => {
    const result = pricer.cost({
      provider: 'openai',
      model: 'gpt-4o',
      usage: chatUsage('chat-completion-cached.json'),
      at,
      batch: true,
    });
    // 5,615,000,000 / 2: 107,500,000 + 1,200,000,000 + 1,500,000,000
    assert.equal(result?.cost, 2_807_500_000n);
  });

  it('text-embedding-3-small at 0.02, batch 0.01', () => {
    const usage = convertOpenAIEmbeddingsUsage(openAIFixture('embeddings-body.json').usage);
    assert.ok(usage);
    // 8 x 20,000 = 160,000 pUSD
    assert.equal(pricer.cost({ provider: 'openai', model: 'text-embedding-3-small', usage, at })?.cost, 160_000n);
    assert.equal(pricer.cost({ provider: 'openai', model: 'text-embedding-3-small', usage, at, batch: true })?.cost, 80_000n);
  });
});
