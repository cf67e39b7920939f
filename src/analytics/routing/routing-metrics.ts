/**
 * Router quality/cost metrics, defined as RouteLLM defines them (Ong et al., arXiv 2406.18665, and
 * its routellm/evals/evaluate.py):
 * - A router gives each prompt a score; a threshold sends prompts scoring at or above it to the
 *   strong model. Thresholds are the 0, 10, ..., 100% quantiles of the scores (11 points; the top one
 *   uses "above", so it sends nothing to the strong model).
 * - PGR(curve point) = (quality − weak quality) / (strong quality − weak quality).
 * - APGR = area under quality over strong-call share (trapezoids), with the weak model's area
 *   taken off and divided by the gap's area over the same share range.
 * - CPT(x%) = the strong-call share at which the curve, linearly interpolated, first recovers x%
 *   of the gap (RouteLLM interpolates the same way; on a monotone curve the two agree).
 * Added here: the cost saving versus strong-only at 95% of the strong model's quality, read off the
 * same interpolation on cost.
 */

export interface CurvePoint {
  /** Fraction of prompts sent to the strong model, 0..1. */
  strongShare: number;
  /** Mean outcome score, 0..1. */
  quality: number;
  /** Mean USD per prompt. */
  cost: number;
}

export interface PairOutcomes {
  weak: ArrayLike<number>;
  strong: ArrayLike<number>;
  weakCost: ArrayLike<number>;
  strongCost: ArrayLike<number>;
}

export interface RouterMetrics {
  apgr: number | null;
  /** Fractions of calls (0..1); null when never reached. */
  cpt50: number | null;
  cpt80: number | null;
  /** 1 − cost/strong-only cost at 95% of the strong model's quality; null when not reached. */
  saving_at_95: number | null;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < values.length; index += 1) sum += values[index] as number;
  return values.length === 0 ? 0 : sum / values.length;
}

export function pairSummary(pair: PairOutcomes): { weakQuality: number; strongQuality: number; weakCost: number; strongCost: number } {
  return { weakQuality: mean(pair.weak), strongQuality: mean(pair.strong), weakCost: mean(pair.weakCost), strongCost: mean(pair.strongCost) };
}

/** numpy/pandas "linear" quantile of sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below] as number;
  return low + (position - below) * ((sorted[above] as number) - low);
}

/** One curve point: prompts selected by `selected` go to the strong model. */
function pointFor(pair: PairOutcomes, selected: (index: number) => boolean): CurvePoint {
  const n = pair.weak.length;
  let strongCalls = 0;
  let quality = 0;
  let cost = 0;
  for (let index = 0; index < n; index += 1) {
    if (selected(index)) {
      strongCalls += 1;
      quality += pair.strong[index] as number;
      cost += pair.strongCost[index] as number;
    } else {
      quality += pair.weak[index] as number;
      cost += pair.weakCost[index] as number;
    }
  }
  return { strongShare: strongCalls / n, quality: quality / n, cost: cost / n };
}

/** RouteLLM's threshold sweep: quantile thresholds over the router's scores (higher = strong). */
export function thresholdCurve(scores: ArrayLike<number>, pair: PairOutcomes, bins = 10): CurvePoint[] {
  const sorted = Float64Array.from(scores).sort();
  const points: CurvePoint[] = [];
  for (let step = 0; step <= bins; step += 1) {
    const threshold = quantile(sorted, step / bins);
    const last = step === bins;
    points.push(pointFor(pair, (index) => (last ? (scores[index] as number) > threshold : (scores[index] as number) >= threshold)));
  }
  return points.sort((a, b) => a.strongShare - b.strongShare);
}

/**
 * The oracle at each strong-call budget (0, 10, ..., 100%): the budget goes to the prompts where
 * the strong model gains most over the weak one, and never to a prompt where it gains nothing.
 * As in RouteLLM, the x-axis is the budget; the cost is that of the calls actually made.
 */
export function oracleCurve(pair: PairOutcomes, bins = 10): CurvePoint[] {
  const n = pair.weak.length;
  const gains = Array.from({ length: n }, (_, index) => ({ index, gain: (pair.strong[index] as number) - (pair.weak[index] as number) }))
    .filter((item) => item.gain > 0)
    .sort((a, b) => b.gain - a.gain);
  const points: CurvePoint[] = [];
  for (let step = 0; step <= bins; step += 1) {
    const budget = step / bins;
    const chosen = new Set(gains.slice(0, Math.min(Math.round(budget * n), gains.length)).map((item) => item.index));
    const point = pointFor(pair, (index) => chosen.has(index));
    points.push({ ...point, strongShare: budget });
  }
  return points;
}

function trapezoid(points: readonly CurvePoint[], value: (point: CurvePoint) => number): number {
  let area = 0;
  for (let index = 1; index < points.length; index += 1) {
    const a = points[index - 1] as CurvePoint;
    const b = points[index] as CurvePoint;
    area += ((value(a) + value(b)) / 2) * (b.strongShare - a.strongShare);
  }
  return area;
}

export function apgr(points: readonly CurvePoint[], weakQuality: number, strongQuality: number): number | null {
  if (points.length < 2 || strongQuality === weakQuality) return null;
  const span = (points.at(-1) as CurvePoint).strongShare - (points[0] as CurvePoint).strongShare;
  if (span <= 0) return null;
  const area = trapezoid(points, (point) => point.quality);
  return (area - weakQuality * span) / ((strongQuality - weakQuality) * span);
}

/** First point along the curve (by strong share) where quality reaches `target`, interpolated. */
export function firstCrossing(points: readonly CurvePoint[], target: number): { share: number; cost: number } | null {
  const first = points[0];
  if (!first) return null;
  // Float sums of identical scores can differ in the last bit; a crossing that close counts.
  const epsilon = 1e-12;
  if (first.quality >= target - epsilon) return { share: first.strongShare, cost: first.cost };
  for (let index = 1; index < points.length; index += 1) {
    const a = points[index - 1] as CurvePoint;
    const b = points[index] as CurvePoint;
    if (a.quality < target - epsilon && b.quality >= target - epsilon) {
      const fraction = b.quality === a.quality ? 1 : Math.min(1, Math.max(0, (target - a.quality) / (b.quality - a.quality)));
      return { share: a.strongShare + fraction * (b.strongShare - a.strongShare), cost: a.cost + fraction * (b.cost - a.cost) };
    }
  }
  return null;
}

export function cpt(points: readonly CurvePoint[], weakQuality: number, strongQuality: number, recovered: number): number | null {
  if (strongQuality <= weakQuality) return null;
  return firstCrossing(points, weakQuality + recovered * (strongQuality - weakQuality))?.share ?? null;
}

export function savingAtQuality(points: readonly CurvePoint[], strongQuality: number, strongOnlyCost: number, fractionOfStrong = 0.95): number | null {
  if (strongOnlyCost <= 0) return null;
  const crossing = firstCrossing(points, fractionOfStrong * strongQuality);
  return crossing ? 1 - crossing.cost / strongOnlyCost : null;
}

export function curveMetrics(points: readonly CurvePoint[], pair: PairOutcomes): RouterMetrics {
  const summary = pairSummary(pair);
  return {
    apgr: apgr(points, summary.weakQuality, summary.strongQuality),
    cpt50: cpt(points, summary.weakQuality, summary.strongQuality, 0.5),
    cpt80: cpt(points, summary.weakQuality, summary.strongQuality, 0.8),
    saving_at_95: savingAtQuality(points, summary.strongQuality, summary.strongCost),
  };
}

/**
 * Single-model "routers": always weak is a flat line at the weak quality (APGR 0, never recovers
 * any of the gap); always strong recovers all of it at 100% strong calls and saves nothing.
 */
export function singleModelMetrics(pair: PairOutcomes, which: 'weak' | 'strong'): RouterMetrics {
  const summary = pairSummary(pair);
  if (which === 'strong') return { apgr: 1, cpt50: 1, cpt80: 1, saving_at_95: 0 };
  const reaches = summary.weakQuality >= 0.95 * summary.strongQuality;
  return {
    apgr: 0,
    cpt50: summary.strongQuality <= summary.weakQuality ? 0 : null,
    cpt80: summary.strongQuality <= summary.weakQuality ? 0 : null,
    saving_at_95: reaches && summary.strongCost > 0 ? 1 - summary.weakCost / summary.strongCost : null,
  };
}

/** Averages metrics over runs (random seeds); a metric some runs never reach is averaged over those that do, null if none. */
export function averageMetrics(runs: readonly RouterMetrics[]): RouterMetrics {
  const average = (key: keyof RouterMetrics): number | null => {
    const values = runs.map((run) => run[key]).filter((value): value is number => value !== null);
    return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
  };
  return { apgr: average('apgr'), cpt50: average('cpt50'), cpt80: average('cpt80'), saving_at_95: average('saving_at_95') };
}
