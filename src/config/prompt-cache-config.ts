import { z } from 'zod';

/**
 * `promptCache` in costgate.yaml: the prompt-cache planner (README "Prompt-cache planner").
 *
 *   promptCache:
 *     default: { mode: observe }
 *     features:
 *       support-chat: { mode: auto }
 *       batch-extract: { mode: off }
 */

/** Every field optional: a feature's policy overrides only what it names. */
export const promptCachePolicySchema = z.strictObject({
  /** off: do nothing; observe: plan and record, change no request; auto: add the planned breakpoints. */
  mode: z.enum(['off', 'observe', 'auto']).optional(),
  /**
   * OpenAI `prompt_cache_key` when the client sets none: `feature-prefix` (the feature plus a hash of
   * its stable prefix, split by user past ~12 requests a minute per key), `feature`, or `off`.
   */
  openaiPromptCacheKey: z.enum(['feature-prefix', 'feature', 'off']).optional(),
  /** In auto mode, stop adding breakpoints for a feature whose premium exceeded its savings over the last day. */
  backOff: z.boolean().optional(),
  /**
   * OpenAI gpt-5.6+: plan `prompt_cache_breakpoint`s and switch to explicit mode where the evidence says
   * it pays (true), or leave those requests to implicit caching like older models (false).
   */
  openaiExplicitBreakpoints: z.boolean().optional(),
});

export type PromptCachePolicyInput = z.infer<typeof promptCachePolicySchema>;

export interface PromptCachePolicy {
  mode: 'off' | 'observe' | 'auto';
  openaiPromptCacheKey: 'feature-prefix' | 'feature' | 'off';
  backOff: boolean;
  openaiExplicitBreakpoints: boolean;
}

export const PROMPT_CACHE_POLICY_DEFAULTS: PromptCachePolicy = { mode: 'off', openaiPromptCacheKey: 'feature-prefix', backOff: true, openaiExplicitBreakpoints: true };

export const promptCacheConfigSchema = z
  .strictObject({
    default: promptCachePolicySchema.default({}),
    features: z.record(z.string(), promptCachePolicySchema).default({}),
    /** Minimum cacheable tokens by model-id substring, over the built-in per-model table. */
    minimumTokens: z.record(z.string(), z.number().int().positive()).default({}),
    /** Prefixes whose statistics are kept (least recently seen dropped first). */
    maxPrefixes: z.number().int().positive().default(50_000),
    /** How often learned statistics are written beside the ledger. */
    snapshotIntervalMs: z.number().int().positive().default(30_000),
  })
  .default({ default: {}, features: {}, minimumTokens: {}, maxPrefixes: 50_000, snapshotIntervalMs: 30_000 });

export type PromptCacheConfig = z.infer<typeof promptCacheConfigSchema>;

export function resolvePromptCachePolicy(config: PromptCacheConfig, feature: string | undefined): PromptCachePolicy {
  const specific = feature === undefined ? undefined : config.features[feature];
  return { ...PROMPT_CACHE_POLICY_DEFAULTS, ...stripUndefined(config.default), ...stripUndefined(specific ?? {}) };
}

function stripUndefined(policy: PromptCachePolicyInput): Partial<PromptCachePolicy> {
  return Object.fromEntries(Object.entries(policy).filter(([, value]) => value !== undefined)) as Partial<PromptCachePolicy>;
}

/** True when some feature may use the planner, so the stage is worth putting in the pipeline. */
export function promptCacheEnabled(config: PromptCacheConfig): boolean {
  return (config.default.mode ?? 'off') !== 'off' || Object.values(config.features).some((policy) => (policy.mode ?? 'off') !== 'off');
}
