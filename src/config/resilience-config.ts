import { z } from 'zod';

/**
 * Upstream resilience: retries with backoff, a circuit breaker per upstream, timeouts, and
 * per-feature fallbacks to alternate providers or models. Retries and the breaker are on by
 * default (what users of other gateways expect); fallbacks exist only where configured.
 */
const retries = z.strictObject({
  /** Upstream attempts per call, the first included. 1 turns retries off. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** Full-jitter exponential backoff: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))]. */
  baseDelayMs: z.number().int().nonnegative().default(250),
  maxDelayMs: z.number().int().nonnegative().default(8_000),
  /**
   * retry-after / retry-after-ms are honoured up to this long; a longer wait is not held against the
   * client's connection: the call goes to a fallback or the error goes back to the client.
   */
  maxRetryAfterMs: z.number().int().nonnegative().default(20_000),
});

const timeouts = z.strictObject({
  connectMs: z.number().int().positive().default(10_000),
  /** Until the upstream's response headers (long non-streamed generations answer only at the end). */
  firstByteMs: z.number().int().positive().default(10 * 60_000),
  /** Longest pause between two chunks of a response body. */
  idleMs: z.number().int().positive().default(10 * 60_000),
});

const circuitBreaker = z.strictObject({
  enabled: z.boolean().default(true),
  /** 'model': one breaker per provider, base URL and model; 'upstream': per provider and base URL. */
  scope: z.enum(['model', 'upstream']).default('model'),
  /** Opens when a window holds at least this many failures (5xx, 529, timeouts, unreachable)... */
  failureThreshold: z.number().int().min(1).default(5),
  /** ...and they are at least this share of the window's calls. */
  failureRate: z.number().gt(0).max(1).default(0.5),
  windowMs: z.number().int().positive().default(30_000),
  /** Open for this long, then one probe call decides between closed and open again. */
  cooldownMs: z.number().int().positive().default(30_000),
});

const alternate = z.strictObject({
  provider: z.enum(['openai', 'anthropic', 'bedrock']),
  model: z.string().min(1),
});

/** Requested model -> alternates tried in order when it fails after retries or its breaker is open. */
const fallbackTable = z.record(z.string().min(1), z.array(alternate).min(1));

const fallbacks = z.strictObject({
  /** Calls whose feature has no table of its own (or no feature). */
  default: fallbackTable.default({}),
  features: z.record(z.string(), fallbackTable).default({}),
});

export const resilienceConfigSchema = z
  .strictObject({
    retries: retries.default({ maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 20_000 }),
    timeouts: timeouts.default({ connectMs: 10_000, firstByteMs: 10 * 60_000, idleMs: 10 * 60_000 }),
    circuitBreaker: circuitBreaker.default({ enabled: true, scope: 'model', failureThreshold: 5, failureRate: 0.5, windowMs: 30_000, cooldownMs: 30_000 }),
    fallbacks: fallbacks.default({ default: {}, features: {} }),
  })
  .default({
    retries: { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 20_000 },
    timeouts: { connectMs: 10_000, firstByteMs: 10 * 60_000, idleMs: 10 * 60_000 },
    circuitBreaker: { enabled: true, scope: 'model', failureThreshold: 5, failureRate: 0.5, windowMs: 30_000, cooldownMs: 30_000 },
    fallbacks: { default: {}, features: {} },
  });

export type ResilienceConfig = z.infer<typeof resilienceConfigSchema>;
export type RetryConfig = ResilienceConfig['retries'];
export type TimeoutConfig = ResilienceConfig['timeouts'];
export type CircuitBreakerConfig = ResilienceConfig['circuitBreaker'];
export type AlternateConfig = z.infer<typeof alternate>;
