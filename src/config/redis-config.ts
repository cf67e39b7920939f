import { z } from 'zod';

/**
 * `redis` in costgate.yaml: the state several gateway replicas share (response-cache entries, the
 * semantic index's entries, prompt-cache planner evidence). Absent `url` (the default): everything
 * stays in the process, and no Redis is needed.
 *
 *   redis:
 *     url: redis://127.0.0.1:6379/0
 *     keyPrefix: "costgate:"
 *
 * `costgate serve --redis redis://...` overrides `url`.
 */
export const redisConfigSchema = z.strictObject({
  url: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .optional(),
  /** Prepended to every key, so several deployments (or tests) can share one Redis. */
  keyPrefix: z.string().default('costgate:'),
  /** A command not answered within this time fails, and a cache treats it as a miss. */
  commandTimeoutMs: z.number().int().positive().default(500),
  /** Longest wait between reconnection attempts while Redis is down. */
  maxReconnectDelayMs: z.number().int().positive().default(5_000),
});

export type RedisConfig = z.infer<typeof redisConfigSchema>;

export const REDIS_DEFAULTS: RedisConfig = { keyPrefix: 'costgate:', commandTimeoutMs: 500, maxReconnectDelayMs: 5_000 };
