// Holds a DuckDB file open from another process, as a gateway mid-flush or a long report would.
// Usage: hold-ledger-child.ts PATH read|write HOLD_MS
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';

const [path, mode, holdMilliseconds] = process.argv.slice(2);
if (!path || (mode !== 'read' && mode !== 'write')) throw new Error('usage: hold-ledger-child.ts PATH read|write HOLD_MS');
const instance = await DuckDBInstance.create(path, mode === 'read' ? { access_mode: 'READ_ONLY' } : {});
process.stdout.write('holding\n');
await sleep(Number(holdMilliseconds ?? 500));
instance.closeSync();
process.stdout.write('released\n');
