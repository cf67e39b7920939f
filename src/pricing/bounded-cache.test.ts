import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedCache } from './bounded-cache.ts';

describe('BoundedCache', () => {
  it('evicts the least recently used entry past its capacity', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1); // a is now the most recent
    cache.set('c', 3);
    assert.equal(cache.size, 2);
    assert.equal(cache.has('b'), false);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.get('c'), 3);
  });

  it('stores null values distinctly from absence', () => {
    const cache = new BoundedCache<string, number | null>(1);
    cache.set('x', null);
    assert.equal(cache.get('x'), null);
    assert.equal(cache.get('y'), undefined);
  });

  it('rejects a capacity below 1', () => {
    assert.throws(() => new BoundedCache(0), RangeError);
  });
});
