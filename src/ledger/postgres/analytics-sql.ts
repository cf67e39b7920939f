import type {
  GrowthQuery,
  HourlySeriesQuery,
  ModelProfileQuery,
  ParetoQuery,
  PercentileQuery,
  SavingsQuery,
  SeriesDimension,
  TokenRatioQuery,
} from '../analytics.ts';
import type { GroupBy } from '../ledger.ts';
import type { AnalyticsSql } from '../rows/analytics-rows.ts';
import type { NamedQuery } from './connection.ts';
import { byteOrdered, filterConditions, GROUP_KEYS, limit, MODEL, timeConditions, timeParameter, where } from './report-sql.ts';

/**
 * The analytics queries in Postgres SQL, answering with the columns the DuckDB backend's do (see
 * rows/analytics-rows.ts). Money sums are NUMERIC (exact, sent as decimal strings).
 */
const DAY_MS = 86_400_000;

function groupKey(by: GroupBy | undefined, fallback: GroupBy): string {
  const key = GROUP_KEYS[by ?? fallback];
  if (key === undefined) throw new RangeError(`cannot group by "${String(by)}"`);
  return byteOrdered(key);
}

function conditions(query: Pick<PercentileQuery, 'from' | 'to' | 'filter'>, values: Record<string, unknown>, extra: string[] = []): string {
  return where([...timeConditions(query, values), ...filterConditions(query.filter, values), ...extra]);
}

/** Epoch milliseconds of a timestamptz, exact. */
function epochMilliseconds(expression: string): string {
  return `(extract(epoch FROM ${expression}) * 1000)::bigint`;
}

const UTC_HOUR = "date_trunc('hour', time, 'UTC')";

export function paretoSql(query: ParetoQuery): NamedQuery {
  const values: Record<string, unknown> = {};
  const key = groupKey(query.by, 'customer');
  const filter = conditions(query, values);
  const top = limit(query.top ?? 10, values);
  const order = 'cost DESC, requests DESC, group_key ASC NULLS LAST';
  const sql = `
    WITH grouped AS (
      SELECT ${key} AS group_key, count(*) AS requests, coalesce(sum(cost_picousd), 0) AS cost
      FROM usage_events ${filter}
      GROUP BY 1
    )
    SELECT group_key, requests, cost,
      sum(cost) OVER (ORDER BY ${order} ROWS UNBOUNDED PRECEDING) AS cumulative,
      sum(cost) OVER () AS total,
      sum(requests) OVER () AS total_requests,
      count(*) OVER () AS groups
    FROM grouped
    ORDER BY ${order}
    ${top}`;
  return { sql, values };
}

export function growthSql(query: GrowthQuery, now: number): NamedQuery {
  const values: Record<string, unknown> = {};
  const key = groupKey(query.by, 'feature');
  const period = query.periodMs ?? 7 * DAY_MS;
  if (!Number.isFinite(period) || period <= 0) throw new RangeError(`periodMs must be positive, got ${period}`);
  const to = query.to ?? now;
  const filter = conditions({ from: to - 2 * period, to, filter: query }, values);
  const current = `time >= ${timeParameter('boundary', to - period, values)}`;
  const top = limit(query.top, values);
  const sql = `
    SELECT * FROM (
      SELECT ${key} AS group_key,
        coalesce(sum(cost_picousd) FILTER (WHERE ${current}), 0) AS current_cost,
        coalesce(sum(cost_picousd) FILTER (WHERE NOT (${current})), 0) AS previous_cost,
        count(*) FILTER (WHERE ${current}) AS current_requests,
        count(*) FILTER (WHERE NOT (${current})) AS previous_requests
      FROM usage_events ${filter}
      GROUP BY 1
    ) grouped
    ORDER BY current_cost - previous_cost DESC, current_cost DESC, group_key ASC NULLS LAST
    ${top}`;
  return { sql, values };
}

/** percentile_disc returns stored values, so percentiles of integer picodollars stay exact. */
export function costPercentilesSql(query: PercentileQuery): NamedQuery {
  const values: Record<string, unknown> = {};
  const key = query.by === undefined ? 'NULL::text' : groupKey(query.by, 'feature');
  const filter = conditions(query, values, ['cost_picousd IS NOT NULL']);
  const top = limit(query.top, values);
  const sql = `
    SELECT ${key} AS group_key,
      count(*) AS requests,
      div(sum(cost_picousd), greatest(count(*), 1)) AS mean,
      percentile_disc(ARRAY[0.5, 0.9, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY cost_picousd) AS percentiles,
      max(cost_picousd) AS max_cost,
      sum(cost_picousd) AS total
    FROM usage_events ${filter}
    ${query.by === undefined ? '' : 'GROUP BY 1'}
    ORDER BY total DESC NULLS LAST, group_key ASC NULLS LAST
    ${top}`;
  return { sql, values };
}

export function tokenRatiosSql(query: TokenRatioQuery): NamedQuery {
  const values: Record<string, unknown> = {};
  const key = groupKey(query.by, 'feature');
  const filter = conditions(query, values);
  const top = limit(query.top, values);
  const sql = `
    SELECT ${key} AS group_key,
      count(*) AS requests,
      coalesce(sum(input_total), 0) AS input_tokens,
      coalesce(sum(output_total), 0) AS output_tokens,
      coalesce(avg(input_total), 0) AS mean_input,
      coalesce(avg(output_total), 0) AS mean_output,
      coalesce(sum(input_cache_read) FILTER (WHERE input_total IS NOT NULL), 0) AS cache_read,
      coalesce(sum(cost_picousd), 0) AS cost
    FROM usage_events ${filter}
    GROUP BY 1
    ORDER BY cost DESC, requests DESC, group_key ASC NULLS LAST
    ${top}`;
  return { sql, values };
}

const SAVINGS_KEYS = { feature: 'feature', customer: 'customer', model: MODEL, provider: 'provider' } as const;

/** Each row's `levers` JSON array is expanded in the database; savings are decimal strings cast to NUMERIC. */
export function savingsSql(query: SavingsQuery): NamedQuery {
  const values: Record<string, unknown> = {};
  const key = query.by === undefined ? 'NULL::text' : SAVINGS_KEYS[query.by];
  if (key === undefined) throw new RangeError(`cannot split savings by "${String(query.by)}"`);
  const filter = conditions(query, values, ['levers IS NOT NULL']);
  const estimated = "coalesce((effect->>'estimated')::boolean, false)";
  const sql = `
    WITH effects AS (
      SELECT ${byteOrdered(key)} AS group_key, (effect->>'lever') COLLATE "C" AS lever, (effect->>'saving')::numeric AS saving, ${estimated} AS estimated
      FROM usage_events CROSS JOIN LATERAL json_array_elements(levers) AS effect
      ${filter}
    ), summed AS (
      SELECT lever, group_key,
        count(*) AS requests,
        coalesce(sum(saving) FILTER (WHERE NOT estimated), 0) AS measured,
        coalesce(sum(saving) FILTER (WHERE estimated), 0) AS estimated,
        count(*) FILTER (WHERE NOT estimated) AS measured_requests,
        count(*) FILTER (WHERE estimated) AS estimated_requests
      FROM effects
      WHERE lever IS NOT NULL
      GROUP BY 1, 2
    )
    SELECT *, sum(measured + estimated) OVER (PARTITION BY lever) AS lever_total
    FROM summed
    ORDER BY lever_total DESC, lever, measured + estimated DESC, group_key ASC NULLS LAST`;
  return { sql, values };
}

const SERIES_KEYS: Record<SeriesDimension, string> = {
  total: "'all'::text",
  feature: 'feature',
  customer: 'customer',
  model: MODEL,
  provider: 'provider',
  api_key: 'api_key_id',
};

export function hourlySeriesSql(query: HourlySeriesQuery): NamedQuery {
  const values: Record<string, unknown> = {};
  const key = SERIES_KEYS[query.dimension];
  if (key === undefined) throw new RangeError(`no series dimension "${String(query.dimension)}"`);
  const filter = conditions(query, values);
  const sql = `
    SELECT ${byteOrdered(key)} AS series_key,
      ${epochMilliseconds(UTC_HOUR)} AS hour,
      count(*) AS requests,
      coalesce(sum(input_total), 0) AS input_tokens,
      coalesce(sum(output_total), 0) AS output_tokens,
      coalesce(sum(input_cache_read), 0) AS cache_read_tokens,
      coalesce(sum(coalesce(input_cache_write_5m, 0) + coalesce(input_cache_write_1h, 0)), 0) AS cache_write_tokens,
      coalesce(sum(cost_picousd), 0) AS cost,
      count(cost_picousd) AS priced_requests,
      mode() WITHIN GROUP (ORDER BY ${MODEL}) AS top_model,
      count(*) FILTER (WHERE status >= 400 OR status = 0) AS errors
    FROM usage_events ${filter}
    GROUP BY 1, 2
    ORDER BY series_key ASC NULLS LAST, hour`;
  return { sql, values };
}

/** Exact id, or the same id behind a Bedrock inference-profile prefix ("us.", "global."). */
export function modelProfileSql(query: ModelProfileQuery): NamedQuery {
  const values: Record<string, unknown> = { model: query.model };
  const filter = conditions(query, values, [`(${MODEL} = $model::text OR ${MODEL} LIKE ('%.' || $model::text))`]);
  const sql = `
    SELECT ${epochMilliseconds(UTC_HOUR)} AS hour,
      count(*) AS requests,
      coalesce(sum(input_total), 0) AS input_tokens,
      coalesce(sum(output_total), 0) AS output_tokens,
      coalesce(sum(cost_picousd), 0) AS cost
    FROM usage_events ${filter}
    GROUP BY 1
    ORDER BY hour`;
  return { sql, values };
}

export const POSTGRES_ANALYTICS_SQL: AnalyticsSql<NamedQuery> = {
  pareto: paretoSql,
  growth: growthSql,
  costPercentiles: costPercentilesSql,
  tokenRatios: tokenRatiosSql,
  savings: savingsSql,
  hourlySeries: hourlySeriesSql,
  modelProfile: modelProfileSql,
};
