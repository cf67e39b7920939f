import { sigmoid } from './logistic-regression.ts';

/**
 * Platt scaling: p = σ(a·z + b), fitted on held-out logits so that a predicted 0.8 means "answers
 * well 8 times in 10". Regularised logistic regression is over-confident or under-confident by a
 * roughly monotone squash, which two parameters correct. Targets use Platt's prior smoothing for
 * hard 0/1 labels so a perfectly separable fold cannot drive `a` to infinity.
 */
export interface PlattScaling {
  a: number;
  b: number;
}

export const IDENTITY_SCALING: PlattScaling = { a: 1, b: 0 };

export function applyPlatt(scaling: PlattScaling, z: number): number {
  return sigmoid(scaling.a * z + scaling.b);
}

export function fitPlatt(logits: ArrayLike<number>, labels: ArrayLike<number>): PlattScaling {
  const n = logits.length;
  if (n === 0) return IDENTITY_SCALING;
  let positives = 0;
  for (let index = 0; index < n; index += 1) positives += labels[index] as number;
  const negatives = n - positives;
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (negatives + 2);
  const targets = Float64Array.from({ length: n }, (_, index) => {
    const y = labels[index] as number;
    // Soft labels keep their value, squeezed into [low, high].
    return low + y * (high - low);
  });
  let a = 1;
  let b = 0;
  // Newton's method on the 2-parameter log loss, with step halving for safety.
  const loss = (ta: number, tb: number): number => {
    let sum = 0;
    for (let index = 0; index < n; index += 1) {
      const z = ta * (logits[index] as number) + tb;
      const t = targets[index] as number;
      sum += z > 30 ? z - t * z : z < -30 ? -t * z + Math.exp(z) : Math.log1p(Math.exp(z)) - t * z;
    }
    return sum;
  };
  let current = loss(a, b);
  for (let iteration = 0; iteration < 100; iteration += 1) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let index = 0; index < n; index += 1) {
      const z = logits[index] as number;
      const p = sigmoid(a * z + b);
      const residual = p - (targets[index] as number);
      const curvature = p * (1 - p);
      ga += residual * z;
      gb += residual;
      haa += curvature * z * z;
      hab += curvature * z;
      hbb += curvature;
    }
    const determinant = haa * hbb - hab * hab;
    if (Math.abs(determinant) < 1e-18) break;
    const da = -(hbb * ga - hab * gb) / determinant;
    const db = -(haa * gb - hab * ga) / determinant;
    let step = 1;
    let next = loss(a + da, b + db);
    while (next > current && step > 1e-6) {
      step /= 2;
      next = loss(a + step * da, b + step * db);
    }
    if (next > current) break;
    a += step * da;
    b += step * db;
    const improvement = current - next;
    current = next;
    if (improvement < 1e-10 * Math.max(1, current)) break;
  }
  return { a, b };
}
