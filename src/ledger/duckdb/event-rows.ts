import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  DuckDBTimestampValue,
  INTEGER,
  TIMESTAMP,
  VARCHAR,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { PreparedUsageEvent } from '../prepare-usage-events.ts';

export { readEvent } from '../rows/event-row.ts';

/**
 * How one usage_events column is filled from an event. `type` is the staging column's type: the
 * JSON columns are staged as VARCHAR and become JSON in the INSERT ... SELECT.
 */
interface Column {
  name: string;
  type: DuckDBType;
  /** undefined is stored as SQL NULL. */
  value(row: PreparedUsageEvent): DuckDBValue | undefined;
}

function count(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}

const COLUMNS: readonly Column[] = [
  { name: 'request_id', type: VARCHAR, value: ({ event }) => event.requestId },
  { name: 'time', type: TIMESTAMP, value: ({ event }) => new DuckDBTimestampValue(BigInt(Math.round(event.time * 1000))) },
  { name: 'provider', type: VARCHAR, value: ({ event }) => event.provider },
  { name: 'endpoint', type: VARCHAR, value: ({ event }) => event.endpoint },
  { name: 'requested_model', type: VARCHAR, value: ({ event }) => event.requestedModel },
  { name: 'served_model', type: VARCHAR, value: ({ event }) => event.servedModel },
  { name: 'feature', type: VARCHAR, value: ({ event }) => event.attribution.feature },
  { name: 'customer', type: VARCHAR, value: ({ event }) => event.attribution.customer },
  { name: 'user_id', type: VARCHAR, value: ({ event }) => event.attribution.user },
  { name: 'tags', type: VARCHAR, value: ({ tagsJson }) => tagsJson },
  { name: 'stream', type: BOOLEAN, value: ({ event }) => event.stream },
  { name: 'status', type: INTEGER, value: ({ event }) => event.status },
  { name: 'error_type', type: VARCHAR, value: ({ event }) => event.errorType },
  { name: 'latency_ms', type: DOUBLE, value: ({ event }) => event.latencyMs },
  { name: 'ttfb_ms', type: DOUBLE, value: ({ event }) => event.ttfbMs },
  { name: 'input_total', type: BIGINT, value: ({ event }) => count(event.usage.input.total) },
  { name: 'input_no_cache', type: BIGINT, value: ({ event }) => count(event.usage.input.noCache) },
  { name: 'input_cache_read', type: BIGINT, value: ({ event }) => count(event.usage.input.cacheRead) },
  { name: 'input_cache_write_5m', type: BIGINT, value: ({ event }) => count(event.usage.input.cacheWrite5m) },
  { name: 'input_cache_write_1h', type: BIGINT, value: ({ event }) => count(event.usage.input.cacheWrite1h) },
  { name: 'output_total', type: BIGINT, value: ({ event }) => count(event.usage.output.total) },
  { name: 'output_text', type: BIGINT, value: ({ event }) => count(event.usage.output.text) },
  { name: 'output_reasoning', type: BIGINT, value: ({ event }) => count(event.usage.output.reasoning) },
  { name: 'usage_raw', type: VARCHAR, value: ({ usageRawJson }) => usageRawJson },
  { name: 'stop_reason', type: VARCHAR, value: ({ event }) => event.stopReason },
  { name: 'cost_picousd', type: BIGINT, value: ({ event }) => event.cost },
  { name: 'baseline_cost_picousd', type: BIGINT, value: ({ event }) => event.baselineCost },
  { name: 'price_version', type: VARCHAR, value: ({ event }) => event.priceVersion },
  { name: 'cache_status', type: VARCHAR, value: ({ event }) => event.cacheStatus },
  { name: 'route', type: VARCHAR, value: ({ event }) => event.route },
  { name: 'batch_id', type: VARCHAR, value: ({ event }) => event.batchId },
  { name: 'levers', type: VARCHAR, value: ({ leversJson }) => leversJson },
  { name: 'cache_write_premium_picousd', type: BIGINT, value: ({ event }) => event.cacheWritePremium },
  { name: 'cache_read_saving_picousd', type: BIGINT, value: ({ event }) => event.cacheReadSaving },
  { name: 'max_tokens_requested', type: BIGINT, value: ({ event }) => count(event.maxTokensRequested) },
  { name: 'max_tokens_sent', type: BIGINT, value: ({ event }) => count(event.maxTokensSent) },
  { name: 'api_key_id', type: VARCHAR, value: ({ event }) => event.attribution.apiKeyId },
];

const COLUMN_LIST = COLUMNS.map(({ name }) => name).join(', ');
const STAGING_COLUMNS = COLUMNS.map(({ name, type }) => `${name} ${type.toString()}`).join(', ');
const COLUMN_TYPES = COLUMNS.map(({ type }) => type);

/**
 * The typed copy of `levers` that savings reports sum (migration 11): parsed once here, in the
 * database, instead of on every report. Savings are decimal strings in the JSON (JSON has no
 * 64-bit integers); HUGEINT holds any of them exactly.
 */
export const LEVER_EFFECTS_FROM_JSON = `from_json(levers, '[{"lever":"VARCHAR","saving":"HUGEINT","estimated":"BOOLEAN"}]')`;

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

/**
 * Fills data chunks column by column: numbers, booleans, timestamps and NULLs land in typed
 * arrays that are copied into DuckDB once per column, instead of one native call per value as
 * the row-wise appender makes (38 per row); only strings still cross one at a time.
 */
function appendRows(appender: { appendDataChunk(chunk: DuckDBDataChunk): void }, rows: readonly PreparedUsageEvent[]): void {
  for (let offset = 0; offset < rows.length; offset += CHUNK_ROWS) {
    const size = Math.min(CHUNK_ROWS, rows.length - offset);
    const chunk = DuckDBDataChunk.create(COLUMN_TYPES, size);
    for (const [index, column] of COLUMNS.entries()) {
      const vector = chunk.getColumnVector(index);
      for (let row = 0; row < size; row++) vector.setItem(row, column.value(rows[offset + row] as PreparedUsageEvent) ?? null);
      vector.flush();
    }
    appender.appendDataChunk(chunk);
  }
}

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
 * which DuckDB's per-block min/max on `time` prunes to the recent blocks, and keeps only those whose
 * id is in the batch, so the set it builds is the batch's size, not the window's (a batch job's
 * million rows all fall in one hour: building the window's ids cost ~250 MB); a primary key would
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
  await connection.run(`CREATE OR REPLACE TEMP TABLE usage_events_incoming (${STAGING_COLUMNS})`);
  const appender = await connection.createAppender('usage_events_incoming', null, 'temp');
  try {
    appendRows(appender, rows);
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  // One round trip for both statements: a parameterized statement costs several (extract, prepare,
  // bind, run), each a wait for DuckDB's worker thread that grows long on a busy machine. The bounds
  // are integers computed here, so writing them into the SQL is safe.
  const from = BigInt(Math.round((earliest - DUPLICATE_WINDOW_MS) * 1000));
  const to = BigInt(Math.round((latest + DUPLICATE_WINDOW_MS) * 1000));
  await connection.run(
    `INSERT INTO usage_events (${COLUMN_LIST}, lever_effects)
     SELECT ${COLUMN_LIST}, ${LEVER_EFFECTS_FROM_JSON} FROM usage_events_incoming
     WHERE request_id NOT IN (
       SELECT request_id FROM usage_events
       WHERE time >= make_timestamp(${from}::BIGINT) AND time <= make_timestamp(${to}::BIGINT)
         AND request_id IN (SELECT request_id FROM usage_events_incoming)
     );
     DROP TABLE usage_events_incoming`,
  );
}

/** The select list that readEvent expects; `time` comes back as exact epoch microseconds. */
export const EVENT_SELECT_LIST = COLUMNS.map(({ name }) => (name === 'time' ? 'epoch_us(time) AS time' : name)).join(', ');

