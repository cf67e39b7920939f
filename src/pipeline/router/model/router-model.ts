import { applyPlatt, fitPlatt, type PlattScaling } from './calibration.ts';
import { fitLogistic, logLoss, logit, sigmoid, type LogisticModel } from './logistic-regression.ts';
import {
  createFeaturizer,
  DEFAULT_FEATURE_OPTIONS,
  fitFeatures,
  type FeatureSpaceOptions,
  type Featurizer,
  type FittedFeatures,
  type SparseRow,
} from './text-features.ts';

/**
 * A trained router: for each model, the calibrated probability that it answers a prompt well.
 * Routing policies are built on these probabilities (cheapest tier above a quality target, or the
 * expected quality gain of escalating), so one file serves two-tier and many-tier routing.
 */

export const ROUTER_FILE_FORMAT = 'costgate-router/1';

export interface TrainingExample {
  prompt: string;
  /** Score 0..1 per model; models absent here are not trained on this prompt. */
  outcomes: Record<string, number>;
  /** USD per call, when known. */
  costs?: Record<string, number>;
  /** Prompt embedding, when training the embedding variant. */
  embedding?: ArrayLike<number>;
}

export interface ModelPredictor {
  bias: number;
  /** Non-zero weights as [feature index, weight]. */
  weights: Array<[number, number]>;
  lambda: number;
  calibration: PlattScaling;
  /** Held-out (inner cross-validation) figures for the chosen regularisation. */
  heldOutLogLoss: number;
  heldOutAuc: number | null;
  examples: number;
  baseRate: number;
}

/** Cost per call ≈ intercept + perChar · prompt characters (least squares on the training data). */
export interface CostEstimate {
  intercept: number;
  perChar: number;
}

export interface RouterModelFile {
  format: typeof ROUTER_FILE_FORMAT;
  trainedAt: string;
  examples: number;
  features: FittedFeatures;
  /** Set when the features include a prompt embedding from this embedding model. */
  embeddingModel?: string;
  models: Record<string, ModelPredictor>;
  costs?: Record<string, CostEstimate>;
}

export interface TrainOptions {
  features?: FeatureSpaceOptions;
  /** Regularisation strengths tried by inner cross-validation. */
  lambdas?: readonly number[];
  innerFolds?: number;
  seed?: number;
  embeddingModel?: string;
  maxIterations?: number;
}

/** Tried from strongest to weakest, each fit warm-started from the previous one. */
export const DEFAULT_LAMBDAS: readonly number[] = [1e-2, 3e-3, 1e-3, 3e-4];
const DEFAULT_MAX_ITERATIONS = 100;

/** mulberry32; deterministic folds and baselines. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fold number (0..k-1) for each of n items, balanced and shuffled by `seed`. */
export function assignFolds(n: number, k: number, seed: number): Int32Array {
  const order = Array.from({ length: n }, (_, index) => index);
  const random = createRandom(seed);
  for (let index = n - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other] as number, order[index] as number];
  }
  const folds = new Int32Array(n);
  order.forEach((item, position) => (folds[item] = position % k));
  return folds;
}

/** Area under the ROC curve for (soft) labels thresholded at 0.5; null when one class is absent. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const items = Array.from({ length: scores.length }, (_, index) => ({ score: scores[index] as number, positive: (labels[index] as number) >= 0.5 }));
  const positives = items.filter((item) => item.positive).length;
  const negatives = items.length - positives;
  if (positives === 0 || negatives === 0) return null;
  items.sort((a, b) => a.score - b.score);
  let rankSum = 0;
  for (let start = 0; start < items.length; ) {
    let end = start;
    while (end + 1 < items.length && (items[end + 1] as { score: number }).score === (items[start] as { score: number }).score) end += 1;
    const averageRank = (start + end) / 2 + 1;
    for (let index = start; index <= end; index += 1) if ((items[index] as { positive: boolean }).positive) rankSum += averageRank;
    start = end + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function sparseWeights(model: LogisticModel, original: Int32Array): Array<[number, number]> {
  const kept: Array<[number, number]> = [];
  model.weights.forEach((weight, index) => {
    if (weight !== 0) kept.push([original[index] as number, Number(weight.toPrecision(7))]);
  });
  return kept;
}

/** Renumbers feature indices densely; `original[compact]` maps back. */
function compactRows(rows: readonly SparseRow[]): { rows: SparseRow[]; original: Int32Array } {
  const compact = new Map<number, number>();
  const remapped = rows.map((row) => {
    const indices = new Int32Array(row.indices.length);
    row.indices.forEach((index, position) => {
      let mapped = compact.get(index);
      if (mapped === undefined) {
        mapped = compact.size;
        compact.set(index, mapped);
      }
      indices[position] = mapped;
    });
    return { indices, values: row.values };
  });
  const original = new Int32Array(compact.size);
  for (const [index, mapped] of compact) original[mapped] = index;
  return { rows: remapped, original };
}

function fitCostEstimate(prompts: readonly string[], costs: readonly number[]): CostEstimate {
  const n = costs.length;
  const xs = prompts.map((prompt) => prompt.length);
  const meanX = xs.reduce((sum, x) => sum + x, 0) / n;
  const meanY = costs.reduce((sum, y) => sum + y, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (let index = 0; index < n; index += 1) {
    covariance += ((xs[index] as number) - meanX) * ((costs[index] as number) - meanY);
    variance += ((xs[index] as number) - meanX) ** 2;
  }
  const perChar = variance > 0 ? Math.max(0, covariance / variance) : 0;
  return { intercept: Math.max(0, meanY - perChar * meanX), perChar };
}

/**
 * Trains one calibrated predictor per model. The regularisation strength is picked by inner
 * cross-validation (lowest held-out log loss), and the Platt scaling is fitted on those same
 * held-out logits, so neither is chosen on data the final weights were fitted to.
 */
export function trainRouterModel(examples: readonly TrainingExample[], models: readonly string[], options: TrainOptions = {}): RouterModelFile {
  if (examples.length < 10) throw new Error(`need at least 10 training examples, got ${examples.length}`);
  const embeddingDimensions = examples[0]?.embedding?.length ?? 0;
  const fitted = fitFeatures(
    examples.map((example) => example.prompt),
    options.features ?? DEFAULT_FEATURE_OPTIONS,
    embeddingDimensions,
  );
  const featurizer = createFeaturizer(fitted);
  // Training works in a compact index space (only features that occur), which keeps every vector
  // operation of the optimiser proportional to the features actually used, not the hash space.
  const { rows, original } = compactRows(examples.map((example) => featurizer.transform(example.prompt, example.embedding)));
  const dimensions = original.length;
  const lambdas = options.lambdas ?? DEFAULT_LAMBDAS;
  const innerFolds = options.innerFolds ?? 3;
  const seed = options.seed ?? 1;

  const predictors: Record<string, ModelPredictor> = {};
  for (const model of models) {
    const positions = examples.flatMap((example, index) => (typeof example.outcomes[model] === 'number' ? [index] : []));
    if (positions.length < 10) throw new Error(`model "${model}" has outcomes on ${positions.length} prompts; need at least 10`);
    const modelRows = positions.map((index) => rows[index] as SparseRow);
    const labels = Float64Array.from(positions, (index) => (examples[index] as TrainingExample).outcomes[model] as number);
    const folds = assignFolds(positions.length, innerFolds, seed);
    const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
    const ordered = [...lambdas].sort((a, b) => b - a);
    const logitsByLambda = ordered.map(() => new Float64Array(positions.length));
    for (let fold = 0; fold < innerFolds; fold += 1) {
      const trainRows: SparseRow[] = [];
      const trainLabels: number[] = [];
      for (let index = 0; index < positions.length; index += 1) {
        if (folds[index] === fold) continue;
        trainRows.push(modelRows[index] as SparseRow);
        trainLabels.push(labels[index] as number);
      }
      let previous: LogisticModel | undefined;
      ordered.forEach((lambda, position) => {
        const fit = fitLogistic(trainRows, trainLabels, dimensions, { lambda, maxIterations, ...(previous ? { initial: previous } : {}) });
        previous = fit;
        const logits = logitsByLambda[position] as Float64Array;
        for (let index = 0; index < positions.length; index += 1) {
          if (folds[index] === fold) logits[index] = logit(fit, modelRows[index] as SparseRow);
        }
      });
    }
    let best: { lambda: number; loss: number; logits: Float64Array } | undefined;
    ordered.forEach((lambda, position) => {
      const logits = logitsByLambda[position] as Float64Array;
      const loss = logLoss(Array.from(logits, sigmoid), labels);
      if (!best || loss < best.loss) best = { lambda, loss, logits };
    });
    if (!best) throw new Error('no regularisation strengths to try');
    const calibration = fitPlatt(best.logits, labels);
    const calibrated = Array.from(best.logits, (z) => applyPlatt(calibration, z));
    const final = fitLogistic(modelRows, labels, dimensions, { lambda: best.lambda, maxIterations });
    predictors[model] = {
      bias: final.bias,
      weights: sparseWeights(final, original),
      lambda: best.lambda,
      calibration,
      heldOutLogLoss: logLoss(calibrated, labels),
      heldOutAuc: rocAuc(best.logits, labels),
      examples: positions.length,
      baseRate: labels.reduce((sum, label) => sum + label, 0) / labels.length,
    };
  }

  const costs: Record<string, CostEstimate> = {};
  for (const model of models) {
    const priced = examples.filter((example) => typeof example.costs?.[model] === 'number');
    if (priced.length >= 2) costs[model] = fitCostEstimate(priced.map((example) => example.prompt), priced.map((example) => example.costs?.[model] as number));
  }
  const file: RouterModelFile = {
    format: ROUTER_FILE_FORMAT,
    trainedAt: new Date().toISOString(),
    examples: examples.length,
    features: fitted,
    models: predictors,
  };
  if (options.embeddingModel) file.embeddingModel = options.embeddingModel;
  if (Object.keys(costs).length > 0) file.costs = costs;
  return file;
}

export interface RouterModel {
  readonly file: RouterModelFile;
  readonly models: readonly string[];
  /** Calibrated probability that each model answers this prompt well. */
  predict(prompt: string, embedding?: ArrayLike<number>): Record<string, number>;
  /** Estimated USD cost of a call per model (from training costs), when known. */
  estimatedCost(model: string, prompt: string): number | undefined;
}

export function loadRouterModel(file: RouterModelFile): RouterModel {
  if (file.format !== ROUTER_FILE_FORMAT) throw new Error(`not a costgate router file (format ${String(file.format)})`);
  const featurizer: Featurizer = createFeaturizer(file.features);
  const compiled = Object.entries(file.models).map(([model, predictor]) => {
    const weights = new Float64Array(featurizer.dimensions);
    for (const [index, weight] of predictor.weights) weights[index] = weight;
    return { model, linear: { weights, bias: predictor.bias } satisfies LogisticModel, calibration: predictor.calibration };
  });
  return {
    file,
    models: compiled.map(({ model }) => model),
    predict(prompt, embedding) {
      const row = featurizer.transform(prompt, embedding);
      const result: Record<string, number> = {};
      for (const { model, linear, calibration } of compiled) result[model] = applyPlatt(calibration, logit(linear, row));
      return result;
    },
    estimatedCost(model, prompt) {
      const estimate = file.costs?.[model];
      return estimate ? estimate.intercept + estimate.perChar * prompt.length : undefined;
    },
  };
}
