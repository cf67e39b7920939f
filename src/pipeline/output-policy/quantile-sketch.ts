/**
 * A bounded, mergeable sketch of a token-count distribution: log-spaced buckets (each 2% wider
 * than the last, so any quantile is known to within 2%), with exponential forgetting so the
 * sketch follows a feature whose answers grow or shrink. Memory is bounded by the bucket count
 * (about 700 buckets reach a million tokens) however many calls it sees.
 */

const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);

export interface SketchSnapshot {
  /** Weight of observations equal to 0. */
  zero: number;
  /** Bucket index -> weight; bucket i holds values in (GAMMA^(i-1), GAMMA^i]. */
  buckets: Record<string, number>;
}

export interface QuantileSketchOptions {
  /** Once the total weight passes this, every weight is halved: older calls count half as much. */
  halfLifeWeight?: number;
}

function bucketOf(value: number): number {
  return Math.ceil(Math.log(value) / LOG_GAMMA - 1e-9);
}

function upperBound(index: number): number {
  return Math.round(GAMMA ** index);
}

export class QuantileSketch {
  private zero = 0;
  private readonly buckets = new Map<number, number>();
  private total = 0;
  private readonly halfLifeWeight: number;
  private sorted: number[] | undefined;

  constructor(options: QuantileSketchOptions = {}) {
    this.halfLifeWeight = options.halfLifeWeight ?? 4000;
  }

  /** Total weight seen (decayed); roughly the number of recent observations. */
  get weight(): number {
    return this.total;
  }

  add(value: number, weight = 1): void {
    if (!Number.isFinite(value) || value < 0 || weight <= 0) return;
    if (value < 1) this.zero += weight;
    else {
      const index = bucketOf(value);
      if (!this.buckets.has(index)) this.sorted = undefined;
      this.buckets.set(index, (this.buckets.get(index) ?? 0) + weight);
    }
    this.total += weight;
    if (this.total > this.halfLifeWeight) this.halve();
  }

  private halve(): void {
    this.zero /= 2;
    this.total /= 2;
    for (const [index, weight] of this.buckets) {
      // Buckets that fade below a hundredth of an observation are dropped, so the map stays small.
      if (weight < 0.02) {
        this.buckets.delete(index);
        this.total -= weight / 2;
        this.sorted = undefined;
      } else this.buckets.set(index, weight / 2);
    }
  }

  private indexes(): number[] {
    this.sorted ??= [...this.buckets.keys()].sort((a, b) => a - b);
    return this.sorted;
  }

  /**
   * The smallest bucket bound with at least `q` of the weight at or below it: never below the true
   * quantile by more than the bucket width, so a cap built on it errs on the generous side.
   */
  quantile(q: number): number | undefined {
    if (this.total <= 0) return undefined;
    const target = Math.min(1, Math.max(0, q)) * this.total;
    let cumulative = this.zero;
    if (cumulative >= target && this.zero > 0) return 0;
    for (const index of this.indexes()) {
      cumulative += this.buckets.get(index) ?? 0;
      if (cumulative >= target - 1e-9) return upperBound(index);
    }
    const last = this.indexes().at(-1);
    return last === undefined ? 0 : upperBound(last);
  }

  /** Mean of the observations above `threshold` (bucket midpoints), or undefined when none are. */
  meanAbove(threshold: number): number | undefined {
    let weight = 0;
    let sum = 0;
    for (const index of this.indexes()) {
      const high = GAMMA ** index;
      if (high <= threshold) continue;
      const low = Math.max(threshold, GAMMA ** (index - 1));
      const bucketWeight = this.buckets.get(index) ?? 0;
      weight += bucketWeight;
      sum += bucketWeight * ((low + high) / 2);
    }
    return weight > 0 ? sum / weight : undefined;
  }

  /** Share of the weight above `threshold`. */
  shareAbove(threshold: number): number {
    if (this.total <= 0) return 0;
    let above = 0;
    for (const index of this.indexes()) if (GAMMA ** (index - 1) >= threshold) above += this.buckets.get(index) ?? 0;
    return above / this.total;
  }

  mean(): number | undefined {
    if (this.total <= 0) return undefined;
    let sum = 0;
    for (const index of this.indexes()) sum += (this.buckets.get(index) ?? 0) * ((GAMMA ** (index - 1) + GAMMA ** index) / 2);
    return sum / this.total;
  }

  toJSON(): SketchSnapshot {
    const buckets: Record<string, number> = {};
    for (const index of this.indexes()) buckets[String(index)] = Math.round((this.buckets.get(index) ?? 0) * 1000) / 1000;
    return { zero: Math.round(this.zero * 1000) / 1000, buckets };
  }

  static fromJSON(snapshot: SketchSnapshot | undefined, options: QuantileSketchOptions = {}): QuantileSketch {
    const sketch = new QuantileSketch(options);
    if (!snapshot) return sketch;
    if (Number.isFinite(snapshot.zero) && snapshot.zero > 0) {
      sketch.zero = snapshot.zero;
      sketch.total += snapshot.zero;
    }
    for (const [key, weight] of Object.entries(snapshot.buckets ?? {})) {
      const index = Number(key);
      if (!Number.isInteger(index) || !Number.isFinite(weight) || weight <= 0) continue;
      sketch.buckets.set(index, weight);
      sketch.total += weight;
    }
    return sketch;
  }
}
