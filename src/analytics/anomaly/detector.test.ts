import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HourlyPoint } from '../../ledger/analytics.ts';
import { AlertGate } from './alert-gate.ts';
import { detectAnomalies, HOUR_MS } from './detector.ts';
import { generateSeries } from './synthetic-series.ts';

const START = Date.UTC(2026, 5, 1);

/** A steady series with a daily cycle: `requests` an hour at peak, 1,000 input and 100 output tokens each. */
function steady(hours: number, edit: (point: HourlyPoint, hour: number) => void = () => {}): HourlyPoint[] {
  return Array.from({ length: hours }, (_, hour) => {
    const requests = Math.round(200 * (0.5 + 0.5 * Math.sin((2 * Math.PI * (hour % 24)) / 24)) + 50 + ((hour * 7919) % 13));
    const point: HourlyPoint = {
      key: 'chat',
      hour: START + hour * HOUR_MS,
      requests,
      inputTokens: requests * 1000,
      outputTokens: requests * 100,
      cacheReadTokens: requests * 600,
      cacheWriteTokens: 0,
      cost: BigInt(requests) * 4_000_000_000n,
      pricedRequests: requests,
      topModel: 'gpt-4o-mini',
      errors: 0,
    };
    edit(point, hour);
    return point;
  });
}

const series = { dimension: 'feature', key: 'chat' } as const;
const range = (from: number, to: number) => ({ from: START + from * HOUR_MS, to: START + to * HOUR_MS });

test('a quiet series raises nothing; a 10x request spike is found in its first hour with requests named as the cause', () => {
  assert.deepEqual(detectAnomalies(series, steady(24 * 28), range(24 * 21, 24 * 28)), []);
  const spikeAt = 24 * 25 + 14;
  const points = steady(24 * 28, (point, hour) => {
    if (hour !== spikeAt) return;
    point.requests *= 10;
    point.pricedRequests *= 10;
    point.inputTokens *= 10;
    point.outputTokens *= 10;
    point.cacheReadTokens *= 10;
    point.cost *= 10n;
  });
  const findings = detectAnomalies(series, points, range(24 * 21, 24 * 28));
  assert.equal(findings[0]?.hour, START + spikeAt * HOUR_MS);
  assert.equal(findings[0]?.kind, 'spike');
  assert.equal(findings[0]?.cause.factor, 'requests');
  assert.ok((findings[0]?.observed ?? 0) > 8 * (findings[0]?.expected ?? 0));
});

test('prompt bloat and a cache-hit collapse are told apart by the usage field that moved', () => {
  const from = 24 * 25;
  const bloated = steady(24 * 28, (point, hour) => {
    if (hour < from) return;
    point.inputTokens *= 4;
    point.cacheReadTokens *= 4;
    point.cost = (point.cost * 7n) / 2n;
  });
  const bloat = detectAnomalies(series, bloated, range(24 * 21, 24 * 28))[0];
  assert.equal(bloat?.cause.factor, 'input_per_request');
  assert.match(bloat?.cause.summary ?? '', /prompt bloat/);

  const collapsed = steady(24 * 28, (point, hour) => {
    if (hour < from) return;
    point.cacheReadTokens = 0;
    point.cost = (point.cost * 5n) / 2n;
  });
  const collapse = detectAnomalies(series, collapsed, range(24 * 21, 24 * 28))[0];
  assert.equal(collapse?.cause.factor, 'cache_hit_rate');
  assert.match(collapse?.cause.summary ?? '', /60% -> 0%/);
});

test('the alert gate sends one alert per incident, and again only after the cooldown or when it gets twice as bad', () => {
  const gate = new AlertGate({ cooldownMs: 6 * HOUR_MS });
  const finding = (hour: number, observed: number) => ({
    series,
    hour: START + hour * HOUR_MS,
    kind: 'spike' as const,
    metric: 'cost_usd' as const,
    expected: 1,
    observed,
    score: 10,
    cause: { factor: 'requests' as const, summary: '', factors: {} },
  });
  assert.equal(gate.admit(finding(0, 5)), true);
  assert.equal(gate.admit(finding(0, 5)), false, 'the same hour twice');
  assert.equal(gate.admit(finding(1, 6)), false, 'cooling down');
  assert.equal(gate.admit(finding(2, 12)), true, 'twice as bad');
  assert.equal(gate.admit(finding(9, 5)), true, 'cooldown over');
  const restored = new AlertGate({ cooldownMs: 6 * HOUR_MS }, gate.snapshot(START + 9 * HOUR_MS));
  assert.equal(restored.admit(finding(10, 5)), false, 'state survives a restart');
});

test('on synthetic data the detector finds most 5x+ spikes within two hours with few false alerts', () => {
  const all = generateSeries({ seed: 99, series: 12, weeks: 6, firstAnomalyHour: 24 * 14 });
  let alerts = 0;
  let truePositives = 0;
  for (const one of all) {
    const start = one.points[0]?.hour ?? START;
    const findings = detectAnomalies({ dimension: 'feature', key: one.key }, one.points, { from: start + 24 * 14 * HOUR_MS, to: start + 24 * 42 * HOUR_MS });
    const gate = new AlertGate({ cooldownMs: 6 * HOUR_MS });
    for (const finding of findings.filter((candidate) => gate.admit(candidate))) {
      alerts += 1;
      if (one.anomalies.some((anomaly) => finding.hour >= anomaly.start && finding.hour < anomaly.end + 2 * HOUR_MS)) truePositives += 1;
    }
  }
  assert.ok(alerts > 0);
  assert.ok(truePositives / alerts >= 0.8, `precision ${truePositives}/${alerts}`);
});
