import type { Picodollars } from '../core/money.ts';
import type { ReportFilter, TimeRange } from './ledger.ts';

/**
 * Per-feature output statistics for `costgate audit output`, computed in the database. Rows are
 * successful calls that produce output (embeddings are left out), grouped by feature, provider
 * and model (served, else requested).
 */
export interface OutputStatisticsQuery extends TimeRange {
  filter?: ReportFilter;
  /** The learned cap to simulate: this percentile of answer lengths... (default 0.99) */
  percentile?: number;
  /** ...times this headroom (default 1.25)... */
  headroom?: number;
  /** ...and never below this floor (default 256)... */
  floor?: number;
  /**
   * ...with the tail room it takes to cut this share of ordinary answers (default 0.0025, a quarter
   * of the output policy's default 1% truncation threshold), as the output policy places its caps.
   */
  targetTruncation?: number;
}

export interface TokenPercentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface OutputStatisticsRow {
  feature: string | null;
  provider: string;
  model: string | null;
  requests: number;
  inputTokens: number;
  /** All output, reasoning included. */
  outputTokens: number;
  /** Sum of reported reasoning tokens (0 when none were reported). */
  reasoningTokens: number;
  /** Calls whose provider reported reasoning apart from the answer. */
  reasoningReported: number;
  /** Answer tokens: output minus reasoning (all output when reasoning is not reported), of answers that ended by themselves (not stopped by a cap). */
  visible: TokenPercentiles;
  /** Null when no call reported reasoning. */
  reasoning: TokenPercentiles | null;
  /** The cap clients sent: median and largest; null when none did. */
  maxTokensRequested: { p50: number; max: number } | null;
  /** Calls sent with no cap at all (OpenAI and Bedrock then allow the model's maximum). */
  maxTokensUnset: number;
  /** Calls that stopped at their output cap (length / max_tokens / max_output_tokens). */
  truncated: number;
  /** Of all calls, those the gateway recognised as runaway loops stopped by a cap (theirs or the policy's). */
  runaways: number;
  /** The simulated learned cap on answers: max(floor, ceil(percentile x tail room)), from answers only. */
  learnedCap: number;
  /** Answer tokens beyond that cap, summed, runaways included: what it would have cut. */
  tokensAboveLearnedCap: number;
  /** Calls other than runaways whose answer went beyond it: what it would have truncated. */
  callsAboveLearnedCap: number;
  /** Sum over priced rows. */
  cost: Picodollars;
  /** Output-policy lever rows and their recorded saving. */
  outputPolicyCalls: number;
  outputPolicySaving: Picodollars;
  /** Calls on which the truncation guard raised the feature's cap. */
  guardRaises: number;
  /** Calls on which the guard brought a raised cap back down. */
  guardLowered: number;
}

function setting(value: number | undefined, fallback: number, name: string, valid: (value: number) => boolean): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || !valid(chosen)) throw new RangeError(`${name} is out of range: ${chosen}`);
  return chosen;
}

/** The simulated cap's settings with their defaults, checked (RangeError) before any backend queries. */
export function outputStatisticsSettings(query: OutputStatisticsQuery): { percentile: number; headroom: number; target: number; floor: number } {
  return {
    percentile: setting(query.percentile, 0.99, 'percentile', (value) => value > 0 && value < 1),
    headroom: setting(query.headroom, 1.25, 'headroom', (value) => value >= 1),
    target: setting(query.targetTruncation, 0.0025, 'targetTruncation', (value) => value > 0 && value < 1),
    floor: setting(query.floor, 256, 'floor', (value) => Number.isInteger(value) && value >= 0),
  };
}
