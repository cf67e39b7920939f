import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelayMs, retryAfterMs, retryWait } from './backoff.ts';

const CONFIG = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };

test('full jitter: a uniform draw under a ceiling that doubles per retry up to the maximum', () => {
  assert.equal(backoffDelayMs(1, CONFIG, () => 0.999), 99);
  assert.equal(backoffDelayMs(2, CONFIG, () => 0.5), 100);
  assert.equal(backoffDelayMs(3, CONFIG, () => 0.5), 200);
  assert.equal(backoffDelayMs(10, CONFIG, () => 0.5), 500, 'capped at maxDelayMs');
  assert.equal(backoffDelayMs(4, CONFIG, () => 0), 0, 'the draw can be zero');
});

test('retry-after-ms wins over retry-after; seconds and HTTP dates are read; junk is ignored', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '3' }, now), 250);
  assert.equal(retryAfterMs({ 'retry-after': '3' }, now), 3_000);
  assert.equal(retryAfterMs({ 'retry-after': '0.5' }, now), 500);
  assert.equal(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }, now), 7_000);
  assert.equal(retryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }, now), 0, 'a past date means now');
  assert.equal(retryAfterMs({ 'retry-after': 'soon' }, now), undefined);
  assert.equal(retryAfterMs({ 'retry-after-ms': 'x', 'retry-after': '2' }, now), 2_000);
  assert.equal(retryAfterMs({}, now), undefined);
});

test('a server-sent wait is honoured up to the cap; a longer one ends the retries', () => {
  assert.deepEqual(retryWait(1, { 'retry-after': '2' }, CONFIG, 0, () => 0.5), { retry: true, delayMs: 2_000 });
  assert.deepEqual(retryWait(1, { 'retry-after': '6' }, CONFIG, 0, () => 0.5), { retry: false, reason: 'retry_after_too_long' });
  assert.deepEqual(retryWait(2, {}, CONFIG, 0, () => 0.5), { retry: true, delayMs: 100 });
});
