import type { DuckDBValue } from '@duckdb/node-api';
import type { GroupBy, ReportFilter, ReportQuery, TimeRange } from '../ledger.ts';

export interface SqlQuery {
  sql: string;
  values: Record<string, DuckDBValue>;
}

export const MODEL = 'coalesce(served_model, requested_model)';

/** Group keys are computed in the database; `time` is stored as UTC. */
export const GROUP_KEYS: Record<GroupBy, string> = {
  feature: 'feature',
  customer: 'customer',
  user: 'user_id',
  model: MODEL,
  provider: 'provider',
  day: "strftime(time, '%Y-%m-%d')",
  hour: "strftime(time, '%Y-%m-%dT%H:00Z')",
  api_key: 'api_key_id',
};

/**
 * Time keys are grouped on a cheap value and formatted once per group: formatting every row with
 * strftime costs several times the whole aggregation on a large ledger.
 */
const GROUP_VALUES: Partial<Record<GroupBy, { value: string; label: (column: string) => string }>> = {
  day: { value: 'time::DATE', label: (column) => `strftime(${column}, '%Y-%m-%d')` },
  hour: { value: "date_trunc('hour', time)", label: (column) => `strftime(${column}, '%Y-%m-%dT%H:00Z')` },
};

function epochMillisecondsToMicroseconds(milliseconds: number, name: string): bigint {
  if (!Number.isFinite(milliseconds)) throw new RangeError(`${name} must be epoch milliseconds, got ${milliseconds}`);
  return BigInt(Math.round(milliseconds * 1000));
}

export function timeConditions(range: TimeRange, values: Record<string, DuckDBValue>): string[] {
  const conditions: string[] = [];
  if (range.from !== undefined) {
    values['from'] = epochMillisecondsToMicroseconds(range.from, 'from');
    conditions.push('time >= make_timestamp($from::BIGINT)');
  }
  if (range.to !== undefined) {
    values['to'] = epochMillisecondsToMicroseconds(range.to, 'to');
    conditions.push('time < make_timestamp($to::BIGINT)');
  }
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

export function filterConditions(filter: ReportFilter | undefined, values: Record<string, DuckDBValue>): string[] {
  const conditions: string[] = [];
  for (const [name, expression] of FILTERS) {
    const value = filter?.[name];
    if (value === undefined) continue;
    values[name] = value;
    conditions.push(`${expression} = $${name}`);
  }
  return conditions;
}

export function reportSql(query: ReportQuery): SqlQuery {
  const key = GROUP_KEYS[query.by];
  if (key === undefined) throw new RangeError(`cannot group a report by "${String(query.by)}"`);
  const values: Record<string, DuckDBValue> = {};
  const conditions = [...timeConditions(query, values), ...filterConditions(query.filter, values)];
  let limit = '';
  if (query.top !== undefined) {
    if (!Number.isSafeInteger(query.top) || query.top < 1) throw new RangeError(`top must be a positive integer, got ${query.top}`);
    values['top'] = BigInt(query.top);
    limit = 'LIMIT $top';
  }
  // Sums of BIGINT are HUGEINT in DuckDB, so totals stay exact however many rows they cover.
  // Baseline is summed over the priced rows only, so baseline - cost compares like with like.
  const grouped = GROUP_VALUES[query.by] ?? { value: key, label: (column: string) => column };
  const sql = `
    WITH grouped AS (
    SELECT
      ${grouped.value} AS group_value,
      count(*) AS requests,
      coalesce(sum(input_total), 0) AS input_tokens,
      coalesce(sum(input_cache_read), 0) AS cache_read_tokens,
      coalesce(sum(coalesce(input_cache_write_5m, 0) + coalesce(input_cache_write_1h, 0)), 0) AS cache_write_tokens,
      coalesce(sum(output_total), 0) AS output_tokens,
      coalesce(sum(cost_picousd), 0)::HUGEINT AS cost,
      coalesce(sum(coalesce(baseline_cost_picousd, cost_picousd)) FILTER (WHERE cost_picousd IS NOT NULL), 0)::HUGEINT AS baseline_cost,
      count(*) FILTER (WHERE cost_picousd IS NULL) AS unpriced_requests,
      coalesce(sum(cache_write_premium_picousd), 0)::HUGEINT AS cache_write_premium,
      coalesce(sum(cache_read_saving_picousd), 0)::HUGEINT AS cache_read_savings
    FROM usage_events
    ${where(conditions)}
    GROUP BY group_value
    )
    SELECT ${grouped.label('group_value')} AS group_key, * EXCLUDE (group_value)
    FROM grouped
    ORDER BY cost DESC, unpriced_requests DESC, requests DESC, group_key ASC NULLS LAST
    ${limit}`;
  return { sql, values };
}

export function unpricedModelsSql(range: TimeRange): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
  const conditions = ['cost_picousd IS NULL', ...timeConditions(range, values)];
  const sql = `
    SELECT provider, coalesce(${MODEL}, '') AS model, count(*) AS requests
    FROM usage_events
    ${where(conditions)}
    GROUP BY ALL
    ORDER BY requests DESC, provider, model`;
  return { sql, values };
}
