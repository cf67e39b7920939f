import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apgr, averageMetrics, cpt, curveMetrics, oracleCurve, quantile, savingAtQuality, singleModelMetrics, thresholdCurve, type PairOutcomes } from './routing-metrics.ts';

// Four prompts worked by hand: weak right on 1 and 4 (quality 0.5), strong right on 1, 2, 4 (0.75);
// weak calls cost $1, strong $10.
const pair: PairOutcomes = { weak: [1, 0, 0, 1], strong: [1, 1, 0, 1], weakCost: [1, 1, 1, 1], strongCost: [10, 10, 10, 10] };
const scores = [0.1, 0.9, 0.5, 0.3];

function close(actual: number | null, expected: number, message?: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${message ?? ''} expected ${expected}, got ${actual}`);
}

test('quantiles interpolate linearly like numpy/pandas', () => {
  close(quantile([1, 2, 3, 4], 0.5), 2.5);
  close(quantile([1, 2, 3, 4], 0.1), 1.3);
  close(quantile([1, 2, 3, 4], 1), 4);
});

test('threshold curve: quantile thresholds, ">=" except the last (">"), sorted by strong share', () => {
  // Thresholds at the 0, 50, 100% quantiles of the scores: 0.1, 0.4, 0.9.
  const curve = thresholdCurve(scores, pair, 2);
  assert.deepEqual(
    curve.map((point) => [point.strongShare, point.quality, point.cost]),
    [
      [0, 0.5, 1],
      [0.5, 0.75, 5.5],
      [1, 0.75, 10],
    ],
  );
});

test('APGR, CPT and the saving at 95% of strong quality on the hand-worked curve', () => {
  const curve = thresholdCurve(scores, pair, 2);
  // Area 0.5·(0.5+0.75)/2 + 0.5·0.75 = 0.6875; weak area 0.5, strong 0.75: (0.6875 − 0.5) / 0.25.
  close(apgr(curve, 0.5, 0.75), 0.75);
  // 50% of the gap: quality 0.625, halfway up the first segment; 80%: 0.7 at 0.8 of it.
  close(cpt(curve, 0.5, 0.75, 0.5), 0.25);
  close(cpt(curve, 0.5, 0.75, 0.8), 0.4);
  // 95% of 0.75 = 0.7125 at 0.85 of the first segment: cost 1 + 0.85·4.5 = 4.825 of 10.
  close(savingAtQuality(curve, 0.75, 10), 1 - 4.825 / 10);
  const metrics = curveMetrics(curve, pair);
  close(metrics.apgr, 0.75);
  close(metrics.cpt50, 0.25);
  close(metrics.cpt80, 0.4);
  close(metrics.saving_at_95, 0.5175);
});

test('a quality never reached gives null, not a made-up number', () => {
  const flat = [
    { strongShare: 0, quality: 0.5, cost: 1 },
    { strongShare: 1, quality: 0.6, cost: 10 },
  ];
  assert.equal(cpt(flat, 0.5, 0.75, 0.5), null);
  assert.equal(savingAtQuality(flat, 0.75, 10), null);
});

test('oracle: the budget goes to prompts the strong model gains on, never beyond them', () => {
  const curve = oracleCurve(pair, 4);
  assert.deepEqual(
    curve.map((point) => [point.strongShare, point.quality]),
    [
      [0, 0.5],
      [0.25, 0.75],
      [0.5, 0.75],
      [0.75, 0.75],
      [1, 0.75],
    ],
  );
  // Only one strong call is ever made, so the cost stays at 3·1 + 10 over 4 prompts.
  close(curve.at(-1)?.cost ?? null, 13 / 4);
  // Area: 0.25·(0.5+0.75)/2 + 0.75·0.75 = 0.71875 → (0.71875 − 0.5)/0.25.
  close(apgr(curve, 0.5, 0.75), 0.875);
});

test('single models and the average over random seeds', () => {
  assert.deepEqual(singleModelMetrics(pair, 'strong'), { apgr: 1, cpt50: 1, cpt80: 1, saving_at_95: 0 });
  assert.deepEqual(singleModelMetrics(pair, 'weak'), { apgr: 0, cpt50: null, cpt80: null, saving_at_95: null });
  const nearlyAsGood: PairOutcomes = { weak: [1, 1, 1, 0], strong: [1, 1, 1, 1], weakCost: [1, 1, 1, 1], strongCost: [4, 4, 4, 4] };
  // 0.75 is below 95% of 1.0: not reached. With strong at 0.78 it would be.
  assert.equal(singleModelMetrics(nearlyAsGood, 'weak').saving_at_95, null);
  const averaged = averageMetrics([
    { apgr: 0.4, cpt50: 0.5, cpt80: null, saving_at_95: 0.2 },
    { apgr: 0.6, cpt50: 0.7, cpt80: null, saving_at_95: null },
  ]);
  close(averaged.apgr, 0.5);
  close(averaged.cpt50, 0.6);
  assert.equal(averaged.cpt80, null);
  close(averaged.saving_at_95, 0.2);
});
