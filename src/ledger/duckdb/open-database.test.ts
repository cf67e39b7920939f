import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { withDatabase } from './open-database.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-open-database-'));
after(() => rmSync(folder, { recursive: true, force: true }));

async function memoryLimit(mode: 'read' | 'write', writeMemoryLimit?: string): Promise<string> {
  const options = writeMemoryLimit === undefined ? { lockTimeoutMs: 1000 } : { lockTimeoutMs: 1000, writeMemoryLimit };
  return withDatabase(join(folder, 'limits.duckdb'), mode, options, async (connection) => {
    const result = await connection.runAndReadAll(`SELECT current_setting('memory_limit') AS value`);
    return String(result.getRowObjectsJS()[0]?.['value']);
  });
}

// DuckDB reports MB (10^6 bytes) settings in MiB: 256MB is 244.1 MiB, 64MB is 61.0 MiB.
test('a write open gets the 256MB budget unless the caller gives its own', async () => {
  assert.equal(await memoryLimit('write'), '244.1 MiB');
  assert.equal(await memoryLimit('write', '64MB'), '61.0 MiB');
});

test('a read open keeps DuckDB’s default budget whatever the write budget', async () => {
  assert.notEqual(await memoryLimit('read', '64MB'), '61.0 MiB');
});
