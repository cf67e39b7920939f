import type { SparseRow } from './text-features.ts';

/**
 * L2-regularised logistic regression on sparse rows, fitted by L-BFGS on the full batch:
 * deterministic (no sampling order), converges on convex problems without a learning rate to tune,
 * and accepts soft labels in [0, 1] (graded outcomes) as well as 0/1.
 *
 * Minimises (1/n) Σ [log(1 + e^z) − y·z] + (λ/2)·‖w‖², z = w·x + b; the bias is not penalised.
 */

export interface LogisticModel {
  weights: Float64Array;
  bias: number;
}

export interface FitOptions {
  lambda: number;
  maxIterations?: number;
  /** Stop when the gradient norm falls below this. */
  tolerance?: number;
  /** Per-row weights (default 1). */
  rowWeights?: ArrayLike<number>;
  /** Warm start, e.g. the solution for a stronger regularisation on the same rows. */
  initial?: LogisticModel;
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 30 ? z : z < -30 ? Math.exp(z) : Math.log1p(Math.exp(z));
}

export function logit(model: LogisticModel, row: SparseRow): number {
  let z = model.bias;
  const { indices, values } = row;
  for (let k = 0; k < indices.length; k += 1) z += (model.weights[indices[k] as number] ?? 0) * (values[k] as number);
  return z;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index += 1) sum += (a[index] as number) * (b[index] as number);
  return sum;
}

/**
 * The parameter vector is [w_0 .. w_{d-1}, b]. Returns the objective and writes its gradient.
 */
function evaluate(rows: readonly SparseRow[], labels: ArrayLike<number>, rowWeights: ArrayLike<number> | undefined, totalWeight: number, lambda: number, parameters: Float64Array, gradient: Float64Array): number {
  const dimensions = parameters.length - 1;
  gradient.fill(0);
  const bias = parameters[dimensions] as number;
  let loss = 0;
  let biasGradient = 0;
  for (let r = 0; r < rows.length; r += 1) {
    const row = rows[r] as SparseRow;
    const weight = rowWeights ? (rowWeights[r] as number) : 1;
    let z = bias;
    const { indices, values } = row;
    for (let k = 0; k < indices.length; k += 1) z += (parameters[indices[k] as number] as number) * (values[k] as number);
    const y = labels[r] as number;
    loss += weight * (softplus(z) - y * z);
    const residual = weight * (sigmoid(z) - y);
    biasGradient += residual;
    for (let k = 0; k < indices.length; k += 1) {
      const index = indices[k] as number;
      gradient[index] = (gradient[index] as number) + residual * (values[k] as number);
    }
  }
  let penalty = 0;
  for (let index = 0; index < dimensions; index += 1) {
    const w = parameters[index] as number;
    penalty += w * w;
    gradient[index] = (gradient[index] as number) / totalWeight + lambda * w;
  }
  gradient[dimensions] = biasGradient / totalWeight;
  return loss / totalWeight + (lambda / 2) * penalty;
}

export function fitLogistic(rows: readonly SparseRow[], labels: ArrayLike<number>, dimensions: number, options: FitOptions): LogisticModel {
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-6;
  const memory = 10;
  const size = dimensions + 1;
  const totalWeight = options.rowWeights ? Array.from(options.rowWeights).reduce((sum, value) => sum + value, 0) : rows.length;
  if (rows.length === 0 || totalWeight <= 0) return { weights: new Float64Array(dimensions), bias: 0 };

  const x = new Float64Array(size);
  // Start the bias at the label mean's log-odds: the optimum when no feature helps.
  let mean = 0;
  for (let r = 0; r < rows.length; r += 1) mean += (options.rowWeights ? (options.rowWeights[r] as number) : 1) * (labels[r] as number);
  mean = Math.min(Math.max(mean / totalWeight, 1e-6), 1 - 1e-6);
  x[dimensions] = Math.log(mean / (1 - mean));
  if (options.initial) {
    x.set(options.initial.weights.subarray(0, dimensions));
    x[dimensions] = options.initial.bias;
  }

  const gradient = new Float64Array(size);
  let value = evaluate(rows, labels, options.rowWeights, totalWeight, options.lambda, x, gradient);
  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const rhos: number[] = [];
  const direction = new Float64Array(size);
  const candidate = new Float64Array(size);
  const candidateGradient = new Float64Array(size);
  const alphas = new Float64Array(memory);

  for (let iteration = 0; iteration < maxIterations; iteration += 1) {
    if (Math.sqrt(dot(gradient, gradient)) < tolerance) break;
    // Two-loop recursion: direction = −H·g.
    for (let index = 0; index < size; index += 1) direction[index] = -(gradient[index] as number);
    for (let m = steps.length - 1; m >= 0; m -= 1) {
      const alpha = (rhos[m] as number) * dot(steps[m] as Float64Array, direction);
      alphas[m] = alpha;
      const change = changes[m] as Float64Array;
      for (let index = 0; index < size; index += 1) direction[index] = (direction[index] as number) - alpha * (change[index] as number);
    }
    if (steps.length > 0) {
      const last = steps.length - 1;
      const scale = dot(steps[last] as Float64Array, changes[last] as Float64Array) / dot(changes[last] as Float64Array, changes[last] as Float64Array);
      for (let index = 0; index < size; index += 1) direction[index] = (direction[index] as number) * scale;
    }
    for (let m = 0; m < steps.length; m += 1) {
      const beta = (rhos[m] as number) * dot(changes[m] as Float64Array, direction);
      const step = steps[m] as Float64Array;
      const factor = (alphas[m] as number) - beta;
      for (let index = 0; index < size; index += 1) direction[index] = (direction[index] as number) + factor * (step[index] as number);
    }
    let slope = dot(gradient, direction);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      for (let index = 0; index < size; index += 1) direction[index] = -(gradient[index] as number);
      slope = dot(gradient, direction);
      steps.length = 0;
      changes.length = 0;
      rhos.length = 0;
    }
    // Backtracking line search (Armijo); the first step of L-BFGS is usually accepted.
    let stepSize = steps.length === 0 ? 1 / Math.max(1, Math.sqrt(dot(gradient, gradient))) : 1;
    let newValue = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 30; attempt += 1) {
      for (let index = 0; index < size; index += 1) candidate[index] = (x[index] as number) + stepSize * (direction[index] as number);
      newValue = evaluate(rows, labels, options.rowWeights, totalWeight, options.lambda, candidate, candidateGradient);
      if (newValue <= value + 1e-4 * stepSize * slope) break;
      stepSize /= 2;
    }
    if (!(newValue < value)) break;
    const step = new Float64Array(size);
    const change = new Float64Array(size);
    for (let index = 0; index < size; index += 1) {
      step[index] = (candidate[index] as number) - (x[index] as number);
      change[index] = (candidateGradient[index] as number) - (gradient[index] as number);
    }
    const curvature = dot(step, change);
    if (curvature > 1e-12) {
      if (steps.length === memory) {
        steps.shift();
        changes.shift();
        rhos.shift();
      }
      steps.push(step);
      changes.push(change);
      rhos.push(1 / curvature);
    }
    const improvement = value - newValue;
    x.set(candidate);
    gradient.set(candidateGradient);
    value = newValue;
    if (improvement < 1e-10 * Math.max(1, Math.abs(value))) break;
  }
  return { weights: x.subarray(0, dimensions).slice(), bias: x[dimensions] as number };
}

/** Mean log loss of probabilities against (soft) labels, clipped away from 0 and 1. */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < probabilities.length; index += 1) {
    const p = Math.min(Math.max(probabilities[index] as number, 1e-9), 1 - 1e-9);
    const y = labels[index] as number;
    sum -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
  }
  return sum / Math.max(probabilities.length, 1);
}
