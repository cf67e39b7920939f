import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Raised when Redis did not answer in time or at all; the stage then applies the fail mode. */
export class CounterStoreUnavailableError extends Error {
  override name = 'CounterStoreUnavailableError';
}

/**
 * A Lua script run by hash (EVALSHA), loaded on NOSCRIPT (after a Redis restart, say). Each run is
 * bounded by `timeoutMs`: a Redis that is down must not hold calls while the client reconnects.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>, timeoutMs: number): Promise<unknown> {
    return withTimeout(
      (async () => {
        try {
          return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
        } catch (error) {
          if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
          return redis.eval(this.source, keys.length, ...keys, ...args);
        }
      })(),
      timeoutMs,
    );
  }
}

export async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CounterStoreUnavailableError(`redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (error) {
    if (error instanceof CounterStoreUnavailableError) throw error;
    throw new CounterStoreUnavailableError(`redis: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
