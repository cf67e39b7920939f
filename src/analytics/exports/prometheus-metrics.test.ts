import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usageEvent } from '../../ledger/testing/usage-event-fixtures.ts';
import { PrometheusMetrics } from './prometheus-metrics.ts';

test('counters, exact USD cost and latency histograms, with feature labels capped into "other"', () => {
  const metrics = new PrometheusMetrics({ maxFeatureLabels: 2, maxModelLabels: 10 });
  for (const feature of ['a', 'b', 'c', 'd', 'a']) {
    metrics.observe(usageEvent({ attribution: { feature, tags: {} }, cost: 1_500_000_000_001n, latencyMs: 300, usage: { input: { total: 100, cacheRead: 40 }, output: { total: 10 } } }));
  }
  metrics.observe(usageEvent({ attribution: { feature: 'a', tags: {} }, cost: undefined }));
  const text = metrics.render();
  assert.match(text, /costgate_requests_total\{provider="openai",model="gpt-4o-mini-2024-07-18",feature="a",status="2xx"\} 3/);
  assert.match(text, /costgate_requests_total\{[^}]*feature="other"[^}]*\} 2/);
  assert.doesNotMatch(text, /feature="c"/);
  assert.match(text, /costgate_cost_usd_total\{[^}]*feature="a"\} 3\.000000000002/);
  assert.match(text, /costgate_unpriced_requests_total\{provider="openai",model="gpt-4o-mini-2024-07-18"\} 1/);
  assert.match(text, /costgate_cache_hits_total\{[^}]*cache="prompt"\} 2/);
  assert.match(text, /costgate_request_duration_seconds_bucket\{provider="openai",model="gpt-4o-mini-2024-07-18",le="0.25"\} 1/, "one call at 120 ms");
  assert.match(text, /costgate_request_duration_seconds_bucket\{provider="openai",model="gpt-4o-mini-2024-07-18",le="0.5"\} 6/);
  assert.match(text, /# TYPE costgate_request_duration_seconds histogram/);
});
