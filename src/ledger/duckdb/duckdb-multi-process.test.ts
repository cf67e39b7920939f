import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { collectLines, spawnTypeScript, waitForLine } from '../testing/child-process.ts';
import { usageEvent } from '../testing/usage-event-fixtures.ts';
import { LedgerLockedError, openDuckDbLedger } from './duckdb-ledger.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-duckdb-processes-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;

async function ledgerWithOneRow(lockTimeoutMs?: number) {
  const path = join(folder, `ledger-${++files}.duckdb`);
  const ledger = await openDuckDbLedger({ path, ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }) });
  await ledger.append([usageEvent({ cost: 7n })]);
  return { path, ledger };
}

function holdInAnotherProcess(path: string, mode: 'read' | 'write', holdMilliseconds: number) {
  const child = spawnTypeScript('hold-ledger-child.ts', [path, mode, String(holdMilliseconds)]);
  const exited = collectLines(child);
  return { child, exited, holding: waitForLine(child, 'holding') };
}

// Independent files, so the cases run side by side; most of their time is child start-up.
describe('DuckDB ledger shared between processes', { concurrency: true }, () => {
  it('a report waits while another process writes, then reads', async () => {
    const { path, ledger } = await ledgerWithOneRow();
    const holder = holdInAnotherProcess(path, 'write', 600);
    await holder.holding;
    const started = Date.now();
    const rows = await ledger.report({ by: 'provider' });
    assert.ok(Date.now() - started >= 300, 'the report waited for the writer');
    assert.equal(rows[0]?.cost, 7n);
    await holder.exited;
    await ledger.close();
  });

  it('an append waits while another process reads, then writes', async () => {
    const { path, ledger } = await ledgerWithOneRow();
    const holder = holdInAnotherProcess(path, 'read', 600);
    await holder.holding;
    await ledger.append([usageEvent()]);
    assert.equal(await ledger.count(), 2);
    await holder.exited;
    await ledger.close();
  });

  it('readers in two processes do not wait for each other', async () => {
    const { path, ledger } = await ledgerWithOneRow();
    const holder = holdInAnotherProcess(path, 'read', 1200);
    await holder.holding;
    let holderGone = false;
    void holder.exited.then(() => (holderGone = true));
    const reader = await openDuckDbLedger({ path, mustExist: true });
    assert.equal(await reader.count(), 1);
    assert.equal(holderGone, false, 'an up-to-date file is opened read-only while the other reader still holds it');
    await holder.exited;
    await reader.close();
    await ledger.close();
  });

  it('gives up with LedgerLockedError after the lock timeout', async () => {
    const { path, ledger } = await ledgerWithOneRow(250);
    const holder = holdInAnotherProcess(path, 'write', 4000);
    await holder.holding;
    let holderGone = false;
    void holder.exited.then(() => (holderGone = true));
    await assert.rejects(ledger.count(), LedgerLockedError);
    assert.equal(holderGone, false, 'gave up while the writer still held the file, rather than outwaiting it');
    holder.child.kill('SIGKILL');
    await holder.exited;
    await ledger.close();
  });

  it('a gateway appending batch after batch and a reader reporting meanwhile both succeed', async () => {
    const { path, ledger } = await ledgerWithOneRow();
    // Enough batches that the writer is still running after the reader's first report on a fast machine.
    const writer = spawnTypeScript('append-loop-child.ts', [path, '60', '20']);
    let done = false;
    const exited = collectLines(writer, (line) => {
      if (line === 'done') done = true;
    });
    await waitForLine(writer, 'started');
    let reports = 0;
    while (!done) {
      const [row] = await ledger.report({ by: 'provider' });
      assert.ok(row !== undefined && row.requests >= 1);
      reports += 1;
    }
    await exited;
    assert.ok(reports > 1, `read ${reports} times while the writer ran`);
    assert.equal(await ledger.count(), 1 + 60 * 20);
    await ledger.close();
  });

  it('mustExist refuses to create a ledger', async () => {
    await assert.rejects(openDuckDbLedger({ path: join(folder, 'missing.duckdb'), mustExist: true }), /no ledger at/);
  });
});
