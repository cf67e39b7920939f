import { after } from 'node:test';
import { describeLedgerAnalyticsConformance } from '../ledger-analytics-conformance.ts';
import { describeLedgerConformance } from '../ledger-conformance.ts';
import { describeOutcomesConformance } from '../ledger-outcomes-conformance.ts';
import { describeOutputStatisticsConformance } from '../ledger-output-statistics-conformance.ts';
import { testSchemas } from '../testing/postgres-schemas.ts';
import { openPostgresLedger } from './postgres-ledger.ts';

const schemas = testSchemas('costgate_ledger_test');
after(() => schemas.dropAll());

const fresh = () => openPostgresLedger({ url: schemas.url(schemas.next()) });
describeLedgerConformance('Postgres', fresh);
describeLedgerAnalyticsConformance('Postgres', fresh);
describeOutputStatisticsConformance('Postgres', fresh);
describeOutcomesConformance('Postgres', fresh);
