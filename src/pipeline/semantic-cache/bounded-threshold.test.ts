import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntryLearning, errorUpperBound, learnThreshold, minimumObservations, type Observation } from './bounded-threshold.ts';
import { seededRandom } from './seeded-random.ts';
import { SemanticMatcher, type MatchPolicy } from './semantic-matcher.ts';
import { PartitionedVectorIndex } from './vector-index.ts';

test('Clopper-Pearson upper bounds match published values', () => {
  // 0 of n: 1 - alpha^(1/n) exactly.
  assert.ok(Math.abs(errorUpperBound(0, 10, 0.95) - (1 - 0.05 ** (1 / 10))) < 1e-9);
  // 1 of 10 at 95% one-sided: 0.3942; 5 of 100: 0.1030.
  assert.ok(Math.abs(errorUpperBound(1, 10, 0.95) - 0.3942) < 1e-3);
  assert.ok(Math.abs(errorUpperBound(5, 100, 0.95) - 0.103) < 1e-3);
  assert.equal(minimumObservations(0.02, 0.95), 149);
  assert.ok(errorUpperBound(0, 149, 0.95) <= 0.02 && errorUpperBound(0, 148, 0.95) > 0.02);
});

function observations(pairs: Array<[number, boolean]>, weight = 1): Observation[] {
  return pairs.map(([similarity, correct]) => ({ similarity, correct, weight }));
}

test('no threshold without enough evidence; a clean high region is served down to where errors start', () => {
  const few = observations(Array.from({ length: 150 }, (_unused, index) => [0.99 - index / 1000, true]));
  assert.equal(learnThreshold(few, 0.02, 0.95), Number.POSITIVE_INFINITY);
  const clean = Array.from({ length: 400 }, (_unused, index): [number, boolean] => [0.99 - index / 2000, true]);
  // Below 0.79 half the matches are wrong.
  const noisy = Array.from({ length: 400 }, (_unused, index): [number, boolean] => [0.79 - index / 2000, index % 2 === 0]);
  const threshold = learnThreshold(observations([...clean, ...noisy]), 0.02, 0.95);
  assert.ok(threshold >= 0.77 && threshold <= 0.81, `threshold ${threshold}`);
});

test('errors among the most similar matches mean nothing is served', () => {
  const bad = observations(Array.from({ length: 500 }, (_unused, index) => [0.99 - index / 1000, index % 10 !== 0]));
  assert.equal(learnThreshold(bad, 0.02, 0.95), Number.POSITIVE_INFINITY);
  assert.ok(Number.isFinite(learnThreshold(bad, 0.2, 0.95)));
});

test('with inverse-probability weights, sampled observations count as fewer independent checks', () => {
  const sampled = observations(Array.from({ length: 200 }, (_unused, index) => [0.99 - index / 1000, true]), 20);
  // 200 observations each standing for 20 still amount to an effective sample of 200.
  assert.ok(Number.isFinite(learnThreshold(sampled, 0.02, 0.95, -1, true)));
  const mixed = [...observations([[0.995, true]], 1000), ...sampled];
  // One heavy observation dominates: the effective sample collapses and nothing can be shown.
  assert.equal(learnThreshold(mixed, 0.02, 0.95, -1, true), Number.POSITIVE_INFINITY);
  // The default counts every check once.
  assert.ok(Number.isFinite(learnThreshold(mixed, 0.02, 0.95)));
});

test('an entry that answered wrongly never serves at or below that similarity again', () => {
  const learning = new EntryLearning();
  assert.equal(learning.threshold(0.9), 0.9);
  learning.observe({ similarity: 0.93, correct: false, weight: 1 }, 0.02, 0.95);
  assert.ok(learning.threshold(0.9) > 0.93);
  learning.observe({ similarity: 0.97, correct: true, weight: 1 }, 0.02, 0.95);
  assert.ok(learning.threshold(0.9) > 0.93);
});

/**
 * An online run against a known truth: the chance that a match at similarity s is right rises
 * with s. Whatever the curve, served wrong hits must stay under the bound; a sharper curve (a
 * better embedder) only serves more.
 */
test('online: served wrong-hit rate stays under the bound for weak and strong similarity signals', async () => {
  const bound = 0.05;
  const policy: MatchPolicy = { errorBound: bound, shadowRate: 0.05, minSimilarity: 0 };
  const results: Array<{ hits: number; wrongRate: number }> = [];
  for (const sharpness of [4, 25, 60]) {
    const random = seededRandom(sharpness);
    const matcher = new SemanticMatcher(new PartitionedVectorIndex(undefined), 0.95, seededRandom(sharpness + 100));
    const entries = await Promise.all(
      Array.from({ length: 200 }, (_unused, index) =>
        matcher.add({ key: `k${index}`, partition: 'p', tenant: 't', prompt: `question ${index}`, feature: undefined, expiresAt: Infinity }, Float32Array.from([1, index])),
      ),
    );
    let hits = 0;
    let wrong = 0;
    for (let query = 0; query < 20_000; query += 1) {
      const entry = entries[Math.floor(random() * entries.length)];
      assert.ok(entry);
      const similarity = 0.6 + 0.4 * random();
      const correct = random() < 1 / (1 + Math.exp(-sharpness * (similarity - 0.75)));
      const candidate = { entry, similarity };
      const decision = matcher.decide(candidate, policy, 'on');
      if (decision.kind === 'serve') {
        hits += 1;
        if (!correct) wrong += 1;
      } else if (decision.kind === 'check' || decision.kind === 'explore') {
        matcher.observe(candidate, policy, correct, decision.weight);
      }
    }
    results.push({ hits, wrongRate: hits === 0 ? 0 : wrong / hits });
  }
  for (const result of results) assert.ok(result.wrongRate <= bound, `wrong-hit rate ${result.wrongRate} over ${result.hits} hits`);
  const [weak, medium, strong] = results;
  assert.ok(weak && medium && strong);
  assert.equal(weak.hits, 0, 'a signal that never reaches the bound serves nothing');
  assert.ok(strong.hits > medium.hits && medium.hits > 0, `hits grow with signal quality: ${results.map((result) => result.hits).join(', ')}`);
});
