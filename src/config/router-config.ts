import { z } from 'zod';

/**
 * Model routing and cascades, per feature. Tiers are model ids of one wire format, cheapest first;
 * a call is routed only when the model it asks for is one of its policy's tiers.
 */
const strategy = z.enum(['off', 'classifier', 'cascade', 'classifier+cascade']);

const routerPolicy = z.strictObject({
  strategy: strategy.optional(),
  /** Cheapest first, e.g. [gpt-4o-mini, gpt-4o]. At least two. */
  tiers: z.array(z.string().min(1)).min(2).optional(),
  classifier: z
    .strictObject({
      /** A router file from `costgate router train`. */
      file: z.string().min(1),
      /**
       * The call goes to the cheapest tier whose predicted chance of answering well is at least
       * this share of the strongest tier's predicted chance.
       */
      qualityTarget: z.number().gt(0).max(1).default(0.9),
      /** Tier model id -> the model name the router file was trained with, when they differ. */
      models: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
  cascade: z
    .strictObject({
      /** Answers scoring below this escalate to the next tier. */
      threshold: z.number().min(0).max(1).default(0.5),
      /** Use token log-probabilities where the provider returns them (OpenAI Chat). */
      logprobs: z.boolean().default(true),
      /** Ask non-streamed calls for a final "Confidence: X" line, removed before the client sees the answer. */
      confidence: z.boolean().default(false),
      /** Refusal, "I don't know", JSON/schema and truncation checks. */
      checks: z.boolean().default(true),
      /** Extra "unsure" patterns (regular expressions, case-insensitive). */
      unsurePatterns: z.array(z.string()).default([]),
      /** A judge model (same wire format) that grades the cheap answer; costs one more call. */
      judge: z.strictObject({ model: z.string().min(1) }).optional(),
    })
    .optional(),
  shadow: z
    .strictObject({
      /** Share of calls served by a cheaper tier that are also sent to the strongest tier, off the response path. */
      rate: z.number().min(0).max(1).default(0),
      /** Judge model comparing the two answers; without one, a plain similarity is recorded. */
      judge: z.string().min(1).optional(),
    })
    .optional(),
  /**
   * Keep the prompt text of routed calls for an hour (bounded, in memory) so that feedback and
   * shadow outcomes can be stored with it as training data. Off: outcomes are stored without text.
   */
  capturePrompts: z.boolean().optional(),
});

export const routerConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  default: routerPolicy.default({}),
  features: z.record(z.string(), routerPolicy).default({}),
});

export type RouterConfig = z.infer<typeof routerConfigSchema>;
export type RouterPolicyConfig = z.infer<typeof routerPolicy>;

export const ROUTER_DEFAULTS: RouterConfig = { enabled: false, default: {}, features: {} };
