import type { Picodollars } from './money.ts';

/** The ways costgate lowers a bill; each is one pipeline stage. */
export type Lever = 'prompt_cache' | 'response_cache' | 'routing' | 'batch' | 'output_policy' | 'context_trim';

/**
 * What one lever did to one call. The call's baseline (what it would have cost without costgate)
 * is its cost plus every lever's saving, so savings per lever add up to baseline minus cost.
 */
export interface LeverEffect {
  lever: Lever;
  /** Baseline minus cost due to this lever; negative when it cost money (a cache write premium). */
  saving: Picodollars;
  /** True when the counterfactual is estimated rather than measured from the call itself. */
  estimated: boolean;
  /** The decision and its inputs, for audits (JSON-serializable). */
  detail?: Record<string, unknown>;
}
