import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateCache, type LabeledPair } from './cache-evaluation.ts';
import { GloveEmbedder } from './glove-embedder.ts';
import { seededRandom } from './seeded-random.ts';
import { TINY_VOCABULARY, writeTinyGlove } from './testing/tiny-glove.ts';

const embedder = new GloveEmbedder(writeTinyGlove());

/** Duplicates differ from their question by one word; non-duplicates are another random question. */
function pairs(count: number): LabeledPair[] {
  const random = seededRandom(11);
  const word = () => TINY_VOCABULARY[Math.floor(random() * TINY_VOCABULARY.length)] as string;
  const sentence = () => Array.from({ length: 8 }, word);
  return Array.from({ length: count }, (_unused, index) => {
    const a = sentence();
    if (index % 2 === 0) {
      const b = [...a];
      b[Math.floor(random() * b.length)] = word();
      return { a: a.join(' '), b: b.join(' '), label: 1 as const };
    }
    return { a: a.join(' '), b: sentence().join(' '), label: 0 as const };
  });
}

test('cache eval: fixed sweep and bounded mode in the documented shape, every bound respected', async () => {
  const data = pairs(1200);
  const report = await evaluateCache(data, embedder, {
    thresholds: [0.5, 0.8, 0.9, 0.95],
    bounds: [0.02, 0.05, 0.1],
    shadowRate: 0.05,
    confidence: 0.95,
    minSimilarity: 0.5,
    guard: false,
    seed: 1,
    usearch: undefined,
  });
  assert.deepEqual(Object.keys(report), ['fixed', 'bounded']);
  assert.deepEqual(Object.keys(report.fixed[0] ?? {}), ['threshold', 'hit_rate', 'wrong_hit_rate', 'recall']);
  assert.deepEqual(Object.keys(report.bounded[0] ?? {}), ['bound', 'hit_rate', 'wrong_hit_rate', 'recall']);
  const hitRates = report.fixed.map((row) => row.hit_rate);
  assert.deepEqual([...hitRates].sort((left, right) => right - left), hitRates, 'a higher threshold never hits more');
  assert.ok((report.fixed[0]?.wrong_hit_rate ?? 0) > 0.3, 'a low fixed threshold serves many wrong answers');
  for (const row of report.bounded) assert.ok(row.wrong_hit_rate <= row.bound, `bound ${row.bound}: ${row.wrong_hit_rate}`);
  assert.ok((report.bounded.at(-1)?.hit_rate ?? 0) > 0.1, 'with a usable signal the bounded mode does serve');
});

test('cache eval, pairs protocol: each b is compared with its own a only', async () => {
  const data = pairs(600);
  const report = await evaluateCache(data, embedder, {
    thresholds: [0.9],
    bounds: [0.05, 0.2],
    shadowRate: 0.05,
    confidence: 0.95,
    minSimilarity: 0.5,
    guard: false,
    seed: 2,
    protocol: 'pairs',
    usearch: undefined,
  });
  for (const row of report.bounded) assert.ok(row.wrong_hit_rate <= row.bound, `bound ${row.bound}: ${row.wrong_hit_rate}`);
  // With its own a as the only candidate, a duplicate can always be found: recall can only rise.
  const indexed = await evaluateCache(data, embedder, { thresholds: [0.9], bounds: [], shadowRate: 0.05, confidence: 0.95, minSimilarity: 0.5, guard: false, seed: 2, usearch: undefined });
  assert.ok((report.fixed[0]?.recall ?? 0) >= (indexed.fixed[0]?.recall ?? 1));
});
