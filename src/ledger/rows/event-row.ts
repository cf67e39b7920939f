import type { ProviderId } from '../../core/provider-id.ts';
import type { InputUsage, OutputUsage, Usage } from '../../core/usage.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import { leversFromJson } from '../prepare-usage-events.ts';

/**
 * A usage_events row back to a UsageEvent, for every SQL backend. The row has one property per
 * column, JSON columns as text and `time` as epoch microseconds; integers may come as number,
 * bigint or decimal string (drivers differ), all of which convert exactly.
 */
type RowObject = Record<string, unknown>;

function optionalString(row: RowObject, name: string): string | undefined {
  const value = row[name];
  return value === null || value === undefined ? undefined : String(value);
}

function optionalNumber(row: RowObject, name: string): number | undefined {
  const value = row[name];
  return value === null || value === undefined ? undefined : Number(value);
}

function optionalBigInt(row: RowObject, name: string): bigint | undefined {
  const value = row[name];
  return value === null || value === undefined ? undefined : BigInt(value as bigint);
}

/** Builds the object field by field so absent fields stay absent (exactOptionalPropertyTypes). */
function present<T extends object>(entries: { [K in keyof T]: T[K] | undefined }): T {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) result[key] = value;
  return result as T;
}

export function readEvent(row: RowObject): UsageEvent {
  const input = present<InputUsage>({
    total: optionalNumber(row, 'input_total'),
    noCache: optionalNumber(row, 'input_no_cache'),
    cacheRead: optionalNumber(row, 'input_cache_read'),
    cacheWrite5m: optionalNumber(row, 'input_cache_write_5m'),
    cacheWrite1h: optionalNumber(row, 'input_cache_write_1h'),
  });
  const output = present<OutputUsage>({
    total: optionalNumber(row, 'output_total'),
    text: optionalNumber(row, 'output_text'),
    reasoning: optionalNumber(row, 'output_reasoning'),
  });
  const usageRaw = optionalString(row, 'usage_raw');
  const usage: Usage = { input, output };
  if (usageRaw !== undefined) usage.raw = JSON.parse(usageRaw) as unknown;
  const attribution = present<{ feature: string; customer: string; user: string; apiKeyId: string }>({
    feature: optionalString(row, 'feature'),
    customer: optionalString(row, 'customer'),
    user: optionalString(row, 'user_id'),
    apiKeyId: optionalString(row, 'api_key_id'),
  });
  const event: UsageEvent = {
    requestId: String(row['request_id']),
    time: Number(row['time']) / 1000,
    provider: String(row['provider']) as ProviderId,
    endpoint: String(row['endpoint']),
    requestedModel: optionalString(row, 'requested_model'),
    servedModel: optionalString(row, 'served_model'),
    attribution: { ...attribution, tags: JSON.parse(String(row['tags'])) as Record<string, string> },
    stream: Boolean(row['stream']),
    status: Number(row['status']),
    errorType: optionalString(row, 'error_type'),
    latencyMs: Number(row['latency_ms']),
    ttfbMs: optionalNumber(row, 'ttfb_ms'),
    usage,
    stopReason: optionalString(row, 'stop_reason'),
    cost: optionalBigInt(row, 'cost_picousd'),
    baselineCost: optionalBigInt(row, 'baseline_cost_picousd'),
    priceVersion: optionalString(row, 'price_version'),
  };
  const cacheStatus = optionalString(row, 'cache_status');
  const route = optionalString(row, 'route');
  const batchId = optionalString(row, 'batch_id');
  if (cacheStatus !== undefined) event.cacheStatus = cacheStatus;
  if (route !== undefined) event.route = route;
  if (batchId !== undefined) event.batchId = batchId;
  const cacheWritePremium = optionalBigInt(row, 'cache_write_premium_picousd');
  const cacheReadSaving = optionalBigInt(row, 'cache_read_saving_picousd');
  if (cacheWritePremium !== undefined) event.cacheWritePremium = cacheWritePremium;
  if (cacheReadSaving !== undefined) event.cacheReadSaving = cacheReadSaving;
  const maxTokensRequested = optionalNumber(row, 'max_tokens_requested');
  const maxTokensSent = optionalNumber(row, 'max_tokens_sent');
  if (maxTokensRequested !== undefined) event.maxTokensRequested = maxTokensRequested;
  if (maxTokensSent !== undefined) event.maxTokensSent = maxTokensSent;
  const levers = optionalString(row, 'levers');
  if (levers !== undefined) event.levers = leversFromJson(levers);
  return event;
}
