import type { RoutingExample } from './routing-dataset.ts';
import type { Predictions } from './evaluate-router.ts';

/**
 * Many models with real costs: the router picks, per prompt, the model that maximises predicted
 * quality minus λ times estimated cost; sweeping λ traces its cost/quality curve. Single models are
 * points; the oracle does the same with the true outcomes and costs (an upper bound).
 */
export interface CostQualityPoint {
  /** Mean USD per prompt. */
  cost: number;
  /** Mean outcome score. */
  quality: number;
  /** Share of prompts per model, for router and oracle points. */
  mix?: Record<string, number>;
}

export interface VersusModel {
  model: string;
  cost: number;
  quality: number;
  /** The router's quality at this model's cost (interpolated on its frontier); null below its cheapest point. */
  routerQualityAtCost: number | null;
  /** The router's cost to reach this model's quality; null if it never does. */
  routerCostAtQuality: number | null;
  /** 1 − routerCostAtQuality / cost. */
  saving: number | null;
}

export interface MultiModelEvaluation {
  examples: number;
  models: Record<string, { cost: number; quality: number }>;
  router: CostQualityPoint[];
  oracle: CostQualityPoint[];
  versus: VersusModel[];
}

function lambdaGrid(costScale: number, steps = 60): number[] {
  const grid = [0];
  for (let step = 0; step <= steps; step += 1) grid.push((10 ** (-3 + (6 * step) / steps)) / costScale);
  grid.push(Number.POSITIVE_INFINITY);
  return grid;
}

function sweep(
  examples: readonly RoutingExample[],
  models: readonly string[],
  expected: (index: number, model: string) => number,
  estimatedCost: (index: number, model: string) => number,
  realCost: (index: number, model: string) => number,
  costScale: number,
): CostQualityPoint[] {
  const points: CostQualityPoint[] = [];
  for (const lambda of lambdaGrid(costScale)) {
    let cost = 0;
    let quality = 0;
    const counts: Record<string, number> = {};
    examples.forEach((example, index) => {
      let best = models[0] as string;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (const model of models) {
        // At λ = ∞ only cost matters; ties go to the better expected quality.
        const value = lambda === Number.POSITIVE_INFINITY ? -estimatedCost(index, model) * 1e12 + expected(index, model) * 1e-9 : expected(index, model) - lambda * estimatedCost(index, model);
        if (value > bestValue) {
          bestValue = value;
          best = model;
        }
      }
      cost += realCost(index, best);
      quality += example.outcomes[best] as number;
      counts[best] = (counts[best] ?? 0) + 1;
    });
    const n = examples.length;
    points.push({ cost: cost / n, quality: quality / n, mix: Object.fromEntries(Object.entries(counts).map(([model, count]) => [model, count / n])) });
  }
  return frontier(points);
}

/** The points no other point beats on both cost and quality, cheapest first. */
export function frontier(points: readonly CostQualityPoint[]): CostQualityPoint[] {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || b.quality - a.quality);
  const kept: CostQualityPoint[] = [];
  for (const point of sorted) {
    if (kept.length === 0 || point.quality > (kept.at(-1) as CostQualityPoint).quality + 1e-12) kept.push(point);
  }
  return kept;
}

/** Quality reachable at `cost` on a frontier (linear between points); null below its cheapest point. */
export function qualityAtCost(curve: readonly CostQualityPoint[], cost: number): number | null {
  const first = curve[0];
  if (!first || cost < first.cost - 1e-15) return null;
  for (let index = 1; index < curve.length; index += 1) {
    const a = curve[index - 1] as CostQualityPoint;
    const b = curve[index] as CostQualityPoint;
    if (cost <= b.cost) return a.quality + ((cost - a.cost) / (b.cost - a.cost || 1)) * (b.quality - a.quality);
  }
  return (curve.at(-1) as CostQualityPoint).quality;
}

/** Cost needed to reach `quality` on a frontier (linear between points); null if never reached. */
export function costAtQuality(curve: readonly CostQualityPoint[], quality: number): number | null {
  const first = curve[0];
  if (!first) return null;
  if (first.quality >= quality - 1e-12) return first.cost;
  for (let index = 1; index < curve.length; index += 1) {
    const a = curve[index - 1] as CostQualityPoint;
    const b = curve[index] as CostQualityPoint;
    if (b.quality >= quality - 1e-12) return a.cost + ((quality - a.quality) / (b.quality - a.quality || 1)) * (b.cost - a.cost);
  }
  return null;
}

export function evaluateMultiModel(options: {
  examples: readonly RoutingExample[];
  models: readonly string[];
  predictions: Predictions;
  /** What the router believes a call costs before making it (from training data). */
  estimatedCost: (index: number, model: string) => number;
  realCost: (example: RoutingExample, model: string) => number;
}): MultiModelEvaluation {
  const { examples, models, predictions } = options;
  const n = examples.length;
  const singles: Record<string, { cost: number; quality: number }> = {};
  for (const model of models) {
    singles[model] = {
      cost: examples.reduce((sum, example) => sum + options.realCost(example, model), 0) / n,
      quality: examples.reduce((sum, example) => sum + (example.outcomes[model] as number), 0) / n,
    };
  }
  const costScale = Math.max(...Object.values(singles).map((single) => single.cost), 1e-12);
  const realCost = (index: number, model: string) => options.realCost(examples[index] as RoutingExample, model);
  const router = sweep(examples, models, (index, model) => predictions[index]?.[model] ?? 0, options.estimatedCost, realCost, costScale);
  const oracle = sweep(examples, models, (index, model) => (examples[index] as RoutingExample).outcomes[model] as number, realCost, realCost, costScale);
  const versus = models.map((model) => {
    const single = singles[model] as { cost: number; quality: number };
    const routerCost = costAtQuality(router, single.quality);
    return {
      model,
      cost: single.cost,
      quality: single.quality,
      routerQualityAtCost: qualityAtCost(router, single.cost),
      routerCostAtQuality: routerCost,
      saving: routerCost === null || single.cost <= 0 ? null : 1 - routerCost / single.cost,
    };
  });
  return { examples: n, models: singles, router, oracle, versus };
}
