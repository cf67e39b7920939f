/**
 * Thresholds that bound the wrong-hit rate instead of one magic similarity cut-off, in the spirit
 * of vCache (Verified Semantic Prompt Caching, arXiv 2502.03771).
 *
 * Feedback arrives as observations: a candidate match at similarity s was checked against a fresh
 * answer and found right or wrong. For a threshold t, the cache serves every candidate with
 * s >= t, so its wrong-hit rate is the error rate among observations with s >= t. The threshold is
 * chosen by fixed-sequence testing (as in Learn-then-Test): going down from the most similar
 * observations, each step tests "the error rate at or above this t exceeds the bound" with an exact
 * (Clopper-Pearson) upper confidence bound, and the descent stops at the first step that cannot
 * reject it (see `learnThreshold` for how several descents share the error budget). Until enough
 * feedback exists nothing is served at all.
 */

export interface Observation {
  similarity: number;
  correct: boolean;
  /**
   * Inverse of the probability that this observation was collected: 1 when every such candidate is
   * checked, 1/shadowRate for served-region candidates checked by sampling.
   */
  weight: number;
}

/** ln Γ(x) (Lanczos), for the incomplete beta function. */
function logGamma(x: number): number {
  const coefficients = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const temporary = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let series = 1.000000000190015;
  for (const coefficient of coefficients) series += coefficient / ++y;
  return -temporary + Math.log((2.5066282746310005 * series) / x);
}

/** Continued fraction for the incomplete beta function (Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m += 1) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 3e-12) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * One-sided Clopper-Pearson upper bound on an error rate after `errors` wrong out of `trials`
 * (real-valued counts allowed, for weighted observations): the p with P(Bin(n, p) <= k) = 1 - confidence.
 */
export function errorUpperBound(errors: number, trials: number, confidence: number): number {
  if (trials <= 0) return 1;
  if (errors >= trials) return 1;
  const alpha = 1 - confidence;
  // P(Bin(n,p) <= k) = 1 - I_p(k+1, n-k), decreasing in p: find where it equals alpha.
  let low = errors / trials;
  let high = 1;
  for (let step = 0; step < 60; step += 1) {
    const middle = (low + high) / 2;
    const tail = 1 - incompleteBeta(middle, errors + 1, trials - errors);
    if (tail > alpha) low = middle;
    else high = middle;
  }
  return high;
}

/** Fewest error-free observations that can show an error rate below `bound` at this confidence. */
export function minimumObservations(bound: number, confidence: number): number {
  return Math.ceil(Math.log(1 - confidence) / Math.log(1 - bound));
}

/**
 * Whether checks of served candidates (sampled at the shadow rate) count 1/shadowRate times.
 * Off by default: with inverse-probability weights a few sampled checks outweigh hundreds of
 * ordinary ones and the effective sample collapses, so serving stops as soon as it starts.
 * Unweighted, the estimate over-represents the unserved, less similar part of a region, which
 * over-states its error (conservative) whenever a right answer grows likelier with similarity.
 */
export const WEIGHTED = false;

interface Accumulated {
  similarity: number;
  count: number;
  trials: number;
  errors: number;
  /** Last observation of a run of equal similarities: a threshold there serves the whole tie. */
  boundary: boolean;
}

/** Cumulative weighted counts from the most similar observation down. */
function accumulate(observations: readonly Observation[], weighted: boolean): Accumulated[] {
  const sorted = [...observations].sort((left, right) => right.similarity - left.similarity);
  const rows: Accumulated[] = [];
  let weight = 0;
  let weightSquared = 0;
  let wrongWeight = 0;
  sorted.forEach((observation, index) => {
    const itemWeight = weighted ? observation.weight : 1;
    weight += itemWeight;
    weightSquared += itemWeight * itemWeight;
    if (!observation.correct) wrongWeight += itemWeight;
    // Weighted counts as an effective binomial sample (Kish's effective sample size).
    const trials = (weight * weight) / weightSquared;
    const following = sorted[index + 1];
    rows.push({
      similarity: observation.similarity,
      count: index + 1,
      trials,
      errors: (wrongWeight / weight) * trials,
      boundary: following === undefined || following.similarity !== observation.similarity,
    });
  });
  return rows;
}

/** One fixed-sequence descent starting at `start` observations: the lowest threshold it reaches. */
function descend(rows: readonly Accumulated[], start: number, bound: number, confidence: number, floor: number): number {
  const step = Math.max(1, Math.ceil(start / 4));
  let threshold = Number.POSITIVE_INFINITY;
  let nextTest = start;
  for (const row of rows) {
    if (row.count < nextTest || !row.boundary) continue;
    if (row.similarity < floor) break;
    if (errorUpperBound(row.errors, row.trials, confidence) > bound) break;
    threshold = row.similarity;
    nextTest = row.count + step;
  }
  return threshold;
}

/**
 * The lowest similarity threshold whose served region is shown to have an error rate below
 * `bound`, or Infinity (serve nothing) when no descent can show it.
 *
 * A descent that starts with few observations can serve early but is stopped by the first few
 * errors near the top; one that starts with more has more power. So several descents start at
 * 1, 4, 16, ... times the minimum sample, the i-th spending alpha/2^(i+1) of the error budget:
 * by the union bound the chance that any of them passes a threshold whose true error exceeds the
 * bound stays below alpha = 1 - confidence, and the most permissive passing threshold is used.
 */
export function learnThreshold(observations: readonly Observation[], bound: number, confidence: number, floor = -1, weighted = WEIGHTED): number {
  const alpha = 1 - confidence;
  if (observations.length < minimumObservations(bound, 1 - alpha / 2)) return Number.POSITIVE_INFINITY;
  const rows = accumulate(observations, weighted);
  let threshold = Number.POSITIVE_INFINITY;
  for (let sequence = 0; ; sequence += 1) {
    const level = 1 - alpha / 2 ** (sequence + 1);
    const start = minimumObservations(bound, level) * 4 ** sequence;
    if (start > rows.length) break;
    threshold = Math.min(threshold, descend(rows, start, bound, level, floor));
  }
  return threshold;
}

/** A bounded window of recent observations and the threshold learned from them. */
export class ThresholdCalibrator {
  private readonly window: Observation[] = [];
  private next = 0;
  private sinceUpdate = 0;
  private current = Number.POSITIVE_INFINITY;

  constructor(
    readonly bound: number,
    readonly confidence: number,
    private readonly floor: number,
    private readonly capacity = 20_000,
  ) {}

  get threshold(): number {
    return this.current;
  }

  get observations(): readonly Observation[] {
    return this.window;
  }

  observe(observation: Observation): void {
    if (this.window.length < this.capacity) this.window.push(observation);
    else {
      this.window[this.next] = observation;
      this.next = (this.next + 1) % this.capacity;
    }
    this.sinceUpdate += 1;
    // Small windows re-learn on every observation; large ones after 2% more feedback, since
    // sorting 20k observations takes a few milliseconds.
    if (this.window.length <= 2_000 || this.sinceUpdate >= this.window.length * 0.02) this.update();
  }

  update(): void {
    this.sinceUpdate = 0;
    this.current = learnThreshold(this.window, this.bound, this.confidence, this.floor);
  }

  toJSON(): { observations: Array<[number, 0 | 1, number]> } {
    return { observations: this.window.map((item) => [item.similarity, item.correct ? 1 : 0, item.weight]) };
  }

  load(saved: { observations?: Array<[number, number, number]> }): void {
    for (const [similarity, correct, weight] of saved.observations ?? []) {
      if (this.window.length >= this.capacity) break;
      this.window.push({ similarity, correct: correct === 1, weight });
    }
    this.update();
  }
}

const OWN_OBSERVATIONS = 512;

/**
 * What one cached entry has learned about itself. A wrong answer at similarity s means this entry
 * never again serves at or below s; an entry with enough feedback of its own gets a threshold
 * learned from that feedback alone; otherwise it follows its feature's calibrated threshold.
 */
export class EntryLearning {
  maxWrong = Number.NEGATIVE_INFINITY;
  own: Observation[] = [];
  private ownThreshold: number | undefined;

  observe(observation: Observation, bound: number, confidence: number): void {
    if (!observation.correct) this.maxWrong = Math.max(this.maxWrong, observation.similarity);
    this.own.push(observation);
    if (this.own.length > OWN_OBSERVATIONS) this.own.shift();
    this.ownThreshold = learnThreshold(this.own, bound, confidence);
  }

  threshold(calibrated: number): number {
    const learned = this.ownThreshold === undefined || !Number.isFinite(this.ownThreshold) ? calibrated : this.ownThreshold;
    return this.maxWrong === Number.NEGATIVE_INFINITY ? learned : Math.max(learned, this.maxWrong + 1e-6);
  }
}
