import type pg from 'pg';
import { InvalidUsageEventError } from '../ledger.ts';
import type { PreparedUsageEvent } from '../prepare-usage-events.ts';

type Cell = string | number | boolean | null;

/** How one usage_events column is filled from an event: its array type for unnest, and its value. */
interface Column {
  name: string;
  type: string;
  value(row: PreparedUsageEvent): Cell;
}

const text = (value: string | undefined): Cell => value ?? null;
const integer = (value: number | bigint | undefined): Cell => (value === undefined ? null : String(value));

const COLUMNS: readonly Column[] = [
  { name: 'request_id', type: 'text', value: ({ event }) => event.requestId },
  // Epoch microseconds, exact; turned into a timestamp in SQL (see EVENT_TIME).
  { name: 'time', type: 'bigint', value: ({ event }) => String(Math.round(event.time * 1000)) },
  { name: 'provider', type: 'text', value: ({ event }) => event.provider },
  { name: 'endpoint', type: 'text', value: ({ event }) => event.endpoint },
  { name: 'requested_model', type: 'text', value: ({ event }) => text(event.requestedModel) },
  { name: 'served_model', type: 'text', value: ({ event }) => text(event.servedModel) },
  { name: 'feature', type: 'text', value: ({ event }) => text(event.attribution.feature) },
  { name: 'customer', type: 'text', value: ({ event }) => text(event.attribution.customer) },
  { name: 'user_id', type: 'text', value: ({ event }) => text(event.attribution.user) },
  { name: 'tags', type: 'json', value: ({ tagsJson }) => tagsJson },
  { name: 'stream', type: 'boolean', value: ({ event }) => event.stream },
  { name: 'status', type: 'integer', value: ({ event }) => event.status },
  { name: 'error_type', type: 'text', value: ({ event }) => text(event.errorType) },
  { name: 'latency_ms', type: 'double precision', value: ({ event }) => event.latencyMs },
  { name: 'ttfb_ms', type: 'double precision', value: ({ event }) => event.ttfbMs ?? null },
  { name: 'input_total', type: 'bigint', value: ({ event }) => integer(event.usage.input.total) },
  { name: 'input_no_cache', type: 'bigint', value: ({ event }) => integer(event.usage.input.noCache) },
  { name: 'input_cache_read', type: 'bigint', value: ({ event }) => integer(event.usage.input.cacheRead) },
  { name: 'input_cache_write_5m', type: 'bigint', value: ({ event }) => integer(event.usage.input.cacheWrite5m) },
  { name: 'input_cache_write_1h', type: 'bigint', value: ({ event }) => integer(event.usage.input.cacheWrite1h) },
  { name: 'output_total', type: 'bigint', value: ({ event }) => integer(event.usage.output.total) },
  { name: 'output_text', type: 'bigint', value: ({ event }) => integer(event.usage.output.text) },
  { name: 'output_reasoning', type: 'bigint', value: ({ event }) => integer(event.usage.output.reasoning) },
  { name: 'usage_raw', type: 'json', value: ({ usageRawJson }) => text(usageRawJson) },
  { name: 'stop_reason', type: 'text', value: ({ event }) => text(event.stopReason) },
  { name: 'cost_picousd', type: 'bigint', value: ({ event }) => integer(event.cost) },
  { name: 'baseline_cost_picousd', type: 'bigint', value: ({ event }) => integer(event.baselineCost) },
  { name: 'price_version', type: 'text', value: ({ event }) => text(event.priceVersion) },
  { name: 'cache_status', type: 'text', value: ({ event }) => text(event.cacheStatus) },
  { name: 'route', type: 'text', value: ({ event }) => text(event.route) },
  { name: 'batch_id', type: 'text', value: ({ event }) => text(event.batchId) },
  { name: 'levers', type: 'json', value: ({ leversJson }) => text(leversJson) },
  { name: 'cache_write_premium_picousd', type: 'bigint', value: ({ event }) => integer(event.cacheWritePremium) },
  { name: 'cache_read_saving_picousd', type: 'bigint', value: ({ event }) => integer(event.cacheReadSaving) },
  { name: 'max_tokens_requested', type: 'bigint', value: ({ event }) => integer(event.maxTokensRequested) },
  { name: 'max_tokens_sent', type: 'bigint', value: ({ event }) => integer(event.maxTokensSent) },
  { name: 'api_key_id', type: 'text', value: ({ event }) => text(event.attribution.apiKeyId) },
];

const COLUMN_LIST = COLUMNS.map(({ name }) => name).join(', ');

/** Epoch microseconds (bigint) to timestamptz, exactly. */
export function microsecondsToTimestamp(expression: string): string {
  return `(timestamptz 'epoch' + ${expression} * interval '1 microsecond')`;
}

const INCOMING_SELECT = COLUMNS.map(({ name }) => (name === 'time' ? `${microsecondsToTimestamp('time')} AS time` : name)).join(', ');

/**
 * One statement for the whole batch: every column travels as one array parameter and unnest turns
 * them back into rows. Request ids are claimed in usage_event_keys first; only the ids this
 * statement claimed are inserted, so a replayed or concurrently appended event is stored once.
 * Being one statement, it is all or nothing.
 */
const INSERT_SQL = `
  WITH incoming AS (
    SELECT ${INCOMING_SELECT}
    FROM unnest(${COLUMNS.map(({ type }, index) => `$${index + 1}::${type}[]`).join(', ')}) AS incoming(${COLUMN_LIST})
  ), claimed AS (
    INSERT INTO usage_event_keys (request_id, time)
    SELECT request_id, time FROM incoming
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_id
  )
  INSERT INTO usage_events (${COLUMN_LIST})
  SELECT ${COLUMN_LIST} FROM incoming WHERE request_id IN (SELECT request_id FROM claimed)`;

/** Returns the rows inserted (events whose request id was new). */
export async function insertEvents(client: pg.ClientBase, rows: readonly PreparedUsageEvent[]): Promise<number> {
  if (rows.length === 0) return 0;
  const arrays = COLUMNS.map((column) => rows.map((row) => column.value(row)));
  const result = await client.query(INSERT_SQL, arrays);
  return result.rowCount ?? 0;
}

/** The select list readEvent expects: JSON as text and `time` as exact epoch microseconds. */
export function eventSelectList(table = 'usage_events'): string {
  return COLUMNS.map(({ name, type }) => {
    if (name === 'time') return `(extract(epoch FROM ${table}.time) * 1000000)::bigint AS time`;
    return type === 'json' ? `${table}.${name}::text AS ${name}` : `${table}.${name}`;
  }).join(', ');
}

/** timestamptz covers 4713 BC to 294276 AD; the gateway's clock stays far inside that. */
const EARLIEST_MS = Date.UTC(-4712, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31);

/**
 * What Postgres refuses that the shared checks allow: a NUL character in text (the spool and DuckDB
 * keep it) and times beyond year 9999 (partition names and bounds are written as ISO dates).
 * Refusing them as invalid sets them aside instead of retrying a batch that can never be stored.
 */
export function checkStorableInPostgres(rows: readonly PreparedUsageEvent[]): void {
  const problems: Array<{ requestId: string; problem: string }> = [];
  for (const row of rows) {
    const { event } = row;
    if (event.time < EARLIEST_MS || event.time > LATEST_MS) problems.push({ requestId: event.requestId, problem: `time ${event.time} is outside what the Postgres ledger stores` });
    for (const column of COLUMNS) {
      const value = column.value(row);
      if (typeof value === 'string' && value.includes('\u0000')) problems.push({ requestId: event.requestId, problem: `${column.name} contains a NUL character, which Postgres text cannot hold` });
    }
  }
  if (problems.length > 0) throw new InvalidUsageEventError(problems);
}
