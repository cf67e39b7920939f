import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ExportQuery } from '../analytics.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import { exportSql } from '../duckdb/analytics-sql.ts';
import { insertEvents } from '../duckdb/event-rows.ts';
import { migrate } from '../duckdb/migrations.ts';
import { prepareUsageEvents } from '../prepare-usage-events.ts';

/** Rows of the export range, in (time, request id) order, one page after the other. */
export type ReadPages = (range: { from?: number; to?: number }) => AsyncIterable<UsageEvent[]>;

/**
 * Postgres writes files only on its own host, so the export goes through a scratch DuckDB file here:
 * the rows in range are copied in page by page and DuckDB's own COPY writes the CSV or Parquet,
 * which makes the file identical to what the DuckDB backend exports (same columns, exact USD).
 */
export async function exportThroughDuckDb(query: ExportQuery, pages: ReadPages): Promise<number> {
  const folder = mkdtempSync(join(tmpdir(), 'costgate-export-'));
  try {
    const instance = await DuckDBInstance.create(join(folder, 'export.duckdb'), { threads: '2', memory_limit: '512MB' });
    try {
      const connection = await instance.connect();
      try {
        await migrate(connection);
        const range = { ...(query.from !== undefined ? { from: query.from } : {}), ...(query.to !== undefined ? { to: query.to } : {}) };
        for await (const page of pages(range)) await insertEvents(connection, prepareUsageEvents(page));
        const { sql, values } = exportSql({ format: query.format, path: query.path });
        const result = await connection.runAndReadAll(sql, values);
        return Number(result.getRowObjectsJS()[0]?.['Count'] ?? 0);
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
