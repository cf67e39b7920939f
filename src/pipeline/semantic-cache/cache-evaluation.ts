import { EntryLearning } from './bounded-threshold.ts';
import type { Embedder } from './embedder.ts';
import { guardFeatures, guardMatch } from './match-guard.ts';
import { SemanticMatcher, type MatchPolicy } from './semantic-matcher.ts';
import { dot, PartitionedVectorIndex, type UsearchModule } from './vector-index.ts';
import { seededRandom } from './seeded-random.ts';

/** One labeled pair: `b` asked after `a`; label 1 = the same question. */
export interface LabeledPair {
  a: string;
  b: string;
  label: 0 | 1;
}

export interface FixedRow {
  threshold: number;
  hit_rate: number;
  wrong_hit_rate: number;
  recall: number;
}

export interface BoundedRow {
  bound: number;
  hit_rate: number;
  wrong_hit_rate: number;
  recall: number;
}

export interface EvaluationReport {
  fixed: FixedRow[];
  bounded: BoundedRow[];
}

export interface EvaluationOptions {
  thresholds: readonly number[];
  bounds: readonly number[];
  /** Share of would-be hits checked upstream in the bounded mode (the production default). */
  shadowRate: number;
  confidence: number;
  /** Candidates below this similarity are neither served nor checked (the policy's minSimilarity). */
  minSimilarity: number;
  /** Apply the negation/number/entity guard (as the gateway does). */
  guard: boolean;
  seed: number;
  /**
   * index: every b searches all stored questions (the protocol, and production's).
   * pairs: every b is compared with its own a only (the classic pair-classification protocol).
   */
  protocol?: 'index' | 'pairs';
  usearch: UsearchModule | undefined;
  onProgress?: (line: string) => void;
}

const EMBED_BATCH = 256;

/** What one query found: its nearest stored question (the guard applied) and whether that answer is right. */
interface QueryOutcome {
  similarity: number | undefined;
  /** The matched stored question is the pair's own `a` (by text) and the pair is a duplicate. */
  correct: boolean;
  label: 0 | 1;
}

async function embedAll(embedder: Embedder, texts: readonly string[], onProgress?: (line: string) => void): Promise<Array<Float32Array | undefined>> {
  const vectors: Array<Float32Array | undefined> = [];
  for (let start = 0; start < texts.length; start += EMBED_BATCH) {
    const embedding = await embedder.embed(texts.slice(start, start + EMBED_BATCH));
    vectors.push(...embedding.vectors);
    if (start % (EMBED_BATCH * 40) === 0 && start > 0) onProgress?.(`embedded ${start}/${texts.length}`);
  }
  return vectors;
}

function rate(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : Math.round((numerator / denominator) * 1e6) / 1e6;
}

/**
 * The protocol of `costgate cache eval`. Every distinct `a` is stored (one partition, as one
 * tenant's FAQ would be); then every `b` is asked once, in a seeded random order. A hit is right
 * only when the matched question is the pair's own `a` and the pair is labeled a duplicate: a hit
 * on any other stored question counts as wrong, since nothing says it is right.
 *
 * Fixed thresholds serve every guard-passing nearest neighbour at or above the threshold. The
 * bounded mode is the gateway's decision code run online: it starts knowing nothing; a query the
 * current thresholds do not serve goes "upstream" and its outcome becomes feedback (weight 1);
 * a query they would serve is checked with probability `shadowRate` (weight 1/shadowRate, and it
 * is not a hit) or else served, and a served answer gives no feedback. So the labels are used
 * exactly as production gets its shadow checks: never for the answer about to be served.
 */
export async function evaluateCache(pairs: readonly LabeledPair[], embedder: Embedder, options: EvaluationOptions): Promise<EvaluationReport> {
  const stored = [...new Set(pairs.map((pair) => pair.a))];
  const storedIndex = new Map(stored.map((text, index) => [text, index]));
  options.onProgress?.(`embedding ${stored.length} stored questions and ${pairs.length} queries with ${embedder.id}`);
  const storedVectors = await embedAll(embedder, stored, options.onProgress);
  const queryVectors = await embedAll(embedder, pairs.map((pair) => pair.b), options.onProgress);

  const partition = 'evaluation';
  const tenant = 'evaluation';
  const index = new PartitionedVectorIndex(options.usearch);
  const matcher = new SemanticMatcher(index, options.confidence);
  const entryOf: number[] = [];
  const entryIds: number[] = [];
  for (const [position, text] of stored.entries()) {
    const vector = storedVectors[position];
    if (!vector) continue;
    const entry = await matcher.add({ key: String(position), partition, tenant, prompt: text, feature: undefined, expiresAt: Number.POSITIVE_INFINITY }, vector);
    entryOf[entry.id] = position;
    entryIds[position] = entry.id;
  }
  options.onProgress?.(`indexed ${matcher.size} questions`);

  // Nearest guard-passing neighbour of every query, computed once: fixed thresholds and the
  // bounded mode see the same candidates.
  const outcomes: Array<{ outcome: QueryOutcome; candidate: Awaited<ReturnType<SemanticMatcher['lookup']>>['candidate'] }> = [];
  for (const [position, pair] of pairs.entries()) {
    const vector = queryVectors[position];
    let candidate: Awaited<ReturnType<SemanticMatcher['lookup']>>['candidate'];
    if (vector && options.protocol === 'pairs') {
      const own = storedIndex.get(pair.a);
      const ownVector = own === undefined ? undefined : storedVectors[own];
      const entry = own === undefined ? undefined : matcher.entries.get(entryIds[own] ?? -1);
      const passes = !options.guard || guardMatch(guardFeatures(pair.b), guardFeatures(pair.a)).pass;
      if (entry && ownVector && passes) candidate = { entry, similarity: dot(vector, ownVector) };
    } else if (vector) {
      if (options.guard) candidate = (await matcher.lookup(partition, tenant, vector, pair.b, 0)).candidate;
      else {
        const [nearest] = await index.search(partition, vector, 1);
        const entry = nearest ? matcher.entries.get(nearest.id) : undefined;
        candidate = entry && nearest ? { entry, similarity: nearest.similarity } : undefined;
      }
    }
    const matched = candidate ? entryOf[candidate.entry.id] : undefined;
    const correct = pair.label === 1 && matched !== undefined && matched === storedIndex.get(pair.a);
    outcomes.push({ outcome: { similarity: candidate?.similarity, correct, label: pair.label }, candidate });
  }
  const duplicates = pairs.filter((pair) => pair.label === 1).length;

  const fixed = options.thresholds.map((threshold): FixedRow => {
    let hits = 0;
    let wrong = 0;
    let right = 0;
    for (const { outcome } of outcomes) {
      if (outcome.similarity === undefined || outcome.similarity < threshold) continue;
      hits += 1;
      if (outcome.correct) right += 1;
      else wrong += 1;
    }
    return { threshold, hit_rate: rate(hits, pairs.length), wrong_hit_rate: rate(wrong, hits), recall: rate(right, duplicates) };
  });

  const order = pairs.map((_pair, position) => position);
  const bounded = options.bounds.map((bound): BoundedRow => {
    const random = seededRandom(options.seed);
    // Same shuffled arrival order for every bound.
    const shuffled = [...order];
    const shuffle = seededRandom(options.seed + 1);
    for (let position = shuffled.length - 1; position > 0; position -= 1) {
      const other = Math.floor(shuffle() * (position + 1));
      [shuffled[position], shuffled[other]] = [shuffled[other] as number, shuffled[position] as number];
    }
    const learner = new SemanticMatcher(index, options.confidence, random);
    const policy: MatchPolicy = { errorBound: bound, shadowRate: options.shadowRate, minSimilarity: options.minSimilarity };
    // Fresh per-entry learning for this bound (the index and entries are shared, read-only).
    const learning = new Map<number, EntryLearning>();
    let hits = 0;
    let wrong = 0;
    let right = 0;
    for (const position of shuffled) {
      const { outcome, candidate } = outcomes[position] as (typeof outcomes)[number];
      if (!candidate) continue;
      let entryLearning = learning.get(candidate.entry.id);
      if (!entryLearning) {
        entryLearning = new EntryLearning();
        learning.set(candidate.entry.id, entryLearning);
      }
      const scoped = { entry: { ...candidate.entry, learning: entryLearning }, similarity: candidate.similarity };
      const decision = learner.decide(scoped, policy, 'on');
      if (decision.kind === 'serve') {
        hits += 1;
        if (outcome.correct) right += 1;
        else wrong += 1;
      } else if (decision.kind === 'check' || decision.kind === 'explore') {
        learner.observe(scoped, policy, outcome.correct, decision.weight);
      }
    }
    options.onProgress?.(`bound ${bound}: ${hits} hits, ${wrong} wrong`);
    return { bound, hit_rate: rate(hits, pairs.length), wrong_hit_rate: rate(wrong, hits), recall: rate(right, duplicates) };
  });
  return { fixed, bounded };
}

/** Guard verdicts over labeled pairs, for the report: how often it turns down duplicates vs non-duplicates. */
export function guardRejections(pairs: readonly LabeledPair[]): { duplicates: number; nonDuplicates: number } {
  let duplicates = 0;
  let nonDuplicates = 0;
  for (const pair of pairs) {
    if (guardMatch(guardFeatures(pair.b), guardFeatures(pair.a)).pass) continue;
    if (pair.label === 1) duplicates += 1;
    else nonDuplicates += 1;
  }
  return { duplicates, nonDuplicates };
}
