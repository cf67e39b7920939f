import type { ChainableCommander, Redis } from 'ioredis';
import { reconnectDelay, type SharedRedis } from './shared-redis.ts';

/** One change another replica published: its stream id and its fields. */
export interface StreamEvent {
  id: string;
  fields: Record<string, string>;
}

export interface StreamHandlers {
  /**
   * Loads the whole shared state (at start, and after any outage or read failure, when events may
   * have been missed). Events published after the load began are read afterwards, so `apply` must
   * accept changes it already holds. `followed` is the position reached before (undefined at start);
   * an id returned is where reading resumes instead of the stream's newest event (a snapshot's own id).
   */
  load(followed: string | undefined): Promise<string | undefined | void>;
  /** Applies events in stream order. */
  apply(events: StreamEvent[]): Promise<void>;
}

export interface StreamFollowerOptions {
  /** How long one XREAD waits for new events. */
  blockMs?: number;
  /** Events read at a time. */
  count?: number;
  /** How long the first load waits for Redis before the replica starts without it. */
  startTimeoutMs?: number;
}

/** Approximate bound on a stream's length: enough for a replica to catch up after a pause. */
export const STREAM_MAX_LENGTH = 10_000;

/** Queues an XADD of `fields` onto `transaction`, trimming the stream to about `maxLength` events. */
export function appendEvent(transaction: ChainableCommander, streamKey: string, fields: Record<string, string>, maxLength = STREAM_MAX_LENGTH): void {
  transaction.xadd(streamKey, 'MAXLEN', '~', String(maxLength), '*', ...Object.entries(fields).flat());
}

function waitReady(connection: Redis, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    connection.once('ready', done);
  });
}

/**
 * Keeps a replica's local copy of shared state in step with a Redis stream: load everything, then
 * XREAD from the last id seen, on a connection of its own (a blocking read would hold up other
 * commands). Any failure (Redis down, a read timing out) means events may have been missed, so the
 * next successful round loads everything again before following the stream.
 */
export class StreamFollower {
  private readonly reader: Redis;
  private readonly blockMs: number;
  private readonly count: number;
  private readonly startTimeoutMs: number;
  private lastId = '0-0';
  private followed: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private startedResolve: () => void = () => {};
  /** Resolves after the first load, or once it has failed, so a start never waits on Redis for long. */
  readonly started: Promise<void>;

  constructor(
    private readonly redis: SharedRedis,
    readonly streamKey: string,
    private readonly handlers: StreamHandlers,
    options: StreamFollowerOptions = {},
  ) {
    this.blockMs = options.blockMs ?? 2_000;
    this.count = options.count ?? 500;
    this.startTimeoutMs = options.startTimeoutMs ?? 2_000;
    this.reader = redis.blockingConnection(this.blockMs);
    this.started = new Promise((resolve) => {
      this.startedResolve = resolve;
    });
  }

  start(): Promise<void> {
    this.loop ??= this.run();
    return this.started;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needsLoad = true;
    await Promise.all([this.redis.whenReady(this.startTimeoutMs), waitReady(this.reader, this.startTimeoutMs)]);
    while (!this.closed) {
      try {
        if (needsLoad) {
          // The id first, then the state: an event in between is applied twice, never missed.
          const last = await this.redis.client.xrevrange(this.streamKey, '+', '-', 'COUNT', 1);
          const newest = last[0]?.[0] ?? '0-0';
          this.lastId = (await this.handlers.load(this.followed)) ?? newest;
          this.followed = this.lastId;
          needsLoad = false;
          this.startedResolve();
        }
        if (this.reader.status !== 'ready') await waitReady(this.reader, this.blockMs);
        const reply = (await this.reader.xread('COUNT', this.count, 'BLOCK', this.blockMs, 'STREAMS', this.streamKey, this.lastId)) as
          | Array<[string, Array<[string, string[]]>]>
          | null;
        failures = 0;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) continue;
        const events = entries.map(([id, flat]) => {
          const fields: Record<string, string> = {};
          for (let index = 0; index + 1 < flat.length; index += 2) fields[flat[index] as string] = flat[index + 1] as string;
          return { id, fields };
        });
        this.lastId = events[events.length - 1]?.id ?? this.lastId;
        this.followed = this.lastId;
        await this.handlers.apply(events);
      } catch (error) {
        if (this.closed) break;
        this.redis.failed(`reading ${this.streamKey}`, error);
        needsLoad = true;
        this.startedResolve();
        failures += 1;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, reconnectDelay(failures, 2_000));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** The stream position reached: events up to this id are applied (undefined before the first load). */
  get position(): string | undefined {
    return this.followed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.startedResolve();
    this.wake?.();
    this.reader.disconnect();
    await this.loop;
  }
}
