import type { OutputStatisticsRow, TokenPercentiles } from '../output-statistics.ts';

/**
 * One row of the output-statistics query back to an OutputStatisticsRow, for every SQL backend:
 * percentiles come as arrays [p50, p95, p99], counts and money as numbers, bigints or decimal strings.
 */

function percentiles(list: unknown, max: unknown): TokenPercentiles | null {
  if (!Array.isArray(list) || list[0] === null || list[0] === undefined) return null;
  const [p50, p95, p99] = list.map(Number);
  return { p50: p50 ?? 0, p95: p95 ?? 0, p99: p99 ?? 0, max: Number(max ?? 0) };
}

export function readOutputStatisticsRow(row: Record<string, unknown>): OutputStatisticsRow {
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  const requestedP50 = row['requested_p50'];
  return {
    feature: text(row['feature']),
    provider: String(row['provider']),
    model: text(row['model']),
    requests: Number(row['requests']),
    inputTokens: Number(row['input_tokens']),
    outputTokens: Number(row['output_tokens']),
    reasoningTokens: Number(row['reasoning_tokens']),
    reasoningReported: Number(row['reasoning_reported']),
    visible: percentiles(row['visible_q'], row['visible_max']) ?? { p50: 0, p95: 0, p99: 0, max: 0 },
    reasoning: Number(row['reasoning_reported']) > 0 ? percentiles(row['reasoning_q'], row['reasoning_max']) : null,
    maxTokensRequested: requestedP50 === null || requestedP50 === undefined ? null : { p50: Number(requestedP50), max: Number(row['requested_max']) },
    maxTokensUnset: Number(row['requested_unset']),
    truncated: Number(row['truncated']),
    learnedCap: Number(row['learned_cap']),
    tokensAboveLearnedCap: Number(row['tokens_above']),
    callsAboveLearnedCap: Number(row['calls_above']),
    cost: BigInt(row['cost'] as bigint),
    outputPolicyCalls: Number(row['policy_calls']),
    outputPolicySaving: BigInt(row['policy_saving'] as bigint),
    guardRaises: Number(row['guard_raises']),
    guardLowered: Number(row['guard_lowered']),
    runaways: Number(row['runaways']),
  };
}
