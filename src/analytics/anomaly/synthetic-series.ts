import type { HourlyPoint } from '../../ledger/analytics.ts';
import { HOUR_MS } from './detector.ts';

/**
 * Synthetic hourly usage for the anomaly benchmark and tests: daily and weekly cycles (with a
 * per-series time zone), growth, multiplicative noise, Poisson request counts, and injected
 * anomalies of known kind, size, start and end. Deterministic for a seed.
 */

export type InjectedKind = 'spike' | 'level_shift' | 'prompt_bloat' | 'cache_collapse' | 'model_change';

export interface InjectedAnomaly {
  seriesKey: string;
  kind: InjectedKind;
  /** Multiplier (requests for spikes and shifts, input tokens for bloat, price for a model change). */
  size: number;
  start: number;
  /** Exclusive. */
  end: number;
}

export interface SyntheticSeries {
  key: string;
  points: HourlyPoint[];
  anomalies: InjectedAnomaly[];
}

export interface SyntheticOptions {
  seed: number;
  series: number;
  weeks: number;
  /** First hour (epoch ms); default Monday 2026-06-01T00:00Z. */
  start?: number;
  /** Anomalies start no earlier than this many hours in (the detector needs history). */
  firstAnomalyHour: number;
  /** Fraction of series that get no anomaly at all. */
  cleanFraction?: number;
}

/** mulberry32: small, fast, good enough for simulation, and the same on every machine. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(next: () => number): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

function poisson(next: () => number, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(next)));
  const limit = Math.exp(-mean);
  let product = next();
  let count = 0;
  while (product > limit) {
    product *= next();
    count += 1;
  }
  return count;
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

const SIZES: Record<InjectedKind, readonly number[]> = {
  spike: [2, 3, 5, 10, 20],
  level_shift: [1.5, 2, 3],
  prompt_bloat: [2, 3, 5],
  cache_collapse: [1],
  model_change: [3, 5, 10],
};

export function generateSeries(options: SyntheticOptions): SyntheticSeries[] {
  const next = random(options.seed);
  const start = options.start ?? Date.UTC(2026, 5, 1);
  const hours = options.weeks * 168;
  const result: SyntheticSeries[] = [];
  for (let seriesIndex = 0; seriesIndex < options.series; seriesIndex++) {
    const key = `feature-${seriesIndex}`;
    const baseRequests = Math.exp(Math.log(15) + next() * Math.log(3000 / 15));
    const peakHour = 9 + next() * 10;
    const peakWidth = 3 + next() * 3;
    const trough = 0.15 + next() * 0.35;
    const weekend = 0.35 + next() * 0.5;
    const growth = Math.log(1 + next() * 1.5) / hours;
    const noise = 0.06 + next() * 0.14;
    const inputMean = Math.exp(Math.log(300) + next() * Math.log(8000 / 300));
    const outputMean = Math.exp(Math.log(80) + next() * Math.log(900 / 80));
    const hitRate = next() < 0.5 ? 0.4 + next() * 0.45 : next() * 0.2;
    const inputPrice = pick(next, [0.15, 0.4, 1, 2.5, 3]) / 1e6;
    const model = `model-${seriesIndex % 4}`;

    const anomalies: InjectedAnomaly[] = [];
    if (next() >= (options.cleanFraction ?? 0.2)) {
      const count = 1 + Math.floor(next() * 2);
      for (let made = 0; made < count; made++) {
        const kinds: InjectedKind[] = ['spike', 'spike', 'level_shift', 'prompt_bloat', 'model_change'];
        if (hitRate >= 0.4) kinds.push('cache_collapse');
        const kind = pick(next, kinds);
        const size = pick(next, SIZES[kind]);
        const duration = kind === 'spike' ? 1 + Math.floor(next() * 3) : 24 + Math.floor(next() * 48);
        const at = options.firstAnomalyHour + Math.floor(next() * (hours - options.firstAnomalyHour - duration));
        const anomaly = { seriesKey: key, kind, size, start: start + at * HOUR_MS, end: start + (at + duration) * HOUR_MS };
        // Keep anomalies apart (two days) so each is judged on its own.
        if (anomalies.some((other) => anomaly.start < other.end + 48 * HOUR_MS && other.start < anomaly.end + 48 * HOUR_MS)) continue;
        anomalies.push(anomaly);
      }
    }

    const points: HourlyPoint[] = [];
    for (let hour = 0; hour < hours; hour++) {
      const time = start + hour * HOUR_MS;
      const hourOfDay = (hour % 24) + 0.5;
      const distance = Math.min(Math.abs(hourOfDay - peakHour), 24 - Math.abs(hourOfDay - peakHour));
      const daily = trough + (1 - trough) * Math.exp(-(distance * distance) / (2 * peakWidth * peakWidth));
      const day = Math.floor(hour / 24) % 7;
      const weekly = day >= 5 ? weekend : 1;
      let requestRate = baseRequests * daily * weekly * Math.exp(growth * hour + noise * normal(next));
      let inputPerRequest = inputMean * Math.exp(0.08 * normal(next));
      const outputPerRequest = outputMean * Math.exp(0.1 * normal(next));
      let hit = Math.min(0.95, Math.max(0, hitRate + 0.04 * normal(next)));
      let price = inputPrice;
      let servedModel = model;
      for (const anomaly of anomalies) {
        if (time < anomaly.start || time >= anomaly.end) continue;
        if (anomaly.kind === 'spike' || anomaly.kind === 'level_shift') requestRate *= anomaly.size;
        if (anomaly.kind === 'prompt_bloat') inputPerRequest *= anomaly.size;
        if (anomaly.kind === 'cache_collapse') hit = Math.min(hit, 0.02);
        if (anomaly.kind === 'model_change') {
          price *= anomaly.size;
          servedModel = `${model}-large`;
        }
      }
      const requests = poisson(next, requestRate);
      if (requests === 0) continue;
      const inputTokens = Math.round(requests * inputPerRequest);
      const outputTokens = Math.round(requests * outputPerRequest);
      const cacheReadTokens = Math.round(inputTokens * hit);
      const costUsd = (inputTokens - cacheReadTokens) * price + cacheReadTokens * price * 0.1 + outputTokens * price * 4;
      points.push({
        key,
        hour: time,
        requests,
        inputTokens,
        outputTokens,
        cacheReadTokens,
        cacheWriteTokens: 0,
        cost: BigInt(Math.round(costUsd * 1e12)),
        pricedRequests: requests,
        topModel: servedModel,
        errors: 0,
      });
    }
    result.push({ key, points, anomalies });
  }
  return result;
}
