import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Ledger } from '../src/ledger/ledger.ts';
import { openLedger } from '../src/ledger/open-ledger.ts';
import { usageEvent } from '../src/ledger/testing/usage-event-fixtures.ts';
import { testSchemas } from '../src/ledger/testing/postgres-schemas.ts';

/** The CLI reads a postgres:// --ledger directly (no gateway, no admin API in between). */

function costgate(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/costgate.js', ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const schemas = testSchemas('costgate_cli_pg');
const url = schemas.url(schemas.next());
const directory = mkdtempSync(join(tmpdir(), 'costgate-cli-pg-'));
let ledger: Ledger;

before(async () => {
  ledger = await openLedger(url);
  const time = Date.UTC(2026, 11, 4, 12);
  await ledger.append([
    usageEvent({ time, attribution: { feature: 'search', customer: 'acme', tags: {} }, cost: 123_456_789_012_345n, baselineCost: 200_000_000_000_000n }),
    usageEvent({ time, attribution: { feature: 'search', customer: 'globex', tags: {} }, cost: 1n, baselineCost: 1n }),
    usageEvent({ time, attribution: { feature: 'chat', customer: 'acme', tags: {} }, cost: 5n, baselineCost: 5n }),
  ]);
});
after(async () => {
  await ledger.close();
  await schemas.dropAll();
  rmSync(directory, { recursive: true, force: true });
});

test('report, pareto and export read a Postgres ledger by URL', async () => {
  const report = await costgate('report', '--by', 'feature', '--format', 'json', '--ledger', url);
  assert.equal(report.status, 0, report.stderr);
  const rows = JSON.parse(report.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(
    rows.map((row) => [row['feature'], row['requests'], row['cost_usd']]),
    [
      ['search', 2, 123.456789012346],
      ['chat', 1, 5e-12],
    ],
  );

  const pareto = await costgate('report', 'pareto', '--by', 'customer', '--format', 'json', '--ledger', url);
  assert.equal(pareto.status, 0, pareto.stderr);
  assert.match(pareto.stdout, /"acme"/);

  const file = join(directory, 'rows.csv');
  const exported = await costgate('export', '--format', 'csv', '--out', file, '--ledger', url);
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 4);
});

test('a reader pointed at a schema with no ledger says so', async () => {
  const empty = schemas.url(schemas.next());
  const result = await costgate('report', '--by', 'feature', '--ledger', empty);
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /no ledger in schema/);
});
