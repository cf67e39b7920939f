import type { ProviderId } from '../../core/provider-id.ts';
import type { Usage } from '../../core/usage.ts';
import type { HeaderMap } from '../context.ts';

/** What the semantic cache keeps beside a stored answer so it can find it by meaning. */
export interface SemanticAttachment {
  /** Tenant plus everything but the question (model, system prompt, parameters): matches never leave it. */
  partition: string;
  /** The question as asked, for the negation/number/entity guard. */
  prompt: string;
  /** Unit-length embedding of the prompt. */
  vector: Float32Array;
  feature: string | undefined;
}

/** One cached answer: the bytes the client received, and what the call that produced it cost. */
export interface CachedResponse {
  /** Exact-cache key (hex). */
  key: string;
  tenant: string;
  provider: ProviderId;
  endpoint: string;
  stream: boolean;
  status: number;
  headers: HeaderMap;
  /** The whole response body: JSON, or the stream exactly as sent (SSE or AWS event-stream frames). */
  body: Buffer;
  requestedModel: string | undefined;
  servedModel: string | undefined;
  stopReason: string | undefined;
  /** Usage the original call was billed for: the cost a hit avoids. */
  usage: Usage | undefined;
  /** The ledger request id of the call that produced it. */
  requestId: string;
  /** Epoch ms. */
  createdAt: number;
  expiresAt: number;
  semantic?: SemanticAttachment;
}

export interface StoreListener {
  added?(entry: CachedResponse): void;
  /** Evicted, expired, replaced or deleted. */
  removed?(entry: CachedResponse): void;
}

/**
 * Where answers are kept. Asynchronous so a shared (Redis) store can implement it; the
 * in-process one answers at once.
 */
export interface ResponseStore {
  get(key: string, now: number): Promise<CachedResponse | undefined>;
  /** Like `get`, without counting as a use. */
  peek(key: string): Promise<CachedResponse | undefined>;
  set(entry: CachedResponse): Promise<void>;
  delete(key: string): Promise<void>;
  subscribe(listener: StoreListener): void;
  /** Entries present now (for rebuilding an index). */
  entries(): Iterable<CachedResponse>;
  readonly size: number;
  readonly bytes: number;
  /** Resolves once persisted entries are loaded. */
  readonly ready: Promise<void>;
  /** Waits for pending writes. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const ENTRY_OVERHEAD_BYTES = 512;

/** Bytes an entry holds in memory: body, headers, vector, and a fixed overhead for the rest. */
export function entryBytes(entry: CachedResponse): number {
  let bytes = entry.body.length + ENTRY_OVERHEAD_BYTES;
  for (const [name, value] of Object.entries(entry.headers)) bytes += name.length + (Array.isArray(value) ? value.join(', ').length : value.length);
  if (entry.semantic) bytes += entry.semantic.vector.byteLength + entry.semantic.prompt.length * 2 + entry.semantic.partition.length;
  return bytes;
}

export interface MemoryStoreOptions {
  maxBytes: number;
  /** Called with entries as they enter or leave, for persistence. */
  persistence?: StoreListener;
}

/**
 * Least-recently-used by bytes, with per-entry expiry. A Map keeps insertion order, so moving an
 * entry to the end on each read makes the first entry the least recently used.
 */
export class MemoryResponseStore implements ResponseStore {
  private readonly map = new Map<string, CachedResponse>();
  private readonly listeners: StoreListener[] = [];
  private totalBytes = 0;
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly options: MemoryStoreOptions) {
    if (options.persistence) this.listeners.push(options.persistence);
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  subscribe(listener: StoreListener): void {
    this.listeners.push(listener);
  }

  async get(key: string, now: number): Promise<CachedResponse | undefined> {
    return this.getNow(key, now);
  }

  async peek(key: string): Promise<CachedResponse | undefined> {
    return this.map.get(key);
  }

  /** The synchronous read behind `get`. */
  getNow(key: string, now: number): CachedResponse | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.remove(entry);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, entry);
    return entry;
  }

  async set(entry: CachedResponse): Promise<void> {
    this.insert(entry, true);
  }

  /** Adds an entry; `notifyPersistence` is false when it comes from persistence itself. */
  insert(entry: CachedResponse, notifyPersistence: boolean): void {
    const size = entryBytes(entry);
    if (size > this.options.maxBytes) return;
    const previous = this.map.get(entry.key);
    if (previous) this.remove(previous, notifyPersistence);
    this.map.set(entry.key, entry);
    this.totalBytes += size;
    for (const listener of this.listeners) if (notifyPersistence || listener !== this.options.persistence) listener.added?.(entry);
    while (this.totalBytes > this.options.maxBytes) {
      const oldest = this.map.values().next().value;
      if (!oldest) break;
      this.remove(oldest);
    }
  }

  async delete(key: string): Promise<void> {
    const entry = this.map.get(key);
    if (entry) this.remove(entry);
  }

  /** Drops expired entries; cheap enough to run every minute over 100k entries. */
  sweep(now: number): number {
    let removed = 0;
    for (const entry of [...this.map.values()]) {
      if (entry.expiresAt <= now) {
        this.remove(entry);
        removed += 1;
      }
    }
    return removed;
  }

  entries(): Iterable<CachedResponse> {
    return this.map.values();
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  private remove(entry: CachedResponse, notifyPersistence = true): void {
    if (this.map.get(entry.key) !== entry) return;
    this.map.delete(entry.key);
    this.totalBytes -= entryBytes(entry);
    for (const listener of this.listeners) if (notifyPersistence || listener !== this.options.persistence) listener.removed?.(entry);
  }
}
