import { PICODOLLARS_PER_USD } from '../../core/money.ts';
import type { HourlyPoint, SeriesDimension } from '../../ledger/analytics.ts';
import { explainCause, type Cause, type UsageSnapshot } from './cause.ts';
import { median, seasonalBaseline, type Baseline } from './seasonal-baseline.ts';

export const HOUR_MS = 3_600_000;

/** What is judged: spikes and level shifts in volume, and per-request regressions. */
export type AnomalyKind = 'spike' | 'level_shift' | 'cost_per_request' | 'cache_hit_collapse';

export interface DetectorOptions {
  /** Robust z-score (residual / scale) a spike must reach. Default 4. */
  threshold: number;
  /** Lower bar held for `sustainHours` consecutive hours: a level shift. Default 3. */
  shiftThreshold: number;
  sustainHours: number;
  /** Observed / expected a volume alert needs at least (a noisy series can pass z on a small jump). Default 1.5. */
  minRatio: number;
  /** Ignore excesses smaller than this many dollars in an hour. Default 0.10. */
  minCostUsd: number;
  /** For unpriced series, judged on tokens: ignore excesses below this many tokens. Default 50,000. */
  minTokens: number;
  /** Requests an hour needs before per-request figures are judged. Default 10. */
  minRequests: number;
  /** Smallest cache hit rate drop (absolute, 0..1) called a collapse. Default 0.2. */
  minCacheDrop: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  threshold: 4,
  shiftThreshold: 3,
  sustainHours: 4,
  minRatio: 1.5,
  minCostUsd: 0.1,
  minTokens: 50_000,
  minRequests: 10,
  minCacheDrop: 0.2,
};

export interface SeriesId {
  dimension: SeriesDimension;
  /** null = calls without that attribution. */
  key: string | null;
}

export interface Finding {
  series: SeriesId;
  /** Start of the hour judged, epoch ms. */
  hour: number;
  kind: AnomalyKind;
  /** The metric the finding is about, and its expected and observed values in that hour. */
  metric: 'cost_usd' | 'tokens' | 'cost_per_request_usd' | 'cache_hit_rate';
  expected: number;
  observed: number;
  /** Robust z-score of the hour (how many scales above normal). */
  score: number;
  cause: Cause;
}

interface Dense {
  start: number;
  cost: Float64Array;
  tokens: Float64Array;
  requests: Float64Array;
  snapshots: Array<UsageSnapshot | undefined>;
}

function usd(picodollars: bigint): number {
  return Number(picodollars) / Number(PICODOLLARS_PER_USD);
}

/** Fills missing hours with zeros between the first point and `end` (exclusive). */
function densify(points: readonly HourlyPoint[], end: number): Dense {
  const start = points[0]?.hour ?? end;
  const length = Math.max(0, Math.round((end - start) / HOUR_MS));
  const dense: Dense = {
    start,
    cost: new Float64Array(length),
    tokens: new Float64Array(length),
    requests: new Float64Array(length),
    snapshots: new Array(length).fill(undefined),
  };
  for (const point of points) {
    const index = Math.round((point.hour - start) / HOUR_MS);
    if (index < 0 || index >= length) continue;
    dense.cost[index] = usd(point.cost);
    dense.tokens[index] = point.inputTokens + point.outputTokens;
    dense.requests[index] = point.requests;
    dense.snapshots[index] = {
      requests: point.requests,
      inputTokens: point.inputTokens,
      outputTokens: point.outputTokens,
      cacheReadTokens: point.cacheReadTokens,
      costUsd: usd(point.cost),
      pricedRequests: point.pricedRequests,
      model: point.topModel,
    };
  }
  return dense;
}

function volumeFloor(values: Float64Array): number {
  const positive = Array.from(values).filter((value) => value > 0);
  const typical = median(positive);
  return Number.isFinite(typical) ? typical * 0.05 : 1e-9;
}

/** A snapshot of what the baseline weeks looked like at the hour's season: the medians of the same hours. */
function typicalSnapshot(dense: Dense, index: number): UsageSnapshot | undefined {
  const lags = [1, 2, 3, 4].map((week) => index - week * 168).filter((lag) => lag >= 0);
  const days = [1, 2, 3, 4, 5, 6, 7].map((day) => index - day * 24).filter((lag) => lag >= 0);
  const picked = (lags.length >= 3 ? lags : days).map((lag) => dense.snapshots[lag]).filter((snapshot) => snapshot !== undefined);
  if (picked.length === 0) return undefined;
  const of = (field: keyof Omit<UsageSnapshot, 'model'>) => median(picked.map((snapshot) => snapshot[field]));
  const models = new Map<string | null, number>();
  for (const snapshot of picked) models.set(snapshot.model, (models.get(snapshot.model) ?? 0) + 1);
  const model = [...models.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  return {
    requests: of('requests'),
    inputTokens: of('inputTokens'),
    outputTokens: of('outputTokens'),
    cacheReadTokens: of('cacheReadTokens'),
    costUsd: of('costUsd'),
    pricedRequests: of('pricedRequests'),
    model,
  };
}

function zScore(baseline: Baseline, index: number): number {
  const residual = baseline.residual[index] as number;
  const scale = baseline.scale[index] as number;
  return Number.isFinite(residual) && Number.isFinite(scale) && scale > 0 ? residual / scale : Number.NaN;
}

/**
 * Judges one series' hours in [from, to): `points` are that series' hourly rows (any order), with
 * enough history before `from` for the baseline (three weeks or more is best; two days minimum).
 */
export function detectAnomalies(
  series: SeriesId,
  points: readonly HourlyPoint[],
  range: { from: number; to: number },
  options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
): Finding[] {
  const sorted = [...points].sort((a, b) => a.hour - b.hour);
  const dense = densify(sorted, range.to);
  const length = dense.cost.length;
  if (length === 0) return [];
  const priced = Array.from(dense.cost).some((value) => value > 0);
  const volume = priced ? dense.cost : dense.tokens;
  const minExcess = priced ? options.minCostUsd : options.minTokens;
  const volumeBaseline = seasonalBaseline(volume, { log: true, minScale: 0.1 }, volumeFloor(volume));

  const perRequest = Float64Array.from({ length }, (_, index) => {
    const snapshot = dense.snapshots[index];
    return snapshot && snapshot.pricedRequests >= options.minRequests ? snapshot.costUsd / snapshot.pricedRequests : Number.NaN;
  });
  const perRequestBaseline = priced ? seasonalBaseline(perRequest, { log: true, minScale: 0.05 }) : undefined;
  const hitRate = Float64Array.from({ length }, (_, index) => {
    const snapshot = dense.snapshots[index];
    return snapshot && snapshot.requests >= options.minRequests && snapshot.inputTokens > 0 ? snapshot.cacheReadTokens / snapshot.inputTokens : Number.NaN;
  });
  const hitRateBaseline = seasonalBaseline(hitRate, { log: false, minScale: 0.02 });

  const findings: Finding[] = [];
  const first = Math.max(0, Math.round((range.from - dense.start) / HOUR_MS));
  for (let index = first; index < length; index++) {
    const hour = dense.start + index * HOUR_MS;
    const observedSnapshot = dense.snapshots[index];
    const typical = typicalSnapshot(dense, index);
    const cause = (): Cause => explainCause(observedSnapshot, typical);
    const observed = volume[index] as number;
    const expected = volumeBaseline.expected[index] as number;
    const score = zScore(volumeBaseline, index);
    const metric = priced ? 'cost_usd' : 'tokens';
    const excess = observed - expected;

    if (score >= options.threshold && observed >= options.minRatio * expected && excess >= minExcess) {
      findings.push({ series, hour, kind: 'spike', metric, expected, observed, score, cause: cause() });
      continue;
    }
    if (index - options.sustainHours + 1 >= 0) {
      const window = Array.from({ length: options.sustainHours }, (_, back) => index - back);
      const scores = window.map((at) => zScore(volumeBaseline, at));
      const observedSum = window.reduce((sum, at) => sum + (volume[at] as number), 0);
      const expectedSum = window.reduce((sum, at) => sum + (volumeBaseline.expected[at] as number), 0);
      if (
        scores.every((value) => value >= options.shiftThreshold) &&
        observedSum >= 1.25 * expectedSum &&
        (observedSum - expectedSum) / options.sustainHours >= minExcess
      ) {
        findings.push({ series, hour, kind: 'level_shift', metric, expected, observed, score, cause: cause() });
        continue;
      }
    }
    if (perRequestBaseline) {
      const unitScore = zScore(perRequestBaseline, index);
      const unitObserved = perRequest[index] as number;
      const unitExpected = perRequestBaseline.expected[index] as number;
      const requests = observedSnapshot?.pricedRequests ?? 0;
      if (
        unitScore >= options.threshold &&
        unitObserved >= 1.3 * unitExpected &&
        (unitObserved - unitExpected) * requests >= minExcess
      ) {
        findings.push({ series, hour, kind: 'cost_per_request', metric: 'cost_per_request_usd', expected: unitExpected, observed: unitObserved, score: unitScore, cause: cause() });
        continue;
      }
    }
    const hitScore = zScore(hitRateBaseline, index);
    const hitObserved = hitRate[index] as number;
    const hitExpected = hitRateBaseline.expected[index] as number;
    if (hitScore <= -options.threshold && hitExpected - hitObserved >= options.minCacheDrop) {
      findings.push({ series, hour, kind: 'cache_hit_collapse', metric: 'cache_hit_rate', expected: hitExpected, observed: hitObserved, score: -hitScore, cause: cause() });
    }
  }
  return findings;
}
