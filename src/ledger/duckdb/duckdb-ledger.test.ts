import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { describeLedgerAnalyticsConformance } from '../ledger-analytics-conformance.ts';
import { describeLedgerConformance } from '../ledger-conformance.ts';
import { describeOutcomesConformance } from '../ledger-outcomes-conformance.ts';
import { describeOutputStatisticsConformance } from '../ledger-output-statistics-conformance.ts';
import { openDuckDbLedger } from './duckdb-ledger.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-duckdb-ledger-'));
after(() => rmSync(folder, { recursive: true, force: true }));

let files = 0;
describeLedgerConformance('DuckDB, opened per operation', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`) }));
describeLedgerConformance('DuckDB, held open (the gateway)', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`), hold: true }));
describeLedgerConformance('DuckDB, opened per operation with a 64MB write budget (batch jobs)', () =>
  openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`), writeMemoryLimit: '64MB' }),
);
describeLedgerAnalyticsConformance('DuckDB, opened per operation', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`) }));
describeLedgerAnalyticsConformance('DuckDB, held open (the gateway)', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`), hold: true }));
describeOutputStatisticsConformance('DuckDB, opened per operation', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`) }));
describeOutputStatisticsConformance('DuckDB, held open (the gateway)', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`), hold: true }));
describeOutcomesConformance('DuckDB, opened per operation', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`) }));
describeOutcomesConformance('DuckDB, held open (the gateway)', () => openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`), hold: true }));
