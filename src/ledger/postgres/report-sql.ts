import type { GroupBy, ReportFilter, ReportQuery, TimeRange } from '../ledger.ts';
import type { NamedQuery } from './connection.ts';
import { microsecondsToTimestamp } from './event-rows.ts';

/**
 * The report queries in Postgres SQL, with the same columns and order as the DuckDB backend's.
 * Sums of BIGINT are NUMERIC in Postgres, so totals stay exact; they arrive as decimal strings.
 * Text keys sort by byte, as DuckDB's do, whatever the database's collation (see byteOrdered).
 */
export const MODEL = 'coalesce(served_model, requested_model)';

export const GROUP_KEYS: Record<GroupBy, string> = {
  feature: 'feature',
  customer: 'customer',
  user: 'user_id',
  model: MODEL,
  provider: 'provider',
  day: "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
  hour: `to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:00"Z"')`,
  api_key: 'api_key_id',
};

/**
 * A group key sorted by byte, independent of the database's collation. Applied in the select list,
 * since ORDER BY accepts an output name only bare, not inside an expression.
 */
export function byteOrdered(expression: string): string {
  return `(${expression}) COLLATE "C"`;
}

function epochMillisecondsToMicroseconds(milliseconds: number, name: string): string {
  if (!Number.isFinite(milliseconds)) throw new RangeError(`${name} must be epoch milliseconds, got ${milliseconds}`);
  return String(Math.round(milliseconds * 1000));
}

/** A timestamptz from an epoch-millisecond parameter (sent as exact microseconds). */
export function timeParameter(name: string, milliseconds: number, values: Record<string, unknown>): string {
  values[name] = epochMillisecondsToMicroseconds(milliseconds, name);
  return microsecondsToTimestamp(`$${name}::bigint`);
}

export function timeConditions(range: TimeRange, values: Record<string, unknown>): string[] {
  const conditions: string[] = [];
  if (range.from !== undefined) conditions.push(`time >= ${timeParameter('from', range.from, values)}`);
  if (range.to !== undefined) conditions.push(`time < ${timeParameter('to', range.to, values)}`);
  return conditions;
}

export function where(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

const FILTERS: Array<[keyof ReportFilter, string]> = [
  ['feature', 'feature'],
  ['customer', 'customer'],
  ['provider', 'provider'],
  ['model', MODEL],
];

export function filterConditions(filter: ReportFilter | undefined, values: Record<string, unknown>): string[] {
  const conditions: string[] = [];
  for (const [name, expression] of FILTERS) {
    const value = filter?.[name];
    if (value === undefined) continue;
    values[name] = value;
    conditions.push(`${expression} = $${name}::text`);
  }
  return conditions;
}

export function limit(top: number | undefined, values: Record<string, unknown>): string {
  if (top === undefined) return '';
  if (!Number.isSafeInteger(top) || top < 1) throw new RangeError(`top must be a positive integer, got ${top}`);
  values['top'] = top;
  return 'LIMIT $top::bigint';
}

export function reportSql(query: ReportQuery): NamedQuery {
  const key = GROUP_KEYS[query.by];
  if (key === undefined) throw new RangeError(`cannot group a report by "${String(query.by)}"`);
  const values: Record<string, unknown> = {};
  const conditions = [...timeConditions(query, values), ...filterConditions(query.filter, values)];
  const top = limit(query.top, values);
  // Baseline is summed over the priced rows only, so baseline - cost compares like with like.
  const sql = `
    SELECT
      ${byteOrdered(key)} AS group_key,
      count(*) AS requests,
      coalesce(sum(input_total), 0) AS input_tokens,
      coalesce(sum(input_cache_read), 0) AS cache_read_tokens,
      coalesce(sum(coalesce(input_cache_write_5m, 0) + coalesce(input_cache_write_1h, 0)), 0) AS cache_write_tokens,
      coalesce(sum(output_total), 0) AS output_tokens,
      coalesce(sum(cost_picousd), 0) AS cost,
      coalesce(sum(coalesce(baseline_cost_picousd, cost_picousd)) FILTER (WHERE cost_picousd IS NOT NULL), 0) AS baseline_cost,
      count(*) FILTER (WHERE cost_picousd IS NULL) AS unpriced_requests,
      coalesce(sum(cache_write_premium_picousd), 0) AS cache_write_premium,
      coalesce(sum(cache_read_saving_picousd), 0) AS cache_read_savings
    FROM usage_events
    ${where(conditions)}
    GROUP BY 1
    ORDER BY cost DESC, unpriced_requests DESC, requests DESC, group_key ASC NULLS LAST
    ${top}`;
  return { sql, values };
}

export function unpricedModelsSql(range: TimeRange): NamedQuery {
  const values: Record<string, unknown> = {};
  const conditions = ['cost_picousd IS NULL', ...timeConditions(range, values)];
  const sql = `
    SELECT ${byteOrdered('provider')} AS provider, ${byteOrdered(`coalesce(${MODEL}, '')`)} AS model, count(*) AS requests
    FROM usage_events
    ${where(conditions)}
    GROUP BY 1, 2
    ORDER BY requests DESC, provider, model`;
  return { sql, values };
}
