import { existsSync } from 'node:fs';
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import type { Outcome, OutcomeQuery } from '../../core/outcome.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import { LedgerNotFoundError, type Ledger, type ReportQuery, type ReportRow, type TimeRange, type UnpricedModel } from '../ledger.ts';
import type { OutputStatisticsQuery, OutputStatisticsRow } from '../output-statistics.ts';
import { prepareUsageEvents } from '../prepare-usage-events.ts';
import { createDuckDbAnalytics } from './duckdb-analytics.ts';
import { EVENT_SELECT_LIST, insertEvents, readEvent } from './event-rows.ts';
import { LATEST_SCHEMA_VERSION, migrate, missingMigrations, schemaVersion } from './migrations.ts';
import { insertOutcomes, outcomeProblem, outcomesSql, readOutcome } from './outcome-rows.ts';
import { holdDatabase, withDatabase, type AccessMode, type OpenOptions } from './open-database.ts';
import { outputStatisticsSql, readOutputStatisticsRow } from './output-statistics-sql.ts';
import { reportSql, unpricedModelsSql, type SqlQuery } from './report-sql.ts';
import { readReportRow, readUnpricedModel } from '../rows/report-row.ts';

export { LedgerLockedError } from './open-database.ts';
export { LedgerNotFoundError } from '../ledger.ts';

export const DEFAULT_LEDGER_PATH = '.costgate/ledger.duckdb';
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

export interface DuckDbLedgerOptions {
  /** Database file; its folder is created. Default ./.costgate/ledger.duckdb. */
  path?: string;
  /** For readers such as `costgate report`: fail if there is no ledger file rather than create one. */
  mustExist?: boolean;
  /** How long an operation waits for another process's lock before LedgerLockedError. Default 10 s. */
  lockTimeoutMs?: number;
  /**
   * Keep the file open read-write until close (the gateway): far cheaper per flush, but other
   * processes cannot open the file meanwhile and must read through the holder's admin API.
   */
  hold?: boolean;
  /**
   * DuckDB's buffer budget (memory_limit) for each append or outcome write when the file is not
   * held; schema migrations keep the default 256MB. See openBatchLedger for why a caller lowers it.
   */
  writeMemoryLimit?: string;
}


/**
 * The default ledger: one DuckDB file. The file is open only while an operation runs (see
 * open-database.ts), so a gateway appending and a `costgate report` in another process can
 * share it; each waits for the other's short operation instead of failing.
 */
export async function openDuckDbLedger(options: DuckDbLedgerOptions = {}): Promise<Ledger> {
  const path = options.path ?? DEFAULT_LEDGER_PATH;
  const open: OpenOptions = { lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS };
  if (options.mustExist && !existsSync(path)) {
    throw new LedgerNotFoundError(`no ledger at ${path}: start the gateway (or pass the right --ledger path) first`);
  }
  await ensureSchema(path, open);
  const held = options.hold ? await holdDatabase(path, open) : undefined;
  const writes: OpenOptions = options.writeMemoryLimit === undefined ? open : { ...open, writeMemoryLimit: options.writeMemoryLimit };

  let closed = false;
  const running = new Set<Promise<unknown>>();

  function operation<T>(mode: AccessMode, work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new Error('ledger is closed'));
    const result = held ? held.run(work) : withDatabase(path, mode, writes, work);
    running.add(result);
    const forget = (): void => void running.delete(result);
    result.then(forget, forget);
    return result;
  }

  async function rows({ sql, values }: SqlQuery, connection: DuckDBConnection): Promise<Array<Record<string, unknown>>> {
    return (await connection.runAndReadAll(sql, values)).getRowObjectsJS();
  }

  return {
    // Reports beyond the basic one (Pareto, growth, percentiles, savings, anomaly series, export).
    ...createDuckDbAnalytics((sql) => operation('read', (connection) => rows(sql, connection))),

    async append(events: readonly UsageEvent[]): Promise<void> {
      const prepared = prepareUsageEvents(events);
      if (prepared.length === 0) return;
      await operation('write', async (connection) => {
        await connection.run('BEGIN TRANSACTION');
        try {
          await insertEvents(connection, prepared);
          await connection.run('COMMIT');
        } catch (error) {
          await connection.run('ROLLBACK');
          throw error;
        }
      });
    },

    async report(query: ReportQuery): Promise<ReportRow[]> {
      const sql = reportSql(query);
      const result = await operation('read', (connection) => rows(sql, connection));
      return result.map(readReportRow);
    },

    async unpricedModels(query: TimeRange = {}): Promise<UnpricedModel[]> {
      const sql = unpricedModelsSql(query);
      const result = await operation('read', (connection) => rows(sql, connection));
      return result.map(readUnpricedModel);
    },

    async get(requestIds: readonly string[]): Promise<UsageEvent[]> {
      const unique = [...new Set(requestIds)];
      if (unique.length === 0) return [];
      const found = await operation('read', async (connection) => {
        const result = await connection.runAndReadAll(
          `SELECT ${EVENT_SELECT_LIST} FROM usage_events WHERE request_id IN (SELECT unnest($ids))`,
          { ids: listValue(unique) },
        );
        return result.getRowObjectsJS().map(readEvent);
      });
      const byId = new Map(found.map((event) => [event.requestId, event]));
      return unique.flatMap((requestId) => byId.get(requestId) ?? []);
    },

    async outputStatistics(query: OutputStatisticsQuery = {}): Promise<OutputStatisticsRow[]> {
      const sql = outputStatisticsSql(query);
      const result = await operation('read', (connection) => rows(sql, connection));
      return result.map(readOutputStatisticsRow);
    },

    async recordOutcomes(outcomes: readonly Outcome[]): Promise<void> {
      for (const outcome of outcomes) {
        const problem = outcomeProblem(outcome);
        if (problem) throw new Error(`invalid outcome for ${String(outcome.requestId)}: ${problem}`);
      }
      if (outcomes.length === 0) return;
      await operation('write', async (connection) => {
        await connection.run('BEGIN TRANSACTION');
        try {
          await insertOutcomes(connection, outcomes);
          await connection.run('COMMIT');
        } catch (error) {
          await connection.run('ROLLBACK');
          throw error;
        }
      });
    },

    async outcomes(query: OutcomeQuery = {}): Promise<Outcome[]> {
      const result = await operation('read', (connection) => rows(outcomesSql(query), connection));
      return result.map(readOutcome);
    },

    async count(): Promise<number> {
      const result = await operation('read', (connection) => rows({ sql: 'SELECT count(*) AS total FROM usage_events', values: {} }, connection));
      return Number(result[0]?.['total'] ?? 0);
    },

    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...running]);
      await held?.close();
    },
  };
}

/**
 * Brings the file to the latest schema once, when the ledger is created. Readers check with a
 * read-only open first, so a `costgate report` against an up-to-date file never takes the
 * write lock away from the gateway.
 */
async function ensureSchema(path: string, open: OpenOptions): Promise<void> {
  if (existsSync(path)) {
    const state = await withDatabase(path, 'read', open, async (connection) => ({ missing: await missingMigrations(connection), version: await schemaVersion(connection) }));
    // A newer file goes on to migrate(), which refuses it with a clear message.
    if (state.missing.length === 0 && state.version <= LATEST_SCHEMA_VERSION) return;
  }
  await withDatabase(path, 'write', open, (connection) => migrate(connection));
}
