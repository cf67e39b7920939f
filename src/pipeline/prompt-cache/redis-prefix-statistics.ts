import { randomUUID } from 'node:crypto';
import type { CacheTtl } from '../../providers/cache-layout.ts';
import type { SharedRedis } from '../shared-state/shared-redis.ts';
import { appendEvent, StreamFollower, type StreamEvent } from '../shared-state/stream-follower.ts';
import { MemoryPrefixStatistics, type PrefixCreation, type PrefixRecord, type StatisticsSnapshot } from './prefix-statistics.ts';

/** One change to the evidence, as published to the other replicas. */
type Change =
  | ['observe', key: string, now: number, create: PrefixCreation | null]
  | ['live', key: string, now: number, ttl: CacheTtl]
  | ['dead', key: string]
  | ['implicit', key: string, until: number]
  | ['account', feature: string, now: number, premium: string, savings: string];

const PUBLISH_INTERVAL_MS = 100;
const PUBLISH_BATCH = 500;
/** Changes waiting while Redis is down beyond which the oldest are dropped (the local copy keeps them). */
const MAX_QUEUED = 20_000;
const SNAPSHOT_INTERVAL_MS = 60_000;
/** A deployment gone this long leaves no snapshot behind (the stream is bounded by length). */
const SNAPSHOT_RETENTION_MS = 7 * 24 * 60 * 60_000;

export interface RedisPrefixStatisticsOptions {
  maxPrefixes?: number;
  /** Stream read block (tests shorten it). */
  blockMs?: number;
  publishIntervalMs?: number;
}

/**
 * Prompt-cache evidence shared by every replica. The planner reads synchronously on the request
 * path, so each replica plans from a local copy (the in-memory statistics) and the copies are kept
 * in step by sharing the changes, not the state: every observation, live/dead mark and account entry
 * is applied here and published, in batches, to a Redis stream; the changes of the other replicas
 * are read from it and applied the same way. A snapshot in Redis (written by every replica once a
 * minute, with the stream position it includes) lets a replica that starts later begin from it and
 * read only the changes since. With Redis down each replica goes on with its own evidence.
 */
export class RedisPrefixStatistics extends MemoryPrefixStatistics {
  private readonly origin = randomUUID();
  private queue: Change[] = [];
  private readonly follower: StreamFollower;
  private readonly publisher: NodeJS.Timeout;
  private readonly snapshotter: NodeJS.Timeout;
  private publishing: Promise<void> = Promise.resolve();
  private applyingRemote = false;
  private changedSinceSnapshot = false;
  readonly ready: Promise<void>;

  constructor(
    private readonly redis: SharedRedis,
    options: RedisPrefixStatisticsOptions = {},
  ) {
    super(options.maxPrefixes);
    this.follower = new StreamFollower(redis, redis.key('pc', 'events'), { load: (followed) => this.load(followed), apply: (events) => this.apply(events) }, options.blockMs ? { blockMs: options.blockMs } : {});
    this.ready = this.follower.start();
    this.publisher = setInterval(() => void this.publish(), options.publishIntervalMs ?? PUBLISH_INTERVAL_MS);
    this.publisher.unref();
    this.snapshotter = setInterval(() => void this.writeSnapshot(), SNAPSHOT_INTERVAL_MS);
    this.snapshotter.unref();
  }

  override observe(key: string, now: number, create: PrefixCreation | undefined): PrefixRecord | undefined {
    const record = super.observe(key, now, create);
    if (record) this.record(['observe', key, now, create ?? null]);
    return record;
  }

  override markLive(key: string, now: number, ttl: CacheTtl): void {
    super.markLive(key, now, ttl);
    this.record(['live', key, now, ttl]);
  }

  override markDead(key: string): void {
    super.markDead(key);
    this.record(['dead', key]);
  }

  override markImplicit(key: string, until: number): void {
    super.markImplicit(key, until);
    this.record(['implicit', key, until]);
  }

  override account(feature: string, now: number, premium: bigint, savings: bigint): void {
    super.account(feature, now, premium, savings);
    if (premium !== 0n || savings !== 0n) this.record(['account', feature, now, premium.toString(), savings.toString()]);
  }

  /** Publishes what is queued, writes a snapshot and stops following the stream. */
  async close(): Promise<void> {
    clearInterval(this.publisher);
    clearInterval(this.snapshotter);
    await this.publish();
    await this.writeSnapshot();
    await this.follower.close();
  }

  /** Sends queued changes now (the timer does it every 100 ms). */
  publish(): Promise<void> {
    this.publishing = this.publishing.then(async () => {
      while (this.queue.length > 0 && this.redis.available) {
        const batch = this.queue.slice(0, PUBLISH_BATCH);
        const transaction = this.redis.client.multi();
        appendEvent(transaction, this.redis.key('pc', 'events'), { origin: this.origin, changes: JSON.stringify(batch) });
        try {
          await transaction.exec();
          this.queue = this.queue.slice(batch.length);
        } catch (error) {
          this.redis.failed('prompt-cache statistics publish', error);
          return;
        }
      }
    });
    return this.publishing;
  }

  private record(change: Change): void {
    if (this.applyingRemote) return;
    this.changedSinceSnapshot = true;
    this.queue.push(change);
    if (this.queue.length > MAX_QUEUED) this.queue.splice(0, this.queue.length - MAX_QUEUED);
  }

  private applyChange(change: Change): void {
    switch (change[0]) {
      case 'observe':
        super.observe(change[1], change[2], change[3] ?? undefined);
        break;
      case 'live':
        super.markLive(change[1], change[2], change[3]);
        break;
      case 'dead':
        super.markDead(change[1]);
        break;
      case 'implicit':
        super.markImplicit(change[1], change[2]);
        break;
      case 'account':
        super.account(change[1], change[2], BigInt(change[3]), BigInt(change[4]));
        break;
    }
  }

  private async apply(events: StreamEvent[]): Promise<void> {
    this.applyingRemote = true;
    try {
      for (const { fields } of events) {
        if (fields.origin === this.origin || fields.changes === undefined) continue;
        for (const change of JSON.parse(fields.changes) as Change[]) this.applyChange(change);
        this.changedSinceSnapshot = true;
      }
    } finally {
      this.applyingRemote = false;
    }
  }

  /**
   * At start: the shared snapshot, then the changes after it. After an outage: carry on from the
   * position reached (stream ids grow with time, so even a Redis restarted empty is read correctly).
   */
  private async load(followed: string | undefined): Promise<string | undefined> {
    if (followed !== undefined) return followed;
    const saved = await this.redis.client.hmget(this.redis.key('pc', 'snapshot'), 'through', 'state');
    const [through, state] = saved;
    if (!through || !state) return '0-0';
    this.applyingRemote = true;
    try {
      this.restore(JSON.parse(state) as StatisticsSnapshot);
    } finally {
      this.applyingRemote = false;
    }
    return through;
  }

  private async writeSnapshot(): Promise<void> {
    const through = this.follower.position;
    if (!this.changedSinceSnapshot || through === undefined || !this.redis.available) return;
    this.changedSinceSnapshot = false;
    try {
      const key = this.redis.key('pc', 'snapshot');
      await this.redis.client.multi().hset(key, 'through', through, 'state', JSON.stringify(this.snapshot())).pexpire(key, SNAPSHOT_RETENTION_MS).exec();
    } catch (error) {
      this.changedSinceSnapshot = true;
      this.redis.failed('prompt-cache statistics snapshot', error);
    }
  }
}
