import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { openDuckDbLedger } from './duckdb/duckdb-ledger.ts';
import { collectLines, spawnTypeScript } from './testing/child-process.ts';
import { createUsageRecorder } from './usage-recorder.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-recorder-crash-'));
after(() => rmSync(folder, { recursive: true, force: true }));

it('every event acknowledged before a kill -9 reaches the ledger exactly once', async () => {
  const spoolDir = join(folder, 'spool');
  const ledgerPath = join(folder, 'ledger.duckdb');
  const total = 100_000;
  const killAfter = 600;

  const child = spawnTypeScript('record-child.ts', [spoolDir, ledgerPath, String(total)]);
  const printed = await collectLines(child, (line) => {
    if (line.startsWith('crash-') && Number(line.slice('crash-'.length)) + 1 === killAfter) child.kill('SIGKILL');
  });
  const acknowledged = printed.filter((line) => line.startsWith('crash-'));
  assert.ok(acknowledged.length >= killAfter && acknowledged.length < total, `killed midway (${acknowledged.length} acknowledged)`);
  assert.ok(!printed.includes('done'));
  const leftovers = readdirSync(spoolDir).filter((name) => name.startsWith('segment-'));
  assert.ok(leftovers.length > 0, 'the killed process left spool segments behind');

  const ledger = await openDuckDbLedger({ path: ledgerPath });
  const committedBeforeReplay = await ledger.count();
  const recorder = await createUsageRecorder({ ledger, spoolDir, flushIntervalMs: 60_000 });
  await recorder.flush();

  const stored = await ledger.get(acknowledged);
  assert.deepEqual(
    stored.map(({ requestId }) => requestId),
    acknowledged,
    'every acknowledged id is in the ledger',
  );
  assert.deepEqual(
    stored.map(({ cost }) => cost),
    acknowledged.map((id) => BigInt(id.slice('crash-'.length))),
  );
  const rows = await ledger.report({ by: 'provider' });
  const count = await ledger.count();
  assert.equal(rows.reduce((sum, row) => sum + row.requests, 0), count, 'no request id is stored twice');
  assert.ok(count >= acknowledged.length && count < total);
  assert.ok(committedBeforeReplay < count, `the replay committed what the child had not (${committedBeforeReplay} before)`);

  await recorder.close();
  await ledger.close();
  assert.deepEqual(
    readdirSync(spoolDir).filter((name) => name.startsWith('segment-')),
    [],
  );
});
