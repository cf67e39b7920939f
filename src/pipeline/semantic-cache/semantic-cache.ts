import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResponseCacheConfig } from '../../config/response-cache-config.ts';
import type { ParsedCall } from '../../providers/provider.ts';
import type { ResponseCache } from '../response-cache/response-cache.ts';
import type { CachedResponse, SemanticAttachment } from '../response-cache/response-store.ts';
import { EntryLearning } from './bounded-threshold.ts';
import type { Embedder } from './embedder.ts';
import { SemanticMatcher } from './semantic-matcher.ts';
import type { VectorIndex } from './vector-index.ts';

const SNAPSHOT_INTERVAL_MS = 60_000;
const SNAPSHOT_VERSION = 1;

interface LearningSnapshot {
  version: number;
  embedder: string;
  calibrators: Record<string, { observations?: Array<[number, number, number]> }>;
  entries: Record<string, { maxWrong: number; own: Array<[number, number, number]> }>;
}

/**
 * Where matches never cross: the embedder (vectors of two models are not comparable), the tenant,
 * the feature, the route, the model, the stream flag and everything in the request but the question.
 */
export function semanticPartition(embedderId: string, tenant: string, feature: string | undefined, call: ParsedCall, context: string): string {
  const { operation } = call;
  return createHash('sha256')
    .update(`${embedderId}\u0000${tenant}\u0000${feature ?? ''}\u0000${operation.provider}\u0000${operation.endpoint}\u0000${call.model ?? ''}\u0000${call.stream ? 1 : 0}\u0000`)
    .update(context)
    .digest('hex');
}

/**
 * The gateway's semantic cache: the matcher kept in step with the response store (entries that
 * carry a vector are indexed when stored and dropped when evicted or expired), bounded in entries,
 * with what it learned written to the data folder off the response path.
 */
export class SemanticCache {
  readonly matcher: SemanticMatcher;
  readonly ready: Promise<void>;
  private readonly lastUse = new Map<string, true>();
  private readonly snapshotPath: string | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private loaded = false;
  private readonly work = new Set<Promise<void>>();
  private saved: LearningSnapshot | undefined;

  constructor(
    readonly cache: ResponseCache,
    readonly embedder: Embedder,
    index: VectorIndex,
    private readonly config: ResponseCacheConfig['semantic'],
    dataDir: string | undefined,
    private readonly log: (line: string) => void = () => {},
    random: () => number = Math.random,
    /** Awaited before the first lookup (the vector index's native module loading, say). */
    private readonly before: Promise<void> = Promise.resolve(),
  ) {
    this.matcher = new SemanticMatcher(index, config.confidence, random);
    this.snapshotPath = cache.config.persist && dataDir ? join(dataDir, 'semantic-cache', 'learning.json') : undefined;
    cache.store.subscribe({
      added: (entry) => {
        // Indexing an HNSW node takes up to a few milliseconds: never on the response path.
        // While loading, the bulk pass after the store is ready indexes everything at once.
        if (entry.semantic && this.loaded) this.track(new Promise((resolve) => setImmediate(resolve)).then(() => this.index(entry)));
      },
      removed: (entry) => {
        if (entry.semantic) void this.forget(entry.key);
      },
    });
    this.ready = this.load();
    if (this.snapshotPath) {
      this.timer = setInterval(() => void this.save(), SNAPSHOT_INTERVAL_MS);
      this.timer.unref();
    }
  }

  private async load(): Promise<void> {
    await this.before;
    if (this.snapshotPath) {
      try {
        const saved = JSON.parse(await readFile(this.snapshotPath, 'utf8')) as LearningSnapshot;
        if (saved.version === SNAPSHOT_VERSION && saved.embedder === this.embedder.id) this.saved = saved;
      } catch {
        // No snapshot yet, or unreadable: start learning afresh.
      }
    }
    await this.cache.store.ready;
    const items = [];
    for (const entry of this.cache.store.entries()) {
      if (!entry.semantic || this.matcher.idOf(entry.key) !== undefined) continue;
      items.push({ entry: this.matchEntry(entry, entry.semantic), vector: entry.semantic.vector });
    }
    this.matcher.addMany(items);
    for (const { entry } of items) this.touch(entry.key);
    this.loaded = true;
    for (const [name, state] of Object.entries(this.saved?.calibrators ?? {})) {
      const [feature, bound] = name.split('\u0000');
      const calibrator = this.matcher.calibrator(feature || undefined, { errorBound: Number(bound), shadowRate: 0, minSimilarity: -1 });
      calibrator.load(state);
    }
    this.saved = undefined;
  }

  private async index(entry: CachedResponse): Promise<void> {
    const semantic = entry.semantic;
    // Evicted or replaced between being stored and being indexed: nothing to index. (Compared by
    // the call that produced it: a shared store returns a fresh copy of the same entry.)
    if (!semantic || (await this.cache.store.peek(entry.key))?.requestId !== entry.requestId) return;
    await this.matcher.add(this.matchEntry(entry, semantic), semantic.vector);
    // Once indexed the vector lives in the index (and in the entry's file), not twice in memory.
    this.touch(entry.key);
    while (this.matcher.size > this.config.maxEntries) {
      const oldest = this.lastUse.keys().next().value;
      if (oldest === undefined) break;
      this.lastUse.delete(oldest);
      await this.cache.store.delete(oldest);
      await this.matcher.remove(oldest);
    }
  }

  private matchEntry(entry: CachedResponse, semantic: SemanticAttachment) {
    const learning = new EntryLearning();
    const saved = this.saved?.entries[entry.key];
    if (saved) {
      learning.maxWrong = saved.maxWrong;
      learning.own = saved.own.map(([similarity, correct, weight]) => ({ similarity, correct: correct === 1, weight }));
    }
    return { key: entry.key, partition: semantic.partition, tenant: entry.tenant, prompt: semantic.prompt, feature: semantic.feature, expiresAt: entry.expiresAt, learning };
  }

  private async forget(key: string): Promise<void> {
    this.lastUse.delete(key);
    await this.matcher.remove(key);
  }

  /** Runs background work (indexing, answer checks) so `idle` and `close` can wait for it. */
  track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.log(`semantic cache: ${String(error)}`)).finally(() => this.work.delete(tracked));
    this.work.add(tracked);
  }

  /** Resolves once no background work is pending. */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.all([...this.work]);
  }

  touch(key: string): void {
    this.lastUse.delete(key);
    this.lastUse.set(key, true);
  }

  markDirty(): void {
    this.dirty = true;
  }

  snapshot(): LearningSnapshot {
    const calibrators: LearningSnapshot['calibrators'] = {};
    for (const [name, calibrator] of this.matcher.allCalibrators()) calibrators[name] = calibrator.toJSON();
    const entries: LearningSnapshot['entries'] = {};
    for (const entry of this.matcher.entries.values()) {
      const { learning } = entry;
      if (learning.own.length === 0) continue;
      entries[entry.key] = {
        maxWrong: Number.isFinite(learning.maxWrong) ? learning.maxWrong : -2,
        own: learning.own.map((item) => [item.similarity, item.correct ? 1 : 0, item.weight]),
      };
    }
    return { version: SNAPSHOT_VERSION, embedder: this.embedder.id, calibrators, entries };
  }

  async save(): Promise<void> {
    if (!this.snapshotPath || !this.dirty) return;
    this.dirty = false;
    try {
      mkdirSync(join(this.snapshotPath, '..'), { recursive: true });
      const temporary = `${this.snapshotPath}.tmp`;
      await writeFile(temporary, JSON.stringify(this.snapshot()));
      await rename(temporary, this.snapshotPath);
    } catch (error) {
      this.log(`semantic cache snapshot failed: ${String(error)}`);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.idle();
    await this.save();
  }
}
