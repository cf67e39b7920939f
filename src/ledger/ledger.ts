import type { Picodollars } from '../core/money.ts';
import type { Outcome, OutcomeQuery } from '../core/outcome.ts';
import type { UsageEvent } from '../core/usage-event.ts';
import type { LedgerAnalytics } from './analytics.ts';
import type { OutputStatisticsQuery, OutputStatisticsRow } from './output-statistics.ts';

/**
 * Where every call's usage and cost is kept. Backends (DuckDB, later Postgres) must pass the
 * one suite in ledger-conformance.ts, so callers can rely on the behaviour documented here.
 */
export interface Ledger extends LedgerAnalytics {
  /**
   * Idempotent on requestId: appending an event whose requestId is already stored is a no-op,
   * and so is a repeat of the same requestId within one call (the first one wins).
   * All or nothing: if any event is invalid, nothing is stored and InvalidUsageEventError is thrown.
   */
  append(events: readonly UsageEvent[]): Promise<void>;
  report(query: ReportQuery): Promise<ReportRow[]>;
  /** Models seen with cost unknown (unpriced), with request counts. */
  unpricedModels(query?: TimeRange): Promise<UnpricedModel[]>;
  /**
   * For tests and audits: rows by request id (full UsageEvent round trip, bigint costs exact,
   * usage fields undefined vs 0 preserved), in the order asked; unknown ids are left out.
   */
  get(requestIds: readonly string[]): Promise<UsageEvent[]>;
  /** Per feature and model: answer and reasoning percentiles, caps, truncations, a simulated learned cap. */
  outputStatistics(query?: OutputStatisticsQuery): Promise<OutputStatisticsRow[]>;
  /**
   * Stores outcomes (feedback, shadow comparisons) for calls; append-only, several per call allowed.
   * All or nothing: an invalid outcome (score outside 0..1, no request id) stores none and throws.
   */
  recordOutcomes(outcomes: readonly Outcome[]): Promise<void>;
  /** Outcomes in the order they were recorded, filtered by time, source, feature, prompt presence. */
  outcomes(query?: OutcomeQuery): Promise<Outcome[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}

/**
 * `day` keys look like "2026-12-04" and `hour` keys like "2026-12-04T13:00Z", both in UTC.
 * `model` is the served model, falling back to the requested one. `api_key` is the hashed id of the
 * client credential (Attribution.apiKeyId), never the key itself.
 */
export type GroupBy = 'feature' | 'customer' | 'user' | 'model' | 'provider' | 'day' | 'hour' | 'api_key';

export const GROUP_BY_VALUES: readonly GroupBy[] = ['feature', 'customer', 'user', 'model', 'provider', 'day', 'hour', 'api_key'];

/** Epoch milliseconds; `from` is inclusive, `to` exclusive. */
export interface TimeRange {
  from?: number;
  to?: number;
}

export interface ReportFilter {
  feature?: string;
  customer?: string;
  provider?: string;
  /** Matches the same served-else-requested model that `by: 'model'` groups on. */
  model?: string;
}

export interface ReportQuery extends TimeRange {
  by: GroupBy;
  /** Keep only the first `top` rows (a positive integer). */
  top?: number;
  filter?: ReportFilter;
}

/** One group of a report. Rows come sorted by cost, highest first. */
export interface ReportRow {
  /** Group value; null = not attributed (or no model known). */
  key: string | null;
  requests: number;
  /** Sum of usage.input.total; fields a provider did not report add nothing. */
  inputTokens: number;
  cacheReadTokens: number;
  /** 5-minute and 1-hour cache writes together. */
  cacheWriteTokens: number;
  outputTokens: number;
  /** Sum over priced rows only; see unpricedRequests for the rows it leaves out. */
  cost: Picodollars;
  /**
   * Sum over the same priced rows of what they would have cost without costgate. A priced row
   * without a baseline counts its own cost, so it shows no saving rather than a negative one.
   */
  baselineCost: Picodollars;
  /** Rows whose cost is unknown: they are in `requests` and token sums but not in the costs. */
  unpricedRequests: number;
  /** Prompt caching: premium paid for cache writes over the uncached price (priced rows). */
  cacheWritePremium: Picodollars;
  /** Prompt caching: saving earned by cache reads against the uncached price (priced rows). */
  cacheReadSavings: Picodollars;
}

export interface UnpricedModel {
  provider: string;
  /** Served model, else requested model, else "" when neither was known. */
  model: string;
  requests: number;
}

/**
 * Thrown by append when an event cannot be stored as given (a cost outside the 64-bit range,
 * a fractional token count...). Retrying cannot help, so a caller that never drops events
 * (the usage recorder) sets these aside instead of retrying them forever.
 */
export class InvalidUsageEventError extends Error {
  readonly problems: ReadonlyArray<{ requestId: string; problem: string }>;

  constructor(problems: ReadonlyArray<{ requestId: string; problem: string }>) {
    const shown = problems.slice(0, 5).map(({ requestId, problem }) => `${requestId}: ${problem}`);
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    super(`invalid usage events: ${shown.join('; ')}${more}`);
    this.name = 'InvalidUsageEventError';
    this.problems = problems;
  }

  get requestIds(): string[] {
    return [...new Set(this.problems.map(({ requestId }) => requestId))];
  }
}

/** The ledger a reader asked for does not exist (no DuckDB file, or no ledger in the Postgres schema). */
export class LedgerNotFoundError extends Error {
  override name = 'LedgerNotFoundError';
}
