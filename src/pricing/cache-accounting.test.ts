import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheAccounting } from './cache-accounting.ts';
import { createPricer } from './pricer.ts';

const pricer = createPricer();
const at = new Date('2026-06-01T00:00:00Z');

test('Anthropic: 5m writes at 1.25x and 1h writes at 2x pay a premium; reads at 0.1x save', () => {
  // claude-sonnet-4-5: input $3, 5m write $3.75, 1h write $6, read $0.30 per million.
  const input = {
    provider: 'anthropic' as const,
    model: 'claude-sonnet-4-5',
    at,
    usage: { input: { total: 16_000, noCache: 1000, cacheRead: 10_000, cacheWrite5m: 2000, cacheWrite1h: 3000 }, output: { total: 100 } },
  };
  const actual = pricer.cost(input);
  assert.ok(actual);
  const accounting = cacheAccounting(pricer, input, actual.cost);
  // premium: 2,000 x (3.75 - 3) + 3,000 x (6 - 3) = 1,500 + 9,000 micro-dollars
  assert.equal(accounting?.writePremium, 10_500_000_000n);
  // saving: 10,000 x (3 - 0.30) = 27,000 micro-dollars
  assert.equal(accounting?.readSaving, 27_000_000_000n);
});

test('OpenAI: cached tokens inside prompt_tokens save the difference; no writes, no premium', () => {
  // gpt-4o: input $2.50, cached $1.25 per million; 2,006 prompt tokens of which 1,920 cached.
  const input = { provider: 'openai' as const, model: 'gpt-4o', at, usage: { input: { total: 2006, noCache: 86, cacheRead: 1920 }, output: { total: 300 } } };
  const actual = pricer.cost(input);
  assert.ok(actual);
  assert.deepEqual(cacheAccounting(pricer, input, actual.cost), { writePremium: 0n, readSaving: 2_400_000_000n });
});

test('no cache activity is a zero, an unpriced model is unknown', () => {
  const plain = { provider: 'openai' as const, model: 'gpt-4o', at, usage: { input: { total: 10, noCache: 10 }, output: { total: 1 } } };
  assert.deepEqual(cacheAccounting(pricer, plain, 1n), { writePremium: 0n, readSaving: 0n });
  const unknown = { provider: 'openai' as const, model: 'no-such-model', at, usage: { input: { total: 10, cacheRead: 5 }, output: { total: 1 } } };
  assert.equal(cacheAccounting(pricer, unknown, 1n), undefined);
});
