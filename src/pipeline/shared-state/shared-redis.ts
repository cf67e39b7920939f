import { Redis } from 'ioredis';
import type { RedisConfig } from '../../config/redis-config.ts';

/**
 * The one Redis connection a gateway replica uses for the state it shares with the others (caches,
 * planner evidence; rate limits and budgets take `client` too). Settings fail fast while Redis is
 * down: no offline queue (a command fails at once instead of waiting for a reconnect), a command
 * timeout, reconnection with capped exponential backoff. Callers treat a failure as a cache miss,
 * so a call is never failed because Redis is down; the outage is logged once, and once more on recovery.
 */
export interface SharedRedis {
  readonly client: Redis;
  readonly keyPrefix: string;
  /** The prefixed key for these parts: `${keyPrefix}${parts.join(':')}`. */
  key(...parts: string[]): string;
  /** True while the connection is ready for commands. */
  readonly available: boolean;
  /** Reports a failed command: logged once per outage (at most once a minute while connected), not per command. */
  failed(what: string, error: unknown): void;
  /** Runs `listener` each time the connection becomes ready again after an outage (for resynchronisation). */
  onRecovered(listener: () => void): void;
  /** Resolves when the connection is ready, or after `timeoutMs` (false) so a start never hangs on Redis. */
  whenReady(timeoutMs: number): Promise<boolean>;
  /** A second connection for blocking reads (XREAD BLOCK), whose timeout allows for the block. */
  blockingConnection(blockMs: number): Redis;
  close(): Promise<void>;
}

export interface SharedRedisOptions {
  config: Pick<RedisConfig, 'keyPrefix' | 'commandTimeoutMs' | 'maxReconnectDelayMs'> & { url: string };
  log?: (line: string) => void;
}

const COMMAND_FAILURE_LOG_INTERVAL_MS = 60_000;

/** Backoff between reconnection attempts: 100 ms doubling, capped. */
export function reconnectDelay(attempt: number, maxDelayMs: number): number {
  return Math.min(100 * 2 ** Math.min(attempt - 1, 16), maxDelayMs);
}

function connectionOptions(config: SharedRedisOptions['config']) {
  return {
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails instead of waiting for the reconnect.
    maxRetriesPerRequest: 0,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: Math.max(1_000, config.commandTimeoutMs * 4),
    retryStrategy: (attempt: number) => reconnectDelay(attempt, config.maxReconnectDelayMs),
    // The gateway starts whether or not Redis answers; the connection comes up in the background.
    lazyConnect: false,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createSharedRedis(options: SharedRedisOptions): SharedRedis {
  const { config } = options;
  const log = options.log ?? (() => {});
  const client = new Redis(config.url, connectionOptions(config));
  const blocking: Redis[] = [];
  const recovered: Array<() => void> = [];
  let down = false;
  let closed = false;
  let everReady = false;

  let lastCommandFailure = Number.NEGATIVE_INFINITY;
  const markDown = (what: string, error: unknown) => {
    if (down || closed) return;
    down = true;
    log(`redis unavailable (${what}: ${describe(error)}); shared caches answer as misses until it is back`);
  };
  // A command that failed on a ready connection (a timeout, a full Redis): no outage to wait out,
  // so at most one line a minute rather than one per outage.
  const failed = (what: string, error: unknown) => {
    if (client.status !== 'ready') return markDown(what, error);
    if (closed || Date.now() - lastCommandFailure < COMMAND_FAILURE_LOG_INTERVAL_MS) return;
    lastCommandFailure = Date.now();
    log(`redis command failed (${what}: ${describe(error)}); treated as a cache miss`);
  };
  // ioredis reports every failed reconnection attempt as an error event: one line per outage.
  client.on('error', (error: unknown) => markDown('connection', error));
  client.on('end', () => markDown('connection', new Error('connection closed')));
  client.on('close', () => {
    if (everReady) markDown('connection', new Error('connection lost'));
  });
  client.on('ready', () => {
    const wasDown = down;
    down = false;
    if (wasDown && everReady) log('redis reachable again; shared caches resume');
    const first = !everReady;
    everReady = true;
    if (!first || wasDown) for (const listener of recovered) listener();
  });

  return {
    client,
    keyPrefix: config.keyPrefix,
    key: (...parts) => `${config.keyPrefix}${parts.join(':')}`,
    get available() {
      return client.status === 'ready';
    },
    failed,
    onRecovered(listener) {
      recovered.push(listener);
    },
    whenReady(timeoutMs) {
      if (client.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          client.off('ready', ready);
          resolve(false);
        }, timeoutMs);
        timer.unref();
        const ready = () => {
          clearTimeout(timer);
          resolve(true);
        };
        client.once('ready', ready);
      });
    },
    blockingConnection(blockMs) {
      const connection = client.duplicate({ ...connectionOptions(config), commandTimeout: blockMs + config.commandTimeoutMs * 4 });
      // Failures show on the main connection's log line; this one only retries.
      connection.on('error', () => {});
      blocking.push(connection);
      return connection;
    },
    async close() {
      closed = true;
      for (const connection of blocking) connection.disconnect();
      try {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      } catch {
        client.disconnect();
      }
    },
  };
}
