import type { DuckDBValue } from '@duckdb/node-api';
import type {
  ExportQuery,
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
import { filterConditions, GROUP_KEYS, MODEL, timeConditions, where, type SqlQuery } from './report-sql.ts';

export const DAY_MS = 86_400_000;

function groupKey(by: GroupBy | undefined, fallback: GroupBy): string {
  const key = GROUP_KEYS[by ?? fallback];
  if (key === undefined) throw new RangeError(`cannot group by "${String(by)}"`);
  return key;
}

function limit(top: number | undefined, values: Record<string, DuckDBValue>): string {
  if (top === undefined) return '';
  if (!Number.isSafeInteger(top) || top < 1) throw new RangeError(`top must be a positive integer, got ${top}`);
  values['top'] = BigInt(top);
  return 'LIMIT $top';
}

function conditions(query: Pick<PercentileQuery, 'from' | 'to' | 'filter'>, values: Record<string, DuckDBValue>, extra: string[] = []): string {
  return where([...timeConditions(query, values), ...filterConditions(query.filter, values), ...extra]);
}

/** Groups by cost with a running total computed by a window over the grouped rows. */
export function paretoSql(query: ParetoQuery): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
  const key = groupKey(query.by, 'customer');
  const filter = conditions(query, values);
  const top = limit(query.top ?? 10, values);
  const order = 'cost DESC, requests DESC, group_key ASC NULLS LAST';
  const sql = `
    WITH grouped AS (
      SELECT ${key} AS group_key, count(*) AS requests, coalesce(sum(cost_picousd), 0)::HUGEINT AS cost
      FROM usage_events ${filter}
      GROUP BY group_key
    )
    SELECT group_key, requests, cost,
      sum(cost) OVER (ORDER BY ${order} ROWS UNBOUNDED PRECEDING)::HUGEINT AS cumulative,
      sum(cost) OVER ()::HUGEINT AS total,
      sum(requests) OVER () AS total_requests,
      count(*) OVER () AS groups
    FROM grouped
    ORDER BY ${order}
    ${top}`;
  return { sql, values };
}

/** Two adjacent periods in one scan: FILTER splits the sums at the boundary. */
export function growthSql(query: GrowthQuery, now: number): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
  const key = groupKey(query.by, 'feature');
  const period = query.periodMs ?? 7 * DAY_MS;
  if (!Number.isFinite(period) || period <= 0) throw new RangeError(`periodMs must be positive, got ${period}`);
  const to = query.to ?? now;
  const filter = conditions({ from: to - 2 * period, to, filter: query }, values);
  values['boundary'] = BigInt(Math.round((to - period) * 1000));
  const current = 'time >= make_timestamp($boundary::BIGINT)';
  const top = limit(query.top, values);
  const sql = `
    SELECT ${key} AS group_key,
      coalesce(sum(cost_picousd) FILTER (WHERE ${current}), 0)::HUGEINT AS current_cost,
      coalesce(sum(cost_picousd) FILTER (WHERE NOT (${current})), 0)::HUGEINT AS previous_cost,
      count(*) FILTER (WHERE ${current}) AS current_requests,
      count(*) FILTER (WHERE NOT (${current})) AS previous_requests
    FROM usage_events ${filter}
    GROUP BY group_key
    ORDER BY current_cost - previous_cost DESC, current_cost DESC, group_key ASC NULLS LAST
    ${top}`;
  return { sql, values };
}

/** quantile_disc returns stored values, so percentiles of integer picodollars stay exact. */
export function costPercentilesSql(query: PercentileQuery): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
  const key = query.by === undefined ? 'NULL' : groupKey(query.by, 'feature');
  const filter = conditions(query, values, ['cost_picousd IS NOT NULL']);
  const top = limit(query.top, values);
  const sql = `
    SELECT ${key} AS group_key,
      count(*) AS requests,
      (sum(cost_picousd)::HUGEINT // greatest(count(*), 1))::HUGEINT AS mean,
      quantile_disc(cost_picousd, [0.5, 0.9, 0.95, 0.99]) AS percentiles,
      max(cost_picousd) AS max_cost,
      sum(cost_picousd)::HUGEINT AS total
    FROM usage_events ${filter}
    ${query.by === undefined ? '' : 'GROUP BY group_key'}
    ORDER BY total DESC NULLS LAST, group_key ASC NULLS LAST
    ${top}`;
  return { sql, values };
}

export function tokenRatiosSql(query: TokenRatioQuery): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
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
      coalesce(sum(cost_picousd), 0)::HUGEINT AS cost
    FROM usage_events ${filter}
    GROUP BY group_key
    ORDER BY cost DESC, requests DESC, group_key ASC NULLS LAST
    ${top}`;
  return { sql, values };
}

const SAVINGS_KEYS = { feature: 'feature', customer: 'customer', model: MODEL, provider: 'provider' } as const;

/**
 * Each row's lever effects are unnested in the database from `lever_effects`, the typed copy of the
 * `levers` JSON filled on insert (migration 11), so no JSON is parsed per report; savings are
 * HUGEINT, so sums stay exact.
 */
export function savingsSql(query: SavingsQuery): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
  const key = query.by === undefined ? 'NULL' : SAVINGS_KEYS[query.by];
  if (key === undefined) throw new RangeError(`cannot split savings by "${String(query.by)}"`);
  const filter = conditions(query, values, ['lever_effects IS NOT NULL']);
  const sql = `
    WITH effects AS (
      SELECT ${key} AS group_key, unnest(lever_effects) AS effect
      FROM usage_events ${filter}
    ), summed AS (
      SELECT effect.lever AS lever, group_key,
        count(*) AS requests,
        coalesce(sum(effect.saving) FILTER (WHERE NOT coalesce(effect.estimated, false)), 0)::HUGEINT AS measured,
        coalesce(sum(effect.saving) FILTER (WHERE coalesce(effect.estimated, false)), 0)::HUGEINT AS estimated,
        count(*) FILTER (WHERE NOT coalesce(effect.estimated, false)) AS measured_requests,
        count(*) FILTER (WHERE coalesce(effect.estimated, false)) AS estimated_requests
      FROM effects
      WHERE effect.lever IS NOT NULL
      GROUP BY ALL
    )
    SELECT *, sum(measured + estimated) OVER (PARTITION BY lever) AS lever_total
    FROM summed
    ORDER BY lever_total DESC, lever, measured + estimated DESC, group_key ASC NULLS LAST`;
  return { sql, values };
}

const SERIES_KEYS: Record<SeriesDimension, string> = {
  total: "'all'",
  feature: 'feature',
  customer: 'customer',
  model: MODEL,
  provider: 'provider',
  api_key: 'api_key_id',
};

export function hourlySeriesSql(query: HourlySeriesQuery): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
  const key = SERIES_KEYS[query.dimension];
  if (key === undefined) throw new RangeError(`no series dimension "${String(query.dimension)}"`);
  const filter = conditions(query, values);
  const sql = `
    SELECT ${key} AS series_key,
      epoch_ms(date_trunc('hour', time)) AS hour,
      count(*) AS requests,
      coalesce(sum(input_total), 0) AS input_tokens,
      coalesce(sum(output_total), 0) AS output_tokens,
      coalesce(sum(input_cache_read), 0) AS cache_read_tokens,
      coalesce(sum(coalesce(input_cache_write_5m, 0) + coalesce(input_cache_write_1h, 0)), 0) AS cache_write_tokens,
      coalesce(sum(cost_picousd), 0)::HUGEINT AS cost,
      count(cost_picousd) AS priced_requests,
      mode(${MODEL}) AS top_model,
      count(*) FILTER (WHERE status >= 400 OR status = 0) AS errors
    FROM usage_events ${filter}
    GROUP BY ALL
    ORDER BY series_key ASC NULLS LAST, hour`;
  return { sql, values };
}

/** Exact id, or the same id behind a Bedrock inference-profile prefix ("us.", "global."). */
export function modelProfileSql(query: ModelProfileQuery): SqlQuery {
  const values: Record<string, DuckDBValue> = { model: query.model };
  const filter = conditions(query, values, [`(${MODEL} = $model OR ${MODEL} LIKE '%.' || $model)`]);
  const sql = `
    SELECT epoch_ms(date_trunc('hour', time)) AS hour,
      count(*) AS requests,
      coalesce(sum(input_total), 0) AS input_tokens,
      coalesce(sum(output_total), 0) AS output_tokens,
      coalesce(sum(cost_picousd), 0)::HUGEINT AS cost
    FROM usage_events ${filter}
    GROUP BY ALL
    ORDER BY hour`;
  return { sql, values };
}

/** USD as exact DECIMAL(32,12) beside the picodollar integers, which warehouses load as NUMERIC. */
function usd(column: string): string {
  return `${column}::DECIMAL(19,0) * 0.000000000001::DECIMAL(13,12)`;
}

const EXPORT_COLUMNS = `
  request_id, time, provider, endpoint, requested_model, served_model, ${MODEL} AS model,
  feature, customer, user_id, tags::VARCHAR AS tags, stream, status, error_type, latency_ms, ttfb_ms,
  input_total, input_no_cache, input_cache_read, input_cache_write_5m, input_cache_write_1h,
  output_total, output_text, output_reasoning, stop_reason,
  cost_picousd, baseline_cost_picousd, ${usd('cost_picousd')} AS cost_usd, ${usd('baseline_cost_picousd')} AS baseline_cost_usd,
  cache_write_premium_picousd, cache_read_saving_picousd, price_version, cache_status, route, batch_id,
  levers::VARCHAR AS levers`;

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** COPY cannot take its target as a parameter, so the path is quoted as a literal. */
export function exportSql(query: ExportQuery): SqlQuery {
  const values: Record<string, DuckDBValue> = {};
  const filter = conditions(query, values);
  const options = query.format === 'parquet' ? 'FORMAT PARQUET, COMPRESSION ZSTD' : query.format === 'csv' ? 'FORMAT CSV, HEADER' : undefined;
  if (options === undefined) throw new RangeError(`export format must be parquet or csv, got "${String(query.format)}"`);
  const sql = `COPY (SELECT ${EXPORT_COLUMNS} FROM usage_events ${filter} ORDER BY time) TO ${sqlString(query.path)} (${options})`;
  return { sql, values };
}
