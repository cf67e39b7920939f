import type { Lever } from '../core/lever.ts';
import type { Picodollars } from '../core/money.ts';
import type { GroupBy, ReportFilter, TimeRange } from './ledger.ts';

/**
 * Query shapes of the analytics the Ledger answers in its database (spend attribution, savings by
 * lever, anomaly series, hourly token profiles). Every method takes the same time range and filter
 * as `report`; money comes back as exact picodollars.
 */
export interface AnalyticsQuery extends TimeRange {
  filter?: ReportFilter;
}

export interface ParetoQuery extends AnalyticsQuery {
  /** Default 'customer'. */
  by?: GroupBy;
  /** Keep the first `top` groups; the rest are summed into `rest`. Default 10. */
  top?: number;
}

/** Top groups by cost with their cumulative share: "which 10 customers make up 60% of spend". */
export interface ParetoReport {
  /** Sum over every priced row in range. */
  totalCost: Picodollars;
  /** How many groups there are in all (null group included). */
  groups: number;
  rows: ParetoRow[];
  /** The groups beyond `top`, summed. */
  rest: { groups: number; cost: Picodollars; requests: number };
}

export interface ParetoRow {
  key: string | null;
  requests: number;
  cost: Picodollars;
  /** cost / totalCost, 0..1 (0 when nothing was spent). */
  share: number;
  /** Share of this row and every row above it. */
  cumulativeShare: number;
}

export interface GrowthQuery extends ReportFilter {
  /** Default 'feature'. */
  by?: GroupBy;
  /** End of the current period (exclusive), epoch ms. Default now. */
  to?: number;
  /** Period length in ms. Default 7 days (week over week). */
  periodMs?: number;
  top?: number;
}

/** One group's cost in the period ending at `to` against the period before it, ranked by dollar growth. */
export interface GrowthRow {
  key: string | null;
  currentCost: Picodollars;
  previousCost: Picodollars;
  /** currentCost - previousCost. Rows come sorted by this, largest growth first. */
  change: Picodollars;
  /** change / previousCost, null when there was no previous spend (a new group). */
  changeRatio: number | null;
  currentRequests: number;
  previousRequests: number;
}

export interface PercentileQuery extends AnalyticsQuery {
  /** Group rows; absent = one row over everything (key null). */
  by?: GroupBy;
  top?: number;
}

/** Cost per request over priced rows; percentiles are actual row values (discrete), so exact. */
export interface CostPercentileRow {
  key: string | null;
  /** Priced requests the percentiles are over. */
  requests: number;
  mean: Picodollars;
  p50: Picodollars;
  p90: Picodollars;
  p95: Picodollars;
  p99: Picodollars;
  max: Picodollars;
}

export interface TokenRatioQuery extends AnalyticsQuery {
  /** Default 'feature'. */
  by?: GroupBy;
  top?: number;
}

/** Input versus output per group: a RAG feature reads a lot and writes little, a writer the reverse. */
export interface TokenRatioRow {
  key: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** inputTokens / outputTokens, null when no output tokens were reported. */
  inputOutputRatio: number | null;
  meanInputTokens: number;
  meanOutputTokens: number;
  /** Cache reads / input tokens (0..1), over rows that reported input. */
  cacheHitRate: number;
  cost: Picodollars;
}

export type SavingsBy = 'feature' | 'customer' | 'model' | 'provider';

export interface SavingsQuery extends AnalyticsQuery {
  /** Split each lever's savings by this group; absent = one row per lever. */
  by?: SavingsBy;
}

/** What one lever saved (baseline minus cost) in one group, measured kept apart from estimated. */
export interface SavingsRow {
  lever: Lever | string;
  /** Group value when `by` was given; null = not attributed, or no grouping. */
  key: string | null;
  /** Requests on which the lever recorded an effect. */
  requests: number;
  measured: Picodollars;
  estimated: Picodollars;
  measuredRequests: number;
  estimatedRequests: number;
}

/** `api_key` is the hashed client credential (never the key itself). */
export type SeriesDimension = 'total' | 'feature' | 'customer' | 'model' | 'provider' | 'api_key';

export interface HourlySeriesQuery extends AnalyticsQuery {
  dimension: SeriesDimension;
}

/** One series' usage in one UTC hour; hours with no calls are absent. */
export interface HourlyPoint {
  /** Series value; for 'total' always "all". null = not attributed. */
  key: string | null;
  /** Start of the hour, epoch ms. */
  hour: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Priced rows only. */
  cost: Picodollars;
  pricedRequests: number;
  /** The model serving most of this hour's calls (served, else requested). */
  topModel: string | null;
  errors: number;
}

export interface ModelProfileQuery extends TimeRange {
  /** Served, else requested, model; matched exactly or as a suffix after a region prefix ("us."). */
  model: string;
}

/** A model's hourly token profile, hours with no traffic included as zeros. */
export interface ModelProfile {
  model: string;
  from: number;
  to: number;
  hours: Array<{ hour: number; inputTokens: number; outputTokens: number; requests: number; cost: Picodollars }>;
}

export type ExportFormat = 'parquet' | 'csv';

export interface ExportQuery extends TimeRange {
  format: ExportFormat;
  /** File to write; the backend writes it itself (DuckDB COPY). */
  path: string;
}

/** The analytics every Ledger backend answers (and the conformance suite checks). */
export interface LedgerAnalytics {
  pareto(query: ParetoQuery): Promise<ParetoReport>;
  growth(query: GrowthQuery): Promise<GrowthRow[]>;
  costPercentiles(query: PercentileQuery): Promise<CostPercentileRow[]>;
  tokenRatios(query: TokenRatioQuery): Promise<TokenRatioRow[]>;
  savings(query: SavingsQuery): Promise<SavingsRow[]>;
  /** Rows sorted by key, then hour. */
  hourlySeries(query: HourlySeriesQuery): Promise<HourlyPoint[]>;
  modelProfile(query: ModelProfileQuery): Promise<ModelProfile>;
  /** Writes the rows in range to a file for warehouses; returns the number of rows written. */
  exportRows(query: ExportQuery): Promise<number>;
}

/** For ledgers that only store (test doubles, counting ledgers): every analytics method rejects. */
export function analyticsUnsupported(reason: string): LedgerAnalytics {
  const refuse = (): Promise<never> => Promise.reject(new Error(reason));
  return {
    pareto: refuse,
    growth: refuse,
    costPercentiles: refuse,
    tokenRatios: refuse,
    savings: refuse,
    hourlySeries: refuse,
    modelProfile: refuse,
    exportRows: refuse,
  };
}
