import type { OutputPolicyConfig, OutputPolicyEntry } from '../../config/output-policy-config.ts';
import type { JsonSchemaFormat, ReasoningClamp } from '../../providers/output-controls.ts';
import type { CapSettings } from './output-statistics.ts';

/** One feature's policy with every default filled in. */
export interface ResolvedPolicy {
  /** "default" or the feature's own entry name, for the ledger detail. */
  name: string;
  maxTokens: 'learned' | 'off' | number;
  cap: CapSettings;
  /** The fixed part of the reasoning clamp (effort ceiling, fixed thinking budget). */
  reasoning: ReasoningClamp | undefined;
  /** Thinking budgets are learned from the feature's own thinking (`maxThinkingTokens: learned`). */
  learnedThinking: boolean;
  jsonSchema: JsonSchemaFormat | undefined;
}

const LEARNED_DEFAULTS = { percentile: 0.99, headroom: 1.25, floor: 256, minSamples: 100 };

/**
 * A learned cap is placed to cut this share of the truncation threshold (0.25% for the default 1%):
 * far enough under it that ordinary answers alone seldom trip the guard.
 */
const TARGET_SHARE_OF_THRESHOLD = 0.25;

function resolve(name: string, entry: OutputPolicyEntry, truncationThreshold: number): ResolvedPolicy {
  const maxTokens = entry.maxTokens ?? 'learned';
  const { maxThinkingTokens, ...fixedReasoning } = entry.reasoning ?? {};
  const reasoning: ReasoningClamp = { ...fixedReasoning, ...(typeof maxThinkingTokens === 'number' ? { maxThinkingTokens } : {}) };
  return {
    name,
    maxTokens,
    cap: {
      percentile: entry.percentile ?? LEARNED_DEFAULTS.percentile,
      headroom: entry.headroom ?? LEARNED_DEFAULTS.headroom,
      // A fixed cap is the operator's number; the default floor guards learned caps only.
      floor: entry.floor ?? (typeof maxTokens === 'number' ? 1 : LEARNED_DEFAULTS.floor),
      minSamples: entry.minSamples ?? LEARNED_DEFAULTS.minSamples,
      targetTruncation: truncationThreshold * TARGET_SHARE_OF_THRESHOLD,
    },
    reasoning: Object.values(reasoning).some((value) => value !== undefined) ? reasoning : undefined,
    learnedThinking: maxThinkingTokens === 'learned',
    jsonSchema: entry.jsonSchema,
  };
}

/** Resolves once at start-up: the request path only looks a feature up in a map. */
export function createPolicyResolver(config: OutputPolicyConfig): (feature: string | undefined) => ResolvedPolicy {
  const base = resolve('default', config.default, config.truncationThreshold);
  const byFeature = new Map<string, ResolvedPolicy>();
  for (const [feature, entry] of Object.entries(config.features)) {
    // A feature entry overrides the default key by key; reasoning and schema are replaced whole.
    byFeature.set(feature, resolve(feature, { ...config.default, ...entry }, config.truncationThreshold));
  }
  return (feature) => (feature === undefined ? base : (byFeature.get(feature) ?? base));
}
