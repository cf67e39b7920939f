import type { Redis } from 'ioredis';
import { retryAfterSeconds, windowOf, WINDOW_MS, type RateLimiter, type RateOutcome, type RateRequest } from './rate-limiter.ts';
import { RedisScript } from './redis-script.ts';

// KEYS: 1 requests in the window, 2 tokens in the window. ARGV: 1 request limit (-1 none), 2 token limit (-1 none), 3 tokens, 4 ttl ms.
// Same rule as rateDecision in rate-limiter.ts.
const ACQUIRE = new RedisScript(`
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local tokens = tonumber(redis.call('GET', KEYS[2]) or '0')
local requestLimit = tonumber(ARGV[1])
local tokenLimit = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
if requestLimit >= 0 and requests + 1 > requestLimit then return 1 end
if tokenLimit >= 0 and tokens > 0 and tokens + wanted > tokenLimit then return 2 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBY', KEYS[2], wanted)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 0
`);

// KEYS: 1 tokens in the window. ARGV: 1 delta. A window that expired meanwhile is left alone.
const ADJUST = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  local value = redis.call('INCRBY', KEYS[1], ARGV[1])
  if value < 0 then redis.call('SET', KEYS[1], '0', 'KEEPTTL') end
end
return 1
`);

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly timeoutMs = 500,
  ) {}

  private keys(keyId: string, window: number): [string, string] {
    const base = `${this.prefix}rate:{${keyId}}:${window}`;
    return [`${base}:requests`, `${base}:tokens`];
  }

  async acquire(request: RateRequest): Promise<RateOutcome> {
    const window = windowOf(request.now);
    const args = [request.requestsPerMinute ?? -1, request.tokensPerMinute ?? -1, request.tokens, 2 * WINDOW_MS];
    const reply = await ACQUIRE.run(this.redis, this.keys(request.keyId, window), args, this.timeoutMs);
    if (reply === 0) return { allowed: true, window };
    return { allowed: false, limit: reply === 1 ? 'requests' : 'tokens', retryAfterSeconds: retryAfterSeconds(window, request.now) };
  }

  async adjust(keyId: string, window: number, delta: number): Promise<void> {
    if (delta === 0) return;
    await ADJUST.run(this.redis, [this.keys(keyId, window)[1]], [delta], this.timeoutMs);
  }
}
