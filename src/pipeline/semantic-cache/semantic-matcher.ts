import { EntryLearning, ThresholdCalibrator } from './bounded-threshold.ts';
import { guardFeatures, guardMatch, type GuardVerdict } from './match-guard.ts';
import { PartitionedVectorIndex, type VectorIndex } from './vector-index.ts';

/** What the matcher keeps per cached question. */
export interface MatchEntry {
  id: number;
  /** The exact-cache key of the stored answer. */
  key: string;
  partition: string;
  tenant: string;
  prompt: string;
  /** The feature whose calibrated threshold the entry follows. */
  feature: string | undefined;
  expiresAt: number;
  learning: EntryLearning;
  guard: ReturnType<typeof guardFeatures> | undefined;
}

export interface Candidate {
  entry: MatchEntry;
  similarity: number;
}

export interface Lookup {
  /** The most similar entry that passed the guard. */
  candidate: Candidate | undefined;
  /** The most similar entry overall and, when the guard turned it down, why. */
  nearestSimilarity: number | undefined;
  rejected: Exclude<GuardVerdict, { pass: true }>['reason'] | undefined;
}

export interface MatchPolicy {
  errorBound: number;
  shadowRate: number;
  minSimilarity: number;
}

export type SemanticMode = 'shadow' | 'on';

/**
 * serve: answer from the cache. check: the threshold says serve, but this one is sampled (or the
 * mode is shadow), so the call goes upstream and the answers are compared. explore: below the
 * threshold, the call goes upstream anyway, so the comparison is free feedback. none: no
 * candidate close enough to be worth checking.
 */
export type Decision =
  | { kind: 'serve'; threshold: number }
  | { kind: 'check'; threshold: number; weight: number }
  | { kind: 'explore'; threshold: number; weight: number }
  | { kind: 'none'; threshold: number };

const CANDIDATES = 4;

/**
 * The decision core of the semantic cache, shared by the gateway stage and `costgate cache eval`:
 * a partitioned vector index, the guard, and per-feature calibrated thresholds refined per entry.
 */
export class SemanticMatcher {
  readonly entries = new Map<number, MatchEntry>();
  private readonly byKey = new Map<string, number>();
  private readonly calibrators = new Map<string, ThresholdCalibrator>();
  private nextId = 1;

  constructor(
    readonly index: VectorIndex,
    private readonly confidence: number,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  idOf(key: string): number | undefined {
    return this.byKey.get(key);
  }

  async add(entry: Omit<MatchEntry, 'id' | 'learning' | 'guard'> & { learning?: EntryLearning }, vector: Float32Array): Promise<MatchEntry> {
    const existing = this.byKey.get(entry.key);
    if (existing !== undefined) await this.remove(entry.key);
    const stored: MatchEntry = { ...entry, id: this.nextId++, learning: entry.learning ?? new EntryLearning(), guard: undefined };
    this.entries.set(stored.id, stored);
    this.byKey.set(stored.key, stored.id);
    await this.index.add(stored.partition, stored.id, vector);
    return stored;
  }

  /** Registers many new entries and indexes them partition by partition in bulk (start-up, benchmarks). */
  addMany(items: ReadonlyArray<{ entry: Omit<MatchEntry, 'id' | 'learning' | 'guard'> & { learning?: EntryLearning }; vector: Float32Array }>): void {
    if (!(this.index instanceof PartitionedVectorIndex)) throw new Error('bulk loading needs the in-process index');
    const byPartition = new Map<string, { ids: number[]; vectors: Float32Array[] }>();
    for (const { entry, vector } of items) {
      if (this.byKey.has(entry.key)) continue;
      const stored: MatchEntry = { ...entry, id: this.nextId++, learning: entry.learning ?? new EntryLearning(), guard: undefined };
      this.entries.set(stored.id, stored);
      this.byKey.set(stored.key, stored.id);
      let group = byPartition.get(stored.partition);
      if (!group) byPartition.set(stored.partition, (group = { ids: [], vectors: [] }));
      group.ids.push(stored.id);
      group.vectors.push(vector);
    }
    for (const [partition, group] of byPartition) this.index.addMany(partition, group.ids, group.vectors);
  }

  async remove(key: string): Promise<MatchEntry | undefined> {
    const id = this.byKey.get(key);
    if (id === undefined) return undefined;
    const entry = this.entries.get(id);
    this.byKey.delete(key);
    this.entries.delete(id);
    if (entry) await this.index.remove(entry.partition, id);
    return entry;
  }

  calibrator(feature: string | undefined, policy: MatchPolicy): ThresholdCalibrator {
    const name = `${feature ?? ''}\u0000${policy.errorBound}`;
    let calibrator = this.calibrators.get(name);
    if (!calibrator) {
      calibrator = new ThresholdCalibrator(policy.errorBound, this.confidence, policy.minSimilarity);
      this.calibrators.set(name, calibrator);
    }
    return calibrator;
  }

  allCalibrators(): IterableIterator<[string, ThresholdCalibrator]> {
    return this.calibrators.entries();
  }

  /** The most similar live entry of this partition and tenant that passes the guard. */
  async lookup(partition: string, tenant: string, vector: Float32Array, prompt: string, now: number): Promise<Lookup> {
    const neighbors = await this.index.search(partition, vector, CANDIDATES);
    const query = guardFeatures(prompt);
    let nearestSimilarity: number | undefined;
    let rejected: Lookup['rejected'];
    for (const neighbor of neighbors) {
      const entry = this.entries.get(neighbor.id);
      // The partition already holds one tenant; checking again costs nothing and fails closed.
      if (!entry || entry.tenant !== tenant || entry.partition !== partition || entry.expiresAt <= now) continue;
      nearestSimilarity ??= neighbor.similarity;
      entry.guard ??= guardFeatures(entry.prompt);
      const verdict = guardMatch(query, entry.guard);
      if (verdict.pass) return { candidate: { entry, similarity: neighbor.similarity }, nearestSimilarity, rejected };
      rejected ??= verdict.reason;
    }
    return { candidate: undefined, nearestSimilarity, rejected };
  }

  threshold(candidate: Candidate, policy: MatchPolicy): number {
    return candidate.entry.learning.threshold(this.calibrator(candidate.entry.feature, policy).threshold);
  }

  decide(candidate: Candidate | undefined, policy: MatchPolicy, mode: SemanticMode): Decision {
    if (!candidate) return { kind: 'none', threshold: Number.POSITIVE_INFINITY };
    const threshold = this.threshold(candidate, policy);
    if (candidate.similarity < policy.minSimilarity) return { kind: 'none', threshold };
    if (candidate.similarity < threshold) return { kind: 'explore', threshold, weight: 1 };
    if (mode === 'shadow') return { kind: 'check', threshold, weight: 1 };
    if (policy.shadowRate > 0 && this.random() < policy.shadowRate) return { kind: 'check', threshold, weight: 1 / policy.shadowRate };
    return { kind: 'serve', threshold };
  }

  /** Feedback from one comparison of a cached answer with a fresh one. */
  observe(candidate: Candidate, policy: MatchPolicy, correct: boolean, weight: number): void {
    const observation = { similarity: candidate.similarity, correct, weight };
    this.calibrator(candidate.entry.feature, policy).observe(observation);
    candidate.entry.learning.observe(observation, policy.errorBound, this.confidence);
  }
}
