/**
 * A robust seasonal baseline for one hourly metric, using only the past at every hour.
 *
 * In log space (volumes are multiplicative: growth, daily and weekly cycles) each value is
 * trend + season + residual:
 * - trend: the median of the trailing week (recomputed once a day), which follows growth and
 *   ignores a few hours of spikes;
 * - season: with three weeks of history, the median of the same hour of week over the last four
 *   weeks (weekly cycle included); before that, the same hour over the last seven days;
 * - scale: 1.4826 x the median absolute deviation of the last two weeks' residuals, so a noisy
 *   series needs a bigger jump to alert than a smooth one.
 * Medians, not means, so one past incident does not bend the baseline for the next weeks.
 */

export const HOURS_PER_DAY = 24;
export const HOURS_PER_WEEK = 168;

export interface BaselineOptions {
  /** Log space for volumes (multiplicative seasonality); linear for rates such as a cache hit rate. */
  log: boolean;
  /** Smallest robust scale, in the metric's space: stops a perfectly regular series alerting on noise. */
  minScale: number;
  /** Hours of history needed before any expectation is given. Default 48. */
  warmupHours?: number;
}

export interface Baseline {
  /** Expected value in the metric's own units (NaN where unknown). */
  expected: Float64Array;
  /** Observed minus expected in the model space (log or linear), NaN where unknown. */
  residual: Float64Array;
  /** Robust scale of residuals at that hour, in the same space. */
  scale: Float64Array;
}

export function median(values: readonly number[]): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const count = finite.length;
  if (count === 0) return Number.NaN;
  const middle = count >> 1;
  return count % 2 === 1 ? (finite[middle] as number) : ((finite[middle - 1] as number) + (finite[middle] as number)) / 2;
}

/** Median absolute deviation scaled to a normal distribution's standard deviation. */
export function robustScale(values: readonly number[]): number {
  const center = median(values);
  if (!Number.isFinite(center)) return Number.NaN;
  return 1.4826 * median(values.map((value) => Math.abs(value - center)));
}

/**
 * `values` are hourly, consecutive (missing hours already filled, NaN = not measurable that hour,
 * e.g. a per-request cost in an hour without requests). `floor` keeps log(0) finite for volumes.
 */
export function seasonalBaseline(values: ArrayLike<number>, options: BaselineOptions, floor = 0): Baseline {
  const count = values.length;
  const warmup = options.warmupHours ?? 48;
  const transform = options.log ? (value: number) => Math.log(value + floor) : (value: number) => value;
  const inverse = options.log ? (value: number) => Math.exp(value) - floor : (value: number) => value;
  const x = Float64Array.from({ length: count }, (_, index) => {
    const value = values[index] as number;
    return Number.isFinite(value) ? transform(value) : Number.NaN;
  });

  // Trend: piecewise constant per day, from the trailing week (or all history in the first week).
  const trend = new Float64Array(count).fill(Number.NaN);
  for (let day = 0; day * HOURS_PER_DAY < count; day++) {
    const start = day * HOURS_PER_DAY;
    if (start < warmup) continue;
    const window = Array.from(x.subarray(Math.max(0, start - HOURS_PER_WEEK), start));
    const level = median(window);
    trend.fill(level, start, Math.min(count, start + HOURS_PER_DAY));
  }
  const detrended = Float64Array.from(x, (value, index) => value - (trend[index] as number));

  const expected = new Float64Array(count).fill(Number.NaN);
  const residual = new Float64Array(count).fill(Number.NaN);
  const season = new Float64Array(count).fill(Number.NaN);
  for (let index = warmup; index < count; index++) {
    const weeks = Math.floor(index / HOURS_PER_WEEK);
    const lags: number[] = [];
    if (weeks >= 3) for (let week = 1; week <= Math.min(4, weeks); week++) lags.push(week * HOURS_PER_WEEK);
    else for (let day = 1; day <= Math.min(7, Math.floor(index / HOURS_PER_DAY)); day++) lags.push(day * HOURS_PER_DAY);
    const seasonal = median(lags.map((lag) => detrended[index - lag] as number));
    season[index] = Number.isFinite(seasonal) ? seasonal : 0;
    const fitted = (trend[index] as number) + (season[index] as number);
    expected[index] = inverse(fitted);
    residual[index] = (x[index] as number) - fitted;
  }

  // Scale: once a day, from the residuals of the two weeks before that day.
  const scale = new Float64Array(count).fill(Number.NaN);
  for (let day = 0; day * HOURS_PER_DAY < count; day++) {
    const start = day * HOURS_PER_DAY;
    if (start < warmup) continue;
    const window = Array.from(residual.subarray(Math.max(warmup, start - 2 * HOURS_PER_WEEK), start));
    const spread = window.filter(Number.isFinite).length >= 12 ? robustScale(window) : Number.NaN;
    const value = Number.isFinite(spread) ? Math.max(spread, options.minScale) : Number.NaN;
    scale.fill(value, start, Math.min(count, start + HOURS_PER_DAY));
  }
  // Within the first day after warm-up there is no scale yet: nothing is judged there.
  return { expected, residual, scale };
}
