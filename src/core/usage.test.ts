import assert from 'node:assert/strict';
import { test } from 'node:test';
import { additiveInputUsage, splitCacheWrites } from './usage.ts';

test('cache writes: no breakdown means all 5-minute; unaccounted writes go to 5 minutes', () => {
  assert.deepEqual(splitCacheWrites(500, undefined, undefined), { cacheWrite5m: 500, cacheWrite1h: undefined });
  assert.deepEqual(splitCacheWrites(500, 100, 300), { cacheWrite5m: 200, cacheWrite1h: 300 });
  assert.deepEqual(splitCacheWrites(500, undefined, 500), { cacheWrite5m: 0, cacheWrite1h: 500 });
});

test('additive input: the total adds reads and writes to the uncached count; unreported stays absent', () => {
  assert.deepEqual(additiveInputUsage({ noCache: 21, cacheRead: 0, cacheWrite5m: 188_086, cacheWrite1h: undefined }), {
    total: 188_107,
    noCache: 21,
    cacheRead: 0,
    cacheWrite5m: 188_086,
  });
  assert.deepEqual(additiveInputUsage({ noCache: undefined, cacheRead: 5, cacheWrite5m: undefined, cacheWrite1h: undefined }), { cacheRead: 5 });
});
