// A gateway-like writer: appends BATCHES batches of BATCH_SIZE events to the ledger, one
// open/close per batch, with a short pause between, while the parent reads the same file.
// Usage: append-loop-child.ts PATH BATCHES BATCH_SIZE
import { setTimeout as sleep } from 'node:timers/promises';
import { openDuckDbLedger } from '../duckdb/duckdb-ledger.ts';
import { usageEvent } from './usage-event-fixtures.ts';

const [path, batches, batchSize] = process.argv.slice(2);
if (!path) throw new Error('usage: append-loop-child.ts PATH BATCHES BATCH_SIZE');
const ledger = await openDuckDbLedger({ path });
process.stdout.write('started\n');
for (let batch = 0; batch < Number(batches); batch += 1) {
  await ledger.append(Array.from({ length: Number(batchSize) }, () => usageEvent({ cost: 1n })));
  await sleep(5);
}
await ledger.close();
process.stdout.write('done\n');
