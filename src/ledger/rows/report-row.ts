import type { ReportRow, UnpricedModel } from '../ledger.ts';

/** Rows of the report and unpriced-models queries, for every SQL backend (money as bigint or decimal string). */

export function readReportRow(row: Record<string, unknown>): ReportRow {
  return {
    key: row['group_key'] === null ? null : String(row['group_key']),
    requests: Number(row['requests']),
    inputTokens: Number(row['input_tokens']),
    cacheReadTokens: Number(row['cache_read_tokens']),
    cacheWriteTokens: Number(row['cache_write_tokens']),
    outputTokens: Number(row['output_tokens']),
    cost: BigInt(row['cost'] as bigint),
    baselineCost: BigInt(row['baseline_cost'] as bigint),
    unpricedRequests: Number(row['unpriced_requests']),
    cacheWritePremium: BigInt(row['cache_write_premium'] as bigint),
    cacheReadSavings: BigInt(row['cache_read_savings'] as bigint),
  };
}

export function readUnpricedModel(row: Record<string, unknown>): UnpricedModel {
  return { provider: String(row['provider']), model: String(row['model']), requests: Number(row['requests']) };
}
