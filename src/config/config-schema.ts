import { z } from 'zod';
import { CONTEXT_TRIM_DEFAULTS, contextTrimConfigSchema } from './context-trim-config.ts';
import { OUTPUT_POLICY_DEFAULTS, outputPolicyConfigSchema } from './output-policy-config.ts';
import { promptCacheConfigSchema } from './prompt-cache-config.ts';
import { ANALYTICS_CONFIG_DEFAULTS, analyticsConfigSchema } from './analytics-config.ts';
import { responseCacheConfigSchema } from './response-cache-config.ts';
import { ROUTER_DEFAULTS, routerConfigSchema } from './router-config.ts';
import { batchConfigSchema } from './batch-config.ts';
import { resilienceConfigSchema } from './resilience-config.ts';
import { REDIS_DEFAULTS, redisConfigSchema } from './redis-config.ts';
import { BUDGETS_DEFAULTS, budgetsConfigSchema, KEYS_DEFAULTS, keysConfigSchema } from './keys-config.ts';
import { DATA_DEFAULTS, dataConfigSchema } from './data-config.ts';

const priceOverride = z.strictObject({
  provider: z.enum(['openai', 'anthropic', 'bedrock']),
  model: z.string().min(1),
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cacheReadPerMTok: z.number().nonnegative().optional(),
  cacheWrite5mPerMTok: z.number().nonnegative().optional(),
  cacheWrite1hPerMTok: z.number().nonnegative().optional(),
  batchDiscount: z.number().min(0).max(1).optional(),
});

const httpUpstream = z.strictObject({
  apiKey: z.string().optional(),
  baseURL: z.url().optional(),
});

const bedrockUpstream = z.strictObject({
  region: z.string().optional(),
  endpoint: z.url().optional(),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
  sessionToken: z.string().optional(),
});

/** costgate.yaml. Every field is optional; environment variables fill what the file leaves out. */
export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(4141),
      maxBodyBytes: z.number().int().positive().default(32 * 1024 * 1024),
    })
    .default({ host: '127.0.0.1', port: 4141, maxBodyBytes: 32 * 1024 * 1024 }),
  ledger: z
    .strictObject({
      path: z.string().default('./.costgate/ledger.duckdb'),
      spoolDir: z.string().optional(),
      /** Spool, caches, statistics and batch files; default beside a DuckDB file, ./.costgate for a postgres:// URL. */
      localDir: z.string().optional(),
      flushIntervalMs: z.number().int().positive().default(1000),
    })
    .default({ path: './.costgate/ledger.duckdb', flushIntervalMs: 1000 }),
  providers: z
    .strictObject({
      openai: httpUpstream.optional(),
      anthropic: httpUpstream.optional(),
      bedrock: bedrockUpstream.optional(),
    })
    .default({}),
  prices: z.strictObject({ overrides: z.array(priceOverride).default([]) }).default({ overrides: [] }),
  /** Exact and semantic response cache, per feature (README "Response cache"). Off by default. */
  responseCache: responseCacheConfigSchema,
  /** Model routing and cascades per feature (README "Routing and cascades"). Off by default. */
  router: routerConfigSchema.default(ROUTER_DEFAULTS),
  /** Per-feature output caps, reasoning clamps and JSON schemas (README "Output policy"). */
  outputPolicy: outputPolicyConfigSchema.default(OUTPUT_POLICY_DEFAULTS),
  /** Reranking and trimming of retrieved documents marked by the client (README "Context trimming"). */
  contextTrim: contextTrimConfigSchema.default(CONTEXT_TRIM_DEFAULTS),
  /** Cache breakpoints planned from reuse evidence, per feature (README "Prompt-cache planner"). Off by default. */
  promptCache: promptCacheConfigSchema,
  /** Anomaly alerts and Prometheus /metrics (README "Spend analytics"). */
  analytics: analyticsConfigSchema.default(ANALYTICS_CONFIG_DEFAULTS),
  /** Batch jobs and deferred requests (README "Batch jobs"). */
  batch: batchConfigSchema,
  /** State shared by several gateway replicas (README "Several replicas"). Off unless `url` is set. */
  redis: redisConfigSchema.default(REDIS_DEFAULTS),
  /** Gateway-issued virtual keys with models, rate limits and budgets (README "Virtual keys and budgets"). Off by default. */
  keys: keysConfigSchema.default(KEYS_DEFAULTS),
  budgets: budgetsConfigSchema.default(BUDGETS_DEFAULTS),
  /** What is kept of a call's content: nothing by default; opt-in redacted bodies (README "Data handling"). */
  data: dataConfigSchema.default(DATA_DEFAULTS),
  /** Retries, circuit breakers, timeouts and fallbacks for upstream calls (README "Resilience"). Retries and breakers on by default. */
  resilience: resilienceConfigSchema,
});

export type Config = z.infer<typeof configSchema>;
export type PriceOverrideConfig = z.infer<typeof priceOverride>;
