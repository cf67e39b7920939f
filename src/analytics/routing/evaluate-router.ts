import { assignFolds, createRandom, loadRouterModel, trainRouterModel, type RouterModel, type TrainOptions } from '../../pipeline/router/model/router-model.ts';
import type { RoutingExample } from './routing-dataset.ts';
import {
  averageMetrics,
  curveMetrics,
  firstCrossing,
  oracleCurve,
  pairSummary,
  singleModelMetrics,
  thresholdCurve,
  type CurvePoint,
  type PairOutcomes,
  type RouterMetrics,
} from './routing-metrics.ts';

export type Predictions = Array<Record<string, number>>;

/**
 * How a two-model router ranks prompts for the strong model: 1 − P(weak answers well) / P(strong
 * answers well). The gateway's classifier sends a call to the weak tier when that ratio reaches the
 * feature's quality target, so sweeping thresholds over this score replays exactly the decisions the
 * gateway would make at each target.
 */
export function escalationScore(prediction: Record<string, number>, weak: string, strong: string): number {
  const strongChance = Math.max(prediction[strong] ?? 0, 1e-9);
  return 1 - (prediction[weak] ?? 0) / strongChance;
}

export function predictAll(model: RouterModel, examples: readonly RoutingExample[]): Predictions {
  return examples.map((example) => model.predict(example.prompt, example.embedding));
}

/**
 * Trains on K−1 folds and predicts the held-out fold, K times: every prompt gets an out-of-fold
 * prediction, and an out-of-fold cost estimate per model when the training folds had costs.
 */
export function crossValidatedPredictions(
  examples: readonly RoutingExample[],
  models: readonly string[],
  folds: number,
  options: TrainOptions = {},
  onFold?: (fold: number) => void,
): { predictions: Predictions; costEstimates: Array<Record<string, number>> } {
  const assignment = assignFolds(examples.length, folds, (options.seed ?? 1) + 7919);
  const predictions: Predictions = new Array(examples.length);
  const costEstimates: Array<Record<string, number>> = new Array(examples.length);
  for (let fold = 0; fold < folds; fold += 1) {
    const train = examples.filter((_, index) => assignment[index] !== fold);
    const router = loadRouterModel(trainRouterModel(train, models, options));
    examples.forEach((example, index) => {
      if (assignment[index] !== fold) return;
      predictions[index] = router.predict(example.prompt, example.embedding);
      const costs: Record<string, number> = {};
      for (const model of models) {
        const cost = router.estimatedCost(model, example.prompt);
        if (cost !== undefined) costs[model] = cost;
      }
      costEstimates[index] = costs;
    });
    onFold?.(fold);
  }
  return { predictions, costEstimates };
}

export const PAIR_METHODS = ['router', 'random', 'longest_prompt', 'oracle', 'weak', 'strong'] as const;
export type PairMethod = (typeof PAIR_METHODS)[number];

export interface PairEvaluation {
  weak: string;
  strong: string;
  examples: number;
  weakQuality: number;
  strongQuality: number;
  weakCost: number;
  strongCost: number;
  methods: Record<PairMethod, RouterMetrics>;
  curves: Partial<Record<PairMethod, CurvePoint[]>>;
  /** Where the router's curve first reaches 92% of the strong model's quality (RouteLLM's headline point). */
  routerAt92: { strongShare: number; cost: number } | null;
}

export function pairOutcomes(examples: readonly RoutingExample[], weak: string, strong: string, costOf: (example: RoutingExample, model: string) => number): PairOutcomes {
  return {
    weak: examples.map((example) => example.outcomes[weak] as number),
    strong: examples.map((example) => example.outcomes[strong] as number),
    weakCost: examples.map((example) => costOf(example, weak)),
    strongCost: examples.map((example) => costOf(example, strong)),
  };
}

export function evaluatePair(options: {
  examples: readonly RoutingExample[];
  weak: string;
  strong: string;
  predictions: Predictions;
  costOf: (example: RoutingExample, model: string) => number;
  randomSeeds?: number;
}): PairEvaluation {
  const { examples, weak, strong, predictions } = options;
  const pair = pairOutcomes(examples, weak, strong, options.costOf);
  const summary = pairSummary(pair);
  const routerCurve = thresholdCurve(
    predictions.map((prediction) => escalationScore(prediction, weak, strong)),
    pair,
  );
  const randomRuns: RouterMetrics[] = [];
  const seeds = options.randomSeeds ?? 10;
  let randomCurve: CurvePoint[] = [];
  for (let seed = 0; seed < seeds; seed += 1) {
    const random = createRandom(seed + 1);
    const curve = thresholdCurve(examples.map(() => random()), pair);
    if (seed === 0) randomCurve = curve;
    randomRuns.push(curveMetrics(curve, pair));
  }
  const lengthCurve = thresholdCurve(examples.map((example) => example.prompt.length), pair);
  const oracle = oracleCurve(pair);
  return {
    weak,
    strong,
    examples: examples.length,
    ...summary,
    methods: {
      router: curveMetrics(routerCurve, pair),
      random: averageMetrics(randomRuns),
      longest_prompt: curveMetrics(lengthCurve, pair),
      oracle: curveMetrics(oracle, pair),
      weak: singleModelMetrics(pair, 'weak'),
      strong: singleModelMetrics(pair, 'strong'),
    },
    curves: { router: routerCurve, random: randomCurve, longest_prompt: lengthCurve, oracle },
    routerAt92: (() => {
      const crossing = firstCrossing(routerCurve, 0.92 * summary.strongQuality);
      return crossing ? { strongShare: crossing.share, cost: crossing.cost } : null;
    })(),
  };
}
