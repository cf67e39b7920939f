import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BoundedMap } from './bounded-map.ts';
import { embeddingVector, planOutput, replyPieces } from './reply.ts';
import { RefusalMemory, readScenario } from './scenarios.ts';
import { countTokens, tokenize } from './tokens.ts';

describe('replies', () => {
  test('a reply of N pieces tokenizes to exactly N tokens', () => {
    for (const [seed, length] of [[1, 1], [2, 7], [3, 24], [4, 200], [99, 1000]] as const) {
      const pieces = replyPieces(seed, length);
      assert.equal(pieces.length, length);
      assert.equal(countTokens(pieces.join('')), length, `seed ${seed}, ${length} tokens`);
    }
  });

  test('replies are deterministic per seed and differ between seeds', () => {
    assert.deepEqual(replyPieces(42, 30), replyPieces(42, 30));
    assert.notDeepEqual(replyPieces(42, 30), replyPieces(43, 30));
  });

  test('the output cap takes reasoning first, then truncates the visible reply', () => {
    const plan = planOutput({ seed: 1, wantedTokens: 24, reasoningTokens: 32, maxTokens: 40 });
    assert.deepEqual([plan.reasoningTokens, plan.visibleTokens, plan.outputTokens, plan.truncated], [32, 8, 40, true]);
    const roomy = planOutput({ seed: 1, wantedTokens: 24, maxTokens: 24 });
    assert.deepEqual([roomy.visibleTokens, roomy.truncated], [24, false]);
  });

  test('a looping reply repeats its first block until the length or the cap ends it, one token per piece', () => {
    const plan = planOutput({ seed: 3, wantedTokens: 200, loopTokens: 12, maxTokens: 100 });
    assert.deepEqual([plan.visibleTokens, plan.truncated], [100, true]);
    assert.equal(countTokens(plan.text), 100);
    const block = plan.pieces.slice(12, 24).join('');
    assert.equal(plan.pieces.slice(24, 36).join(''), block);
    assert.ok(plan.text.endsWith(plan.pieces.slice(88, 100).join('')));
    assert.notEqual(planOutput({ seed: 3, wantedTokens: 100 }).text, plan.text);
  });

  test('embedding vectors are unit length, deterministic, and shorter ones are prefixes before renormalizing', () => {
    const full = embeddingVector('hello', 1536);
    const norm = Math.sqrt(full.reduce((sum, value) => sum + value * value, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5);
    assert.deepEqual(embeddingVector('hello', 1536), full);
    const raw = embeddingVector('hello', 8, false);
    const rawFull = embeddingVector('hello', 1536, false);
    assert.deepEqual(Array.from(raw), Array.from(rawFull.subarray(0, 8)));
  });

  test('special-token text is counted as plain text and token ids are cached', () => {
    assert.ok(countTokens('before <|endoftext|> after') > 3);
    assert.equal(tokenize('cached text'), tokenize('cached text'));
  });
});

describe('scenario names', () => {
  test('model ids and headers select scenarios, longest names first', () => {
    assert.equal(readScenario(['gpt-4o-emu-429-then-ok']).failure, undefined);
    assert.equal(readScenario(['gpt-4o-emu-429-then-ok']).rateLimitEveryOtherCall, true);
    assert.equal(readScenario(['claude-emu-429']).failure, 'rate_limited');
    assert.equal(readScenario(['m', 'emu-500']).failure, 'server');
    assert.equal(readScenario(['emu-529']).failure, 'overloaded');
    const combined = readScenario(['model-emu-latency-250', 'emu-slow-stream, emu-broken-stream']);
    assert.deepEqual(
      [combined.latencyMs, combined.slowStream, combined.brokenStream],
      [250, true, true],
    );
    assert.equal(readScenario(['gpt-4o', undefined]).failure, undefined);
  });

  test('emu-429-then-ok refuses every other identical call', () => {
    const memory = new RefusalMemory();
    assert.deepEqual(
      [memory.shouldRefuse('a'), memory.shouldRefuse('a'), memory.shouldRefuse('b'), memory.shouldRefuse('a')],
      [true, false, true, true],
    );
  });
});

describe('BoundedMap', () => {
  test('evicts least recently used entries by count and by weight', () => {
    const byCount = new BoundedMap<string, number>({ maxEntries: 2 });
    byCount.set('a', 1);
    byCount.set('b', 2);
    byCount.get('a');
    byCount.set('c', 3);
    assert.deepEqual([byCount.get('a'), byCount.get('b'), byCount.get('c')], [1, undefined, 3]);

    const byWeight = new BoundedMap<string, number>({ maxEntries: 10, maxWeight: 5, weigh: (_, value) => value });
    byWeight.set('a', 3);
    byWeight.set('b', 3);
    assert.deepEqual([byWeight.get('a'), byWeight.get('b'), byWeight.size], [undefined, 3, 1]);
  });
});
