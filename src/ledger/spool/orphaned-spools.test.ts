import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFakeLedger } from '../testing/fake-ledger.ts';
import { usageEvent } from '../testing/usage-event-fixtures.ts';
import { createUsageRecorder } from '../usage-recorder.ts';
import { replayOrphanedSpools } from './orphaned-spools.ts';

test('a starting replica stores what a gone sibling left in its spool, and leaves a running sibling alone', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'costgate-orphans-'));
  try {
    const down = createFakeLedger({ fail: () => true });
    // A replica that stopped while the ledger was down: its events stay in its folder.
    const gone = await createUsageRecorder({ ledger: down, spoolDir: join(parent, 'host-4141'), flushIntervalMs: 60_000 });
    const left = [usageEvent(), usageEvent(), usageEvent()];
    for (const event of left) gone.record(event);
    await assert.rejects(gone.close());
    // A replica still running, with events not flushed yet.
    const running = await createUsageRecorder({ ledger: down, spoolDir: join(parent, 'host-4142'), flushIntervalMs: 60_000 });
    running.record(usageEvent());

    const ledger = createFakeLedger();
    const own = join(parent, 'host-4143');
    assert.equal(await replayOrphanedSpools(own, ledger), 3);
    assert.deepEqual((await ledger.get(left.map(({ requestId }) => requestId))).map(({ requestId }) => requestId), left.map(({ requestId }) => requestId));
    assert.equal(await ledger.count(), 3, "the running replica's events are its own to commit");
    assert.equal(existsSync(join(parent, 'host-4141')), false, 'the replayed folder is removed');
    assert.equal(await replayOrphanedSpools(own, ledger), 0, 'nothing twice');
    await assert.rejects(running.close());
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
