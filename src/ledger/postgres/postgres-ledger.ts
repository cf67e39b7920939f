import type pg from 'pg';
import type { Outcome, OutcomeQuery } from '../../core/outcome.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import type { LedgerAnalytics } from '../analytics.ts';
import { LedgerNotFoundError, type Ledger, type ReportQuery, type ReportRow, type TimeRange, type UnpricedModel } from '../ledger.ts';
import type { OutputStatisticsQuery, OutputStatisticsRow } from '../output-statistics.ts';
import { prepareUsageEvents } from '../prepare-usage-events.ts';
import { createSqlAnalytics } from '../rows/analytics-rows.ts';
import { readEvent } from '../rows/event-row.ts';
import { outcomeProblem, readOutcome } from '../rows/outcome-row.ts';
import { readOutputStatisticsRow } from '../rows/output-statistics-row.ts';
import { readReportRow, readUnpricedModel } from '../rows/report-row.ts';
import { POSTGRES_ANALYTICS_SQL } from './analytics-sql.ts';
import { createPool, parsePostgresUrl, positional, redact, type NamedQuery, type PoolOptions } from './connection.ts';
import { checkStorableInPostgres, eventSelectList, insertEvents, microsecondsToTimestamp } from './event-rows.ts';
import { exportThroughDuckDb } from './export-rows.ts';
import { LATEST_POSTGRES_SCHEMA_VERSION, migratePostgres, POSTGRES_MIGRATIONS, postgresSchemaState } from './migrations.ts';
import { insertOutcomes, outcomesSql } from './outcome-rows.ts';
import { outputStatisticsSql } from './output-statistics-sql.ts';
import { createPartitionKeeper } from './partitions.ts';
import { reportSql, timeConditions, unpricedModelsSql, where } from './report-sql.ts';

export interface PostgresLedgerOptions extends PoolOptions {
  /** postgres://user:password@host:port/database?schema=costgate (see connection.ts). */
  url: string;
  /** For readers such as `costgate report`: fail if the schema holds no ledger rather than create one. */
  mustExist?: boolean;
  /** Told about errors of idle pooled connections (the server went away); queries reject on their own. */
  onError?: (error: Error) => void;
  /**
   * The gateway: if the server cannot be reached at open, open anyway and set the schema up on the
   * first operation that reaches it (operations fail until then, so the recorder keeps its spool).
   * Other errors (authentication, a newer schema) still fail the open.
   */
  startUnreachable?: boolean;
}

const EXPORT_PAGE = 5000;

/**
 * The shared ledger: several gateways append to one Postgres schema and any of them (or the CLI)
 * reads it. Appends are one INSERT per batch, idempotent on request id across processes (see
 * migrations.ts); partitions by day are created as batches reach new days.
 */
export async function openPostgresLedger(options: PostgresLedgerOptions): Promise<Ledger> {
  const location = parsePostgresUrl(options.url);
  const pool = createPool(location, options, options.onError);

  /** Checks the schema and brings it to the latest version (see migrations.ts). */
  const setUp = (): Promise<void> =>
    withClient(pool, async (client) => {
      const { missing, newest } = await postgresSchemaState(client, location.schema);
      // A schema from a newer costgate goes on to migratePostgres, which refuses it with a clear message.
      if (missing.length === 0 && newest <= LATEST_POSTGRES_SCHEMA_VERSION) return;
      if (options.mustExist && missing.length === POSTGRES_MIGRATIONS.length) {
        throw new LedgerNotFoundError(`no ledger in schema ${location.schema} at ${redact(options.url)}: start the gateway with this --ledger first`);
      }
      await migratePostgres(client, location.schema);
    });

  let ready = false;
  let settingUp: Promise<void> | undefined;
  /** Set up once; while the server cannot be reached, every operation tries again (and fails like one). */
  function whenReady(): Promise<void> {
    if (ready) return Promise.resolve();
    settingUp ??= setUp().then(
      () => {
        ready = true;
      },
      (error: unknown) => {
        settingUp = undefined;
        throw error;
      },
    );
    return settingUp;
  }

  try {
    await whenReady();
  } catch (error) {
    if (!(options.startUnreachable && isConnectionError(error))) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    options.onError?.(new Error(`ledger ${location.label} is unreachable at start (${(error as Error).message}); events wait in the spool until it answers`, { cause: error }));
  }
  const partitions = createPartitionKeeper(location.schema);

  let closed = false;
  const running = new Set<Promise<unknown>>();

  function operation<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new Error('ledger is closed'));
    const result = whenReady().then(() => withClient(pool, work));
    running.add(result);
    const forget = (): void => void running.delete(result);
    result.then(forget, forget);
    return result;
  }

  async function rows(query: NamedQuery): Promise<Array<Record<string, unknown>>> {
    const { text, values } = positional(query);
    return operation(async (client) => (await client.query<Record<string, unknown>>(text, values)).rows);
  }

  async function* pages(range: TimeRange): AsyncIterable<UsageEvent[]> {
    let after: { time: string; requestId: string } | undefined;
    for (;;) {
      const values: Record<string, unknown> = {};
      const conditions = timeConditions(range, values);
      if (after) {
        values['after_time'] = after.time;
        values['after_id'] = after.requestId;
        conditions.push(`(time, request_id) > (${microsecondsToTimestamp('$after_time::bigint')}, $after_id::text)`);
      }
      const page = await rows({ sql: `SELECT ${eventSelectList()} FROM usage_events ${where(conditions)} ORDER BY time, request_id LIMIT ${EXPORT_PAGE}`, values });
      if (page.length === 0) return;
      const last = page.at(-1);
      after = { time: String(last?.['time']), requestId: String(last?.['request_id']) };
      yield page.map(readEvent);
      if (page.length < EXPORT_PAGE) return;
    }
  }

  const analytics: LedgerAnalytics = {
    ...createSqlAnalytics(rows, POSTGRES_ANALYTICS_SQL),
    exportRows: (query) => {
      if (closed) return Promise.reject(new Error('ledger is closed'));
      return exportThroughDuckDb(query, pages);
    },
  };

  return {
    ...analytics,

    async append(events: readonly UsageEvent[]): Promise<void> {
      const prepared = prepareUsageEvents(events);
      checkStorableInPostgres(prepared);
      if (prepared.length === 0) return;
      await operation(async (client) => {
        await partitions.ensure(client, prepared.map(({ event }) => event.time));
        try {
          await insertEvents(client, prepared);
        } catch (error) {
          // 23514: no partition for a row; the recorder's retry will create it again.
          if ((error as { code?: unknown }).code === '23514') partitions.forget();
          throw error;
        }
      });
    },

    async report(query: ReportQuery): Promise<ReportRow[]> {
      return (await rows(reportSql(query))).map(readReportRow);
    },

    async unpricedModels(query: TimeRange = {}): Promise<UnpricedModel[]> {
      return (await rows(unpricedModelsSql(query))).map(readUnpricedModel);
    },

    async get(requestIds: readonly string[]): Promise<UsageEvent[]> {
      const unique = [...new Set(requestIds)];
      if (unique.length === 0) return [];
      // The key's time lets each lookup go to one day's partition.
      const found = await rows({
        sql: `SELECT ${eventSelectList('events')}
              FROM usage_event_keys AS keys JOIN usage_events AS events ON events.request_id = keys.request_id AND events.time = keys.time
              WHERE keys.request_id = ANY($ids::text[])`,
        values: { ids: unique },
      });
      const byId = new Map(found.map((row) => [String(row['request_id']), readEvent(row)]));
      return unique.flatMap((requestId) => byId.get(requestId) ?? []);
    },

    async outputStatistics(query: OutputStatisticsQuery = {}): Promise<OutputStatisticsRow[]> {
      return (await rows(outputStatisticsSql(query))).map(readOutputStatisticsRow);
    },

    async recordOutcomes(outcomes: readonly Outcome[]): Promise<void> {
      for (const outcome of outcomes) {
        const problem = outcomeProblem(outcome);
        if (problem) throw new Error(`invalid outcome for ${String(outcome.requestId)}: ${problem}`);
      }
      if (outcomes.length === 0) return;
      await operation((client) => insertOutcomes(client, outcomes));
    },

    async outcomes(query: OutcomeQuery = {}): Promise<Outcome[]> {
      return (await rows(outcomesSql(query))).map(readOutcome);
    },

    async count(): Promise<number> {
      const [row] = await rows({ sql: 'SELECT count(*) AS total FROM usage_events', values: {} });
      return Number(row?.['total'] ?? 0);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...running]);
      await pool.end();
    },
  };
}

async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (error) {
    // A connection that failed mid-query (server gone, timeout) is discarded, not reused.
    if (isConnectionError(error)) broken = error as Error;
    throw error;
  } finally {
    client.release(broken ?? false);
  }
}

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (server shutting down), or a socket/timeout error.
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) return true;
  return typeof code === 'string' ? /^E[A-Z]+$/.test(code) : /terminated|timeout|ECONN|socket/i.test(error.message);
}
