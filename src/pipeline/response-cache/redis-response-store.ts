import { randomUUID } from 'node:crypto';
import type { SharedRedis } from '../shared-state/shared-redis.ts';
import { appendEvent, StreamFollower, type StreamEvent } from '../shared-state/stream-follower.ts';
import { decodeEntry, encodeEntry } from './file-persistence.ts';
import { entryBytes, type CachedResponse, type ResponseStore, type StoreListener } from './response-store.ts';

/** Headers, the JSON header and a vector on top of the body: what an entry may add to `maxEntryBytes`. */
const VALUE_HEADROOM_BYTES = 256 * 1024;
/** Background writes in flight beyond which new ones are dropped: it is a cache, not a log. */
const MAX_PENDING_WRITES = 1_000;
const LOAD_BATCH = 500;
const START_TIMEOUT_MS = 2_000;

export interface RedisStoreOptions {
  /** Largest body stored; an entry whose encoded value exceeds it plus headroom is not stored. */
  maxEntryBytes: number;
  /** Stream read options (tests shorten the block). */
  blockMs?: number;
}

/**
 * The response cache in Redis, shared by every replica that names the same Redis and key prefix.
 *
 *   <prefix>rc:entry:<key>     the whole entry (file-persistence.ts encoding), expiring with it
 *   <prefix>rc:semantic:<key>  the same without its body, for entries indexed by meaning
 *   <prefix>rc:semantic        sorted set of those keys by expiry, to load them at start
 *   <prefix>rc:events          stream of semantic additions and removals
 *
 * Exact lookups read Redis. Entries carrying a vector are also mirrored (without bodies) in every
 * replica, fed by the stream, so each replica's in-memory vector index holds every replica's entries;
 * `entries()`, `size` and `bytes` describe that mirror. Keys already carry the tenant (cache-policy.ts),
 * and the stages compare the stored tenant too, as with the in-memory store. Every Redis failure is a
 * miss (reads) or a dropped write, never an error for the call.
 */
export class RedisResponseStore implements ResponseStore {
  private readonly mirror = new Map<string, CachedResponse>();
  private readonly listeners: StoreListener[] = [];
  private readonly pending = new Set<Promise<void>>();
  /** Started by the first subscriber (the semantic index): an exact-only cache needs no mirror. */
  private follower: StreamFollower | undefined;
  private readonly origin = randomUUID();
  private mirrorBytes = 0;
  /** The connection is up (or a short wait for it ended); with a subscriber, the shared entries are loaded too. */
  ready: Promise<void>;

  constructor(
    private readonly redis: SharedRedis,
    private readonly options: RedisStoreOptions,
  ) {
    this.ready = redis.whenReady(START_TIMEOUT_MS).then(() => {});
  }

  get size(): number {
    return this.mirror.size;
  }

  get bytes(): number {
    return this.mirrorBytes;
  }

  subscribe(listener: StoreListener): void {
    this.listeners.push(listener);
    if (!this.follower) {
      this.follower = new StreamFollower(this.redis, this.key('events'), { load: () => this.load(), apply: (events) => this.apply(events) }, this.options.blockMs ? { blockMs: this.options.blockMs } : {});
      this.ready = this.follower.start();
    }
  }

  async get(key: string, now: number): Promise<CachedResponse | undefined> {
    const entry = await this.read(key);
    return entry && entry.expiresAt > now ? entry : undefined;
  }

  async peek(key: string): Promise<CachedResponse | undefined> {
    return this.read(key);
  }

  /** Stored in the background: the answer is on its way to the client already. */
  async set(entry: CachedResponse): Promise<void> {
    const ttlMs = entry.expiresAt - Date.now();
    if (ttlMs <= 0) return;
    const value = encodeEntry(entry);
    if (value.length > this.options.maxEntryBytes + VALUE_HEADROOM_BYTES) return;
    // Not stored, not indexed: with Redis down every lookup is a miss anyway.
    if (!this.redis.available || this.pending.size >= MAX_PENDING_WRITES) return;
    if (entry.semantic) this.remember(indexView(entry));
    else if (this.mirror.has(entry.key)) this.forget(entry.key);
    this.emit('added', entry);
    const transaction = this.redis.client.multi().set(this.key('entry', entry.key), value, 'PX', ttlMs);
    if (entry.semantic) {
      transaction
        .set(this.key('semantic', entry.key), encodeEntry({ ...entry, body: Buffer.alloc(0) }), 'PX', ttlMs)
        .zadd(this.key('semantic'), entry.expiresAt, entry.key);
      appendEvent(transaction, this.key('events'), { op: 'add', key: entry.key, request: entry.requestId, origin: this.origin });
    } else {
      // Replacing an entry that had a vector: the other replicas drop it from their index.
      transaction.del(this.key('semantic', entry.key)).zrem(this.key('semantic'), entry.key);
    }
    this.track(transaction.exec().then(() => {}));
  }

  async delete(key: string): Promise<void> {
    const previous = this.mirror.get(key);
    this.forget(key);
    if (!this.redis.available) return;
    const transaction = this.redis.client.multi().del(this.key('entry', key), this.key('semantic', key)).zrem(this.key('semantic'), key);
    appendEvent(transaction, this.key('events'), { op: 'del', key, request: previous?.requestId ?? '', origin: this.origin });
    try {
      await transaction.exec();
    } catch (error) {
      this.redis.failed('response cache delete', error);
    }
  }

  entries(): Iterable<CachedResponse> {
    return this.mirror.values();
  }

  /** Waits for background writes. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.follower?.close();
  }

  /** Run every minute by the cache: drops expired entries from the mirror (Redis expires its own keys) and from the shared sorted set. */
  sweep(now: number): number {
    let removed = 0;
    for (const entry of [...this.mirror.values()]) {
      if (entry.expiresAt <= now) {
        this.forget(entry.key);
        removed += 1;
      }
    }
    if (this.redis.available) {
      this.track(
        this.redis.client
          .zremrangebyscore(this.key('semantic'), '-inf', now)
          .then(() => {}),
      );
    }
    return removed;
  }

  private key(...parts: string[]): string {
    return this.redis.key('rc', ...parts);
  }

  private async read(key: string): Promise<CachedResponse | undefined> {
    if (!this.redis.available) return undefined;
    try {
      const value = await this.redis.client.getBuffer(this.key('entry', key));
      return value ? decodeEntry(value) : undefined;
    } catch (error) {
      this.redis.failed('response cache read', error);
      return undefined;
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.redis.failed('response cache write', error)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private emit(kind: 'added' | 'removed', entry: CachedResponse): void {
    for (const listener of this.listeners) listener[kind]?.(entry);
  }

  private remember(entry: CachedResponse): void {
    const previous = this.mirror.get(entry.key);
    if (previous) {
      this.mirror.delete(entry.key);
      this.mirrorBytes -= entryBytes(previous);
      this.emit('removed', previous);
    }
    this.mirror.set(entry.key, entry);
    this.mirrorBytes += entryBytes(entry);
  }

  private forget(key: string): void {
    const previous = this.mirror.get(key);
    if (!previous) return;
    this.mirror.delete(key);
    this.mirrorBytes -= entryBytes(previous);
    this.emit('removed', previous);
  }

  /** Mirrors a shared entry another replica stored (or that was there at load), unless already held. */
  private adopt(entry: CachedResponse, now: number): void {
    if (entry.expiresAt <= now || !entry.semantic) return;
    if (this.mirror.get(entry.key)?.requestId === entry.requestId) return;
    this.remember(entry);
    this.emit('added', entry);
  }

  private async fetchSemantic(keys: string[]): Promise<CachedResponse[]> {
    const found: CachedResponse[] = [];
    for (let start = 0; start < keys.length; start += LOAD_BATCH) {
      const batch = keys.slice(start, start + LOAD_BATCH);
      const values = await this.redis.client.mgetBuffer(...batch.map((key) => this.key('semantic', key)));
      for (const value of values) {
        const entry = value ? decodeEntry(value) : undefined;
        if (entry) found.push(entry);
      }
    }
    return found;
  }

  /** Every live semantic entry in Redis, reconciled with the mirror. */
  private async load(): Promise<void> {
    const now = Date.now();
    // Entries stored here while the load runs may not be in what it read: only older ones are dropped.
    const held = new Map(this.mirror);
    const keys = await this.redis.client.zrangebyscore(this.key('semantic'), now, '+inf');
    const entries = await this.fetchSemantic(keys);
    const live = new Set(entries.map((entry) => entry.key));
    for (const [key, entry] of held) if (!live.has(key) && this.mirror.get(key) === entry) this.forget(key);
    for (const entry of entries) this.adopt(entry, now);
  }

  private async apply(events: StreamEvent[]): Promise<void> {
    const now = Date.now();
    for (const { fields } of events) {
      const { op, key, request, origin } = fields;
      if (origin === this.origin || key === undefined) continue;
      if (op === 'del') {
        // A delete of an older entry under the same key leaves the newer one in place.
        const held = this.mirror.get(key);
        if (held && (!request || held.requestId === request)) this.forget(key);
      } else if (op === 'add') {
        // The entry as it is now: a later replacement or removal shows up here already.
        const [entry] = await this.fetchSemantic([key]);
        if (entry) this.adopt(entry, now);
      }
    }
  }
}

/** The entry as the index sees it: everything but the body, which stays in Redis. */
function indexView(entry: CachedResponse): CachedResponse {
  return { ...entry, body: Buffer.alloc(0) };
}
