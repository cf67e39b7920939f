import type { LedgerAnalytics } from '../analytics.ts';
import { createSqlAnalytics, type ReadRows } from '../rows/analytics-rows.ts';
import {
  costPercentilesSql,
  exportSql,
  growthSql,
  hourlySeriesSql,
  modelProfileSql,
  paretoSql,
  savingsSql,
  tokenRatiosSql,
} from './analytics-sql.ts';
import type { SqlQuery } from './report-sql.ts';

/** The analytics half of the DuckDB ledger: each method is one SQL query (see analytics-sql.ts). */
export function createDuckDbAnalytics(read: ReadRows<SqlQuery>, now: () => number = Date.now): LedgerAnalytics {
  return {
    ...createSqlAnalytics(
      read,
      {
        pareto: paretoSql,
        growth: growthSql,
        costPercentiles: costPercentilesSql,
        tokenRatios: tokenRatiosSql,
        savings: savingsSql,
        hourlySeries: hourlySeriesSql,
        modelProfile: modelProfileSql,
      },
      now,
    ),

    async exportRows(query) {
      const rows = await read(exportSql(query));
      return Number(rows[0]?.['Count'] ?? 0);
    },
  };
}
