import { z } from 'zod';

/**
 * `keys` in costgate.yaml: gateway-issued virtual keys (README "Virtual keys and budgets").
 * Off by default: clients then send their own provider keys, as before.
 *
 *   keys:
 *     enabled: true
 *     postgresUrl: postgres://user@db/costgate   # shared store for several replicas; absent = a file
 *     cacheSeconds: 5
 *
 * With keys on, the gateway needs its own provider credentials (providers.* or the SDK variables)
 * and COSTGATE_ADMIN_KEY for the admin API.
 */
export const keysConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** The key file in the default (single-machine) mode; default `keys.json` beside the ledger. */
  path: z.string().optional(),
  /** Keys kept in Postgres (table costgate_virtual_keys, created if absent) so every replica sees them. */
  postgresUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
  /** Postgres schema holding the table (tests use a throwaway one). */
  postgresSchema: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('public'),
  /** How long a replica trusts what it read about a key; a revocation takes effect within this time. */
  cacheSeconds: z.number().nonnegative().max(300).default(5),
});

export type KeysConfig = z.infer<typeof keysConfigSchema>;

export const KEYS_DEFAULTS: KeysConfig = { enabled: false, postgresSchema: 'public', cacheSeconds: 5 };

/**
 * `budgets`: how virtual keys' rate limits and dollar budgets are enforced. Counters live in Redis
 * when the `redis` section names one (several replicas), else in the process.
 */
export const budgetsConfigSchema = z.strictObject({
  /** When the counter store (Redis) cannot be reached: `open` lets calls through uncounted, `closed` refuses them (429). */
  failMode: z.enum(['open', 'closed']).default('closed'),
  /** A reservation not settled within this time (a crashed replica) is released. Longer than the longest call. */
  reservationTtlSeconds: z.number().int().positive().default(900),
  /** Output tokens assumed for the worst case when the request sets no output cap. */
  assumedMaxOutputTokens: z.number().int().positive().default(16_384),
});

export type BudgetsConfig = z.infer<typeof budgetsConfigSchema>;

export const BUDGETS_DEFAULTS: BudgetsConfig = { failMode: 'closed', reservationTtlSeconds: 900, assumedMaxOutputTokens: 16_384 };
