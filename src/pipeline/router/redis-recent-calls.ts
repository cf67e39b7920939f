import type { SharedRedis } from '../shared-state/shared-redis.ts';
import { type RecentCall, RecentCalls } from './recent-calls.ts';

/** A remembered prompt longer than this is cut in the shared copy (the local one keeps it whole). */
const MAX_SHARED_PROMPT_CHARACTERS = 32_000;
const MAX_PENDING_WRITES = 1_000;

/**
 * Recent routed calls shared by the replicas: feedback may reach another replica than the one that
 * served the call. Each call is remembered locally as before and also written to Redis
 * (`<prefix>recent:<requestId>`, expiring after the same hour) in the background; a lookup that
 * misses locally reads Redis. With Redis down, feedback falls back to the ledger row (without the prompt).
 */
export class RedisRecentCalls extends RecentCalls {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly redis: SharedRedis,
    maxEntries?: number,
    private readonly ageMs = 60 * 60_000,
    clock?: () => number,
    maxCharacters?: number,
  ) {
    super(maxEntries, ageMs, clock, maxCharacters);
  }

  override remember(requestId: string, call: Omit<RecentCall, 'at'>): void {
    super.remember(requestId, call);
    const stored = this.get(requestId);
    if (!stored || !this.redis.available || this.pending.size >= MAX_PENDING_WRITES) return;
    const shared: RecentCall = { ...stored, prompt: stored.prompt?.slice(0, MAX_SHARED_PROMPT_CHARACTERS) };
    const write = this.redis.client
      .set(this.redis.key('recent', requestId), JSON.stringify(shared), 'PX', this.ageMs)
      .catch((error: unknown) => this.redis.failed('recent calls write', error))
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  override async lookup(requestId: string): Promise<RecentCall | undefined> {
    const local = this.get(requestId);
    if (local || !this.redis.available) return local;
    try {
      const value = await this.redis.client.get(this.redis.key('recent', requestId));
      return value ? (JSON.parse(value) as RecentCall) : undefined;
    } catch (error) {
      this.redis.failed('recent calls read', error);
      return undefined;
    }
  }

  /** Waits for background writes. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
