import type { OutputPolicyConfig, OutputPolicyEntry } from '../../config/output-policy-config.ts';
import type { JsonSchemaFormat, ReasoningClamp } from '../../providers/output-controls.ts';
import type { CapSettings } from './output-statistics.ts';

/** One feature's policy with every default filled in. */
export interface ResolvedPolicy {
  /** "default" or the feature's own entry name, for the ledger detail. */
  name: string;
  maxTokens: 'learned' | 'off' | number;
  cap: CapSettings;
  reasoning: ReasoningClamp | undefined;
  jsonSchema: JsonSchemaFormat | undefined;
}

const LEARNED_DEFAULTS = { percentile: 0.99, headroom: 1.25, floor: 256, minSamples: 100 };

function resolve(name: string, entry: OutputPolicyEntry): ResolvedPolicy {
  const maxTokens = entry.maxTokens ?? 'learned';
  return {
    name,
    maxTokens,
    cap: {
      percentile: entry.percentile ?? LEARNED_DEFAULTS.percentile,
      headroom: entry.headroom ?? LEARNED_DEFAULTS.headroom,
      // A fixed cap is the operator's number; the default floor guards learned caps only.
      floor: entry.floor ?? (typeof maxTokens === 'number' ? 1 : LEARNED_DEFAULTS.floor),
      minSamples: entry.minSamples ?? LEARNED_DEFAULTS.minSamples,
    },
    reasoning: entry.reasoning,
    jsonSchema: entry.jsonSchema,
  };
}

/** Resolves once at start-up: the request path only looks a feature up in a map. */
export function createPolicyResolver(config: OutputPolicyConfig): (feature: string | undefined) => ResolvedPolicy {
  const base = resolve('default', config.default);
  const byFeature = new Map<string, ResolvedPolicy>();
  for (const [feature, entry] of Object.entries(config.features)) {
    // A feature entry overrides the default key by key; reasoning and schema are replaced whole.
    byFeature.set(feature, resolve(feature, { ...config.default, ...entry }));
  }
  return (feature) => (feature === undefined ? base : (byFeature.get(feature) ?? base));
}
