import type {
  GrowthQuery,
  HourlySeriesQuery,
  LedgerAnalytics,
  ModelProfile,
  ModelProfileQuery,
  ParetoQuery,
  PercentileQuery,
  SavingsQuery,
  TokenRatioQuery,
} from '../analytics.ts';

type Row = Record<string, unknown>;
export type ReadRows<Query> = (query: Query) => Promise<Row[]>;

/** The analytics queries of one backend, in its own SQL dialect and parameter style. */
export interface AnalyticsSql<Query> {
  pareto(query: ParetoQuery): Query;
  growth(query: GrowthQuery, now: number): Query;
  costPercentiles(query: PercentileQuery): Query;
  tokenRatios(query: TokenRatioQuery): Query;
  savings(query: SavingsQuery): Query;
  hourlySeries(query: HourlySeriesQuery): Query;
  modelProfile(query: ModelProfileQuery): Query;
}

const HOUR_MS = 3_600_000;

function key(row: Row, name = 'group_key'): string | null {
  const value = row[name];
  return value === null || value === undefined ? null : String(value);
}

function money(value: unknown): bigint {
  return value === null || value === undefined ? 0n : BigInt(value as bigint);
}

/** A ratio of two picodollar amounts with 1e-9 resolution, computed in integers first. */
export function share(part: bigint, whole: bigint): number {
  if (whole === 0n) return 0;
  return Number((part * 1_000_000_000n) / whole) / 1e9;
}

/**
 * The analytics half of a SQL ledger: each method runs one query from `sql` and maps its rows,
 * which every backend returns under the same column names. Money may come as bigint or decimal
 * string and converts exactly either way. Export is the backend's own (it writes a file).
 */
export function createSqlAnalytics<Query>(
  read: ReadRows<Query>,
  sql: AnalyticsSql<Query>,
  now: () => number = Date.now,
): Omit<LedgerAnalytics, 'exportRows'> {
  return {
    async pareto(query) {
      const rows = await read(sql.pareto(query));
      const first = rows[0];
      const totalCost = money(first?.['total']);
      const totalRequests = Number(first?.['total_requests'] ?? 0);
      const groups = Number(first?.['groups'] ?? 0);
      const result = rows.map((row) => ({
        key: key(row),
        requests: Number(row['requests']),
        cost: money(row['cost']),
        share: share(money(row['cost']), totalCost),
        cumulativeShare: share(money(row['cumulative']), totalCost),
      }));
      const shownCost = result.reduce((sum, row) => sum + row.cost, 0n);
      const shownRequests = result.reduce((sum, row) => sum + row.requests, 0);
      return {
        totalCost,
        groups,
        rows: result,
        rest: { groups: groups - result.length, cost: totalCost - shownCost, requests: totalRequests - shownRequests },
      };
    },

    async growth(query) {
      const rows = await read(sql.growth(query, now()));
      return rows.map((row) => {
        const currentCost = money(row['current_cost']);
        const previousCost = money(row['previous_cost']);
        const change = currentCost - previousCost;
        return {
          key: key(row),
          currentCost,
          previousCost,
          change,
          changeRatio: previousCost === 0n ? null : share(change, previousCost),
          currentRequests: Number(row['current_requests']),
          previousRequests: Number(row['previous_requests']),
        };
      });
    },

    async costPercentiles(query) {
      const rows = await read(sql.costPercentiles(query));
      return rows
        .filter((row) => Number(row['requests']) > 0)
        .map((row) => {
          const percentiles = (row['percentiles'] as unknown[] | null) ?? [];
          return {
            key: key(row),
            requests: Number(row['requests']),
            mean: money(row['mean']),
            p50: money(percentiles[0]),
            p90: money(percentiles[1]),
            p95: money(percentiles[2]),
            p99: money(percentiles[3]),
            max: money(row['max_cost']),
          };
        });
    },

    async tokenRatios(query) {
      const rows = await read(sql.tokenRatios(query));
      return rows.map((row) => {
        const inputTokens = Number(row['input_tokens']);
        const outputTokens = Number(row['output_tokens']);
        return {
          key: key(row),
          requests: Number(row['requests']),
          inputTokens,
          outputTokens,
          inputOutputRatio: outputTokens === 0 ? null : inputTokens / outputTokens,
          meanInputTokens: Number(row['mean_input']),
          meanOutputTokens: Number(row['mean_output']),
          cacheHitRate: inputTokens === 0 ? 0 : Number(row['cache_read']) / inputTokens,
          cost: money(row['cost']),
        };
      });
    },

    async savings(query) {
      const rows = await read(sql.savings(query));
      return rows.map((row) => ({
        lever: String(row['lever']),
        key: key(row),
        requests: Number(row['requests']),
        measured: money(row['measured']),
        estimated: money(row['estimated']),
        measuredRequests: Number(row['measured_requests']),
        estimatedRequests: Number(row['estimated_requests']),
      }));
    },

    async hourlySeries(query) {
      const rows = await read(sql.hourlySeries(query));
      return rows.map((row) => ({
        key: key(row, 'series_key'),
        hour: Number(row['hour']),
        requests: Number(row['requests']),
        inputTokens: Number(row['input_tokens']),
        outputTokens: Number(row['output_tokens']),
        cacheReadTokens: Number(row['cache_read_tokens']),
        cacheWriteTokens: Number(row['cache_write_tokens']),
        cost: money(row['cost']),
        pricedRequests: Number(row['priced_requests']),
        topModel: key(row, 'top_model'),
        errors: Number(row['errors']),
      }));
    },

    async modelProfile(query) {
      const rows = await read(sql.modelProfile(query));
      const byHour = new Map(rows.map((row) => [Number(row['hour']), row]));
      const seen = [...byHour.keys()];
      // Without an explicit range, the profile spans the hours the model was seen.
      const from = Math.floor((query.from ?? (seen.length > 0 ? Math.min(...seen) : now())) / HOUR_MS) * HOUR_MS;
      const to = query.to ?? (seen.length > 0 ? Math.max(...seen) + HOUR_MS : from);
      const hours: ModelProfile['hours'] = [];
      for (let hour = from; hour < to; hour += HOUR_MS) {
        const row = byHour.get(hour);
        hours.push({
          hour,
          requests: Number(row?.['requests'] ?? 0),
          inputTokens: Number(row?.['input_tokens'] ?? 0),
          outputTokens: Number(row?.['output_tokens'] ?? 0),
          cost: money(row?.['cost']),
        });
      }
      return { model: query.model, from, to, hours };
    },
  };
}
