import { DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { PreparedUsageEvent } from '../prepare-usage-events.ts';

export { readEvent } from '../rows/event-row.ts';

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

