import { DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection, type JS } from '@duckdb/node-api';
import type { ProviderId } from '../../core/provider-id.ts';
import type { InputUsage, OutputUsage, Usage } from '../../core/usage.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import { leversFromJson, type PreparedUsageEvent } from '../prepare-usage-events.ts';

/** How one usage_events column is filled from an event, in the order the appender writes them. */
interface Column {
  name: string;
  append(appender: DuckDBAppender, row: PreparedUsageEvent): void;
}

function appendText(appender: DuckDBAppender, value: string | undefined): void {
  if (value === undefined) appender.appendNull();
  else appender.appendVarchar(value);
}

function appendCount(appender: DuckDBAppender, value: number | undefined): void {
  if (value === undefined) appender.appendNull();
  else appender.appendBigInt(BigInt(value));
}

function appendMoney(appender: DuckDBAppender, value: bigint | undefined): void {
  if (value === undefined) appender.appendNull();
  else appender.appendBigInt(value);
}

const COLUMNS: readonly Column[] = [
  { name: 'request_id', append: (appender, { event }) => appender.appendVarchar(event.requestId) },
  {
    name: 'time',
    append: (appender, { event }) => appender.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.round(event.time * 1000)))),
  },
  { name: 'provider', append: (appender, { event }) => appender.appendVarchar(event.provider) },
  { name: 'endpoint', append: (appender, { event }) => appender.appendVarchar(event.endpoint) },
  { name: 'requested_model', append: (appender, { event }) => appendText(appender, event.requestedModel) },
  { name: 'served_model', append: (appender, { event }) => appendText(appender, event.servedModel) },
  { name: 'feature', append: (appender, { event }) => appendText(appender, event.attribution.feature) },
  { name: 'customer', append: (appender, { event }) => appendText(appender, event.attribution.customer) },
  { name: 'user_id', append: (appender, { event }) => appendText(appender, event.attribution.user) },
  { name: 'tags', append: (appender, { tagsJson }) => appender.appendVarchar(tagsJson) },
  { name: 'stream', append: (appender, { event }) => appender.appendBoolean(event.stream) },
  { name: 'status', append: (appender, { event }) => appender.appendInteger(event.status) },
  { name: 'error_type', append: (appender, { event }) => appendText(appender, event.errorType) },
  { name: 'latency_ms', append: (appender, { event }) => appender.appendDouble(event.latencyMs) },
  {
    name: 'ttfb_ms',
    append: (appender, { event }) => (event.ttfbMs === undefined ? appender.appendNull() : appender.appendDouble(event.ttfbMs)),
  },
  { name: 'input_total', append: (appender, { event }) => appendCount(appender, event.usage.input.total) },
  { name: 'input_no_cache', append: (appender, { event }) => appendCount(appender, event.usage.input.noCache) },
  { name: 'input_cache_read', append: (appender, { event }) => appendCount(appender, event.usage.input.cacheRead) },
  { name: 'input_cache_write_5m', append: (appender, { event }) => appendCount(appender, event.usage.input.cacheWrite5m) },
  { name: 'input_cache_write_1h', append: (appender, { event }) => appendCount(appender, event.usage.input.cacheWrite1h) },
  { name: 'output_total', append: (appender, { event }) => appendCount(appender, event.usage.output.total) },
  { name: 'output_text', append: (appender, { event }) => appendCount(appender, event.usage.output.text) },
  { name: 'output_reasoning', append: (appender, { event }) => appendCount(appender, event.usage.output.reasoning) },
  { name: 'usage_raw', append: (appender, { usageRawJson }) => appendText(appender, usageRawJson) },
  { name: 'stop_reason', append: (appender, { event }) => appendText(appender, event.stopReason) },
  { name: 'cost_picousd', append: (appender, { event }) => appendMoney(appender, event.cost) },
  { name: 'baseline_cost_picousd', append: (appender, { event }) => appendMoney(appender, event.baselineCost) },
  { name: 'price_version', append: (appender, { event }) => appendText(appender, event.priceVersion) },
  { name: 'cache_status', append: (appender, { event }) => appendText(appender, event.cacheStatus) },
  { name: 'route', append: (appender, { event }) => appendText(appender, event.route) },
  { name: 'batch_id', append: (appender, { event }) => appendText(appender, event.batchId) },
  { name: 'levers', append: (appender, { leversJson }) => appendText(appender, leversJson) },
  { name: 'cache_write_premium_picousd', append: (appender, { event }) => appendMoney(appender, event.cacheWritePremium) },
  { name: 'cache_read_saving_picousd', append: (appender, { event }) => appendMoney(appender, event.cacheReadSaving) },
  { name: 'max_tokens_requested', append: (appender, { event }) => appendCount(appender, event.maxTokensRequested) },
  { name: 'max_tokens_sent', append: (appender, { event }) => appendCount(appender, event.maxTokensSent) },
  { name: 'api_key_id', append: (appender, { event }) => appendText(appender, event.attribution.apiKeyId) },
];

const COLUMN_LIST = COLUMNS.map(({ name }) => name).join(', ');

/**
 * How far from a batch's own time range a stored copy of one of its events is looked for. A replayed
 * event (spool recovery, a retried flush) carries the time it was first recorded with, so the copy
 * sits inside the range; the margin only absorbs a re-recorded event whose time was re-stamped.
 */
export const DUPLICATE_WINDOW_MS = 3_600_000;

/**
 * The appender is DuckDB's fast bulk path but cannot skip duplicates, so rows go through a
 * per-connection temporary table and an anti-join copies in only request ids not stored yet: a
 * request id already stored is left untouched, which is what makes replaying the spool harmless.
 * The anti-join reads only stored rows within the batch's time range (plus DUPLICATE_WINDOW_MS),
 * which DuckDB's per-block min/max on `time` prunes to the recent blocks; a primary key would
 * instead maintain an index over every request id ever stored on each insert. Appends are
 * serialized (one writer per file), so the check and the insert cannot race.
 */
export async function insertEvents(connection: DuckDBConnection, rows: readonly PreparedUsageEvent[]): Promise<void> {
  if (rows.length === 0) return;
  let earliest = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  for (const { event } of rows) {
    if (event.time < earliest) earliest = event.time;
    if (event.time > latest) latest = event.time;
  }
  await connection.run(`CREATE OR REPLACE TEMP TABLE usage_events_incoming AS SELECT ${COLUMN_LIST} FROM usage_events LIMIT 0`);
  const appender = await connection.createAppender('usage_events_incoming', null, 'temp');
  try {
    for (const row of rows) {
      for (const column of COLUMNS) column.append(appender, row);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await connection.run(
    `INSERT INTO usage_events (${COLUMN_LIST})
     SELECT ${COLUMN_LIST} FROM usage_events_incoming
     WHERE request_id NOT IN (
       SELECT request_id FROM usage_events
       WHERE time >= make_timestamp($from::BIGINT) AND time <= make_timestamp($to::BIGINT)
     )`,
    {
      from: BigInt(Math.round((earliest - DUPLICATE_WINDOW_MS) * 1000)),
      to: BigInt(Math.round((latest + DUPLICATE_WINDOW_MS) * 1000)),
    },
  );
  await connection.run('DROP TABLE usage_events_incoming');
}

/** The select list that readEvent expects; `time` comes back as exact epoch microseconds. */
export const EVENT_SELECT_LIST = COLUMNS.map(({ name }) => (name === 'time' ? 'epoch_us(time) AS time' : name)).join(', ');

type RowObject = Record<string, JS>;

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
