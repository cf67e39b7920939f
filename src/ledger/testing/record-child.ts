// A gateway stand-in for the kill -9 test: records COUNT events through a usage recorder
// backed by a DuckDB ledger, printing each request id once record() has returned.
// Usage: record-child.ts SPOOL_DIR LEDGER_PATH COUNT
import { setTimeout as sleep } from 'node:timers/promises';
import { openDuckDbLedger } from '../duckdb/duckdb-ledger.ts';
import { createUsageRecorder } from '../usage-recorder.ts';
import { usageEvent } from './usage-event-fixtures.ts';

const [spoolDir, ledgerPath, count] = process.argv.slice(2);
if (!spoolDir || !ledgerPath) throw new Error('usage: record-child.ts SPOOL_DIR LEDGER_PATH COUNT');
const ledger = await openDuckDbLedger({ path: ledgerPath });
const recorder = await createUsageRecorder({ ledger, spoolDir, flushIntervalMs: 20, maxBatch: 50 });
for (let index = 0; index < Number(count); index += 1) {
  const requestId = `crash-${index}`;
  recorder.record(usageEvent({ requestId, cost: BigInt(index) }));
  process.stdout.write(`${requestId}\n`);
  if (index % 10 === 9) await sleep(1); // let flushes run in between, as requests would
}
await recorder.close();
process.stdout.write('done\n');
