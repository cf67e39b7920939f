import { z } from 'zod';

const effort = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']);

const outputPolicyEntry = z.strictObject({
  /** `learned` (from the feature's own traffic), a fixed number of answer tokens, or `off`. */
  maxTokens: z.union([z.literal('learned'), z.literal('off'), z.number().int().positive()]).optional(),
  /** Percentile of the feature's answer lengths a learned cap starts from. */
  percentile: z.number().min(0.5).max(0.9999).optional(),
  /** Multiplier on that percentile (and on learned reasoning room). */
  headroom: z.number().min(1).max(20).optional(),
  /** No cap (answer part) ever goes below this. */
  floor: z.number().int().positive().optional(),
  /** Calls a feature needs before its learned cap applies. */
  minSamples: z.number().int().positive().optional(),
  reasoning: z
    .strictObject({
      /** Highest effort (OpenAI reasoning_effort, Anthropic/Bedrock effort); none or minimal also turn thinking off. */
      maxEffort: effort.optional(),
      /**
       * Highest Anthropic thinking budget; below 1024 turns thinking off. `learned`: the feature's own
       * thinking lengths (percentile with tail room, at least 1024), guarded like a learned answer cap.
       */
      maxThinkingTokens: z.union([z.number().int().nonnegative(), z.literal('learned')]).optional(),
    })
    .optional(),
  /** A JSON schema the answer must follow, applied with each provider's structured-output mechanism. */
  jsonSchema: z
    .strictObject({
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'letters, digits, _ and -, up to 64'),
      schema: z.record(z.string(), z.unknown()),
      strict: z.boolean().default(true),
      description: z.string().optional(),
    })
    .optional(),
});

export const outputPolicyConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Share of capped answers cut short above which the cap is raised at once (and an alert raised). */
  truncationThreshold: z.number().gt(0).lt(1).default(0.01),
  /** Share of calls sent untouched, to keep measuring the uncapped distribution that baselines come from. */
  holdout: z.number().min(0).max(0.5).default(0.02),
  default: outputPolicyEntry.default({}),
  features: z.record(z.string(), outputPolicyEntry).default({}),
});

export type OutputPolicyConfig = z.infer<typeof outputPolicyConfigSchema>;
export type OutputPolicyEntry = z.infer<typeof outputPolicyEntry>;

export const OUTPUT_POLICY_DEFAULTS: OutputPolicyConfig = {
  enabled: false,
  truncationThreshold: 0.01,
  holdout: 0.02,
  default: {},
  features: {},
};
