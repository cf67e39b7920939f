import { join } from 'node:path';
import type { ResponseCacheConfig } from '../../config/response-cache-config.ts';
import type { ResponseCacheView } from '../../providers/response-cache-view.ts';
import type { SharedRedis } from '../shared-state/shared-redis.ts';
import { CachePolicies, type RequestCacheControl, type ResolvedCachePolicy } from './cache-policy.ts';
import { FilePersistence } from './file-persistence.ts';
import type { RecordingSink } from './recorded-response.ts';
import { RedisResponseStore } from './redis-response-store.ts';
import { MemoryResponseStore, type ResponseStore, type SemanticAttachment } from './response-store.ts';

/** How a call met the response cache, as recorded in the ledger's cache_status column. */
export type CacheStatus = 'miss' | 'exact_hit' | 'semantic_hit' | 'shadow' | 'bypass';

/** The response cache's view of one call, shared by the exact and semantic stages. */
export interface ResponseCacheCall {
  key: string;
  tenant: string;
  policy: ResolvedCachePolicy;
  view: ResponseCacheView;
  control: RequestCacheControl;
  /** Set by the semantic stage: store the answer (even if the exact policy does not) and index it by meaning. */
  semantic: SemanticAttachment | undefined;
  /** Records a streamed answer so it can be stored; undefined for buffered responses. */
  recorder: RecordingSink | undefined;
}

const SWEEP_INTERVAL_MS = 60_000;

/** The cache shared by both stages: policies and the bounded store (persisted under the data folder). */
export class ResponseCache {
  readonly policies: CachePolicies;
  readonly store: ResponseStore;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly config: ResponseCacheConfig,
    dataDir: string | undefined,
    log: (line: string) => void = () => {},
    /** Shared by the gateway's replicas: entries live in Redis instead of this process and its files. */
    redis?: SharedRedis,
  ) {
    this.policies = new CachePolicies(config);
    if (redis) {
      const shared = new RedisResponseStore(redis, { maxEntryBytes: config.maxEntryBytes });
      this.store = shared;
      this.sweeper = setInterval(() => shared.sweep(Date.now()), SWEEP_INTERVAL_MS);
      this.sweeper.unref();
      return;
    }
    const persistence = config.persist && dataDir ? new FilePersistence(join(dataDir, 'response-cache', 'entries'), (error) => log(`response cache write failed: ${String(error)}`)) : undefined;
    const store = new MemoryResponseStore({ maxBytes: config.maxBytes, ...(persistence ? { persistence } : {}) });
    if (persistence) {
      store.ready = persistence
        .load(Date.now(), (entry) => store.insert(entry, false))
        .then(() => {})
        .catch((error: unknown) => log(`response cache load failed: ${String(error)}`));
      store.flush = () => persistence.flush();
    }
    this.store = store;
    this.sweeper = setInterval(() => store.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.store.flush();
    await this.store.close();
  }
}
