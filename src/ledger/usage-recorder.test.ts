import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { UsageEvent } from '../core/usage-event.ts';
import { usageEventToJson } from './spool/usage-event-json.ts';
import { createFakeLedger } from './testing/fake-ledger.ts';
import { fullUsageEvent, usageEvent } from './testing/usage-event-fixtures.ts';
import { createUsageRecorder } from './usage-recorder.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-recorder-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let spools = 0;
const newSpoolDir = (): string => join(folder, `spool-${++spools}`);

const segments = (spoolDir: string): string[] => readdirSync(spoolDir).filter((name) => name.startsWith('segment-'));
const ids = (events: readonly UsageEvent[]): string[] => events.map(({ requestId }) => requestId);

async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

describe('usage recorder', () => {
  it('commits recorded events on flush, exactly as recorded, and cleans up on close', async () => {
    const spoolDir = newSpoolDir();
    const ledger = createFakeLedger();
    const recorder = await createUsageRecorder({ ledger, spoolDir, flushIntervalMs: 60_000 });
    const events = [fullUsageEvent(), usageEvent(), usageEvent({ cost: undefined })];
    for (const event of events) recorder.record(event);
    assert.equal(recorder.pending(), 3);
    assert.equal(await ledger.count(), 0, 'nothing reaches the ledger on the request path');
    await recorder.flush();
    assert.equal(recorder.pending(), 0);
    assert.deepEqual(await ledger.get(ids(events)), events);
    assert.equal(ledger.calls.length, 1, 'one batch');
    await recorder.close();
    assert.deepEqual(readdirSync(spoolDir), [], 'no segments and no lock left');
    assert.throws(() => recorder.record(usageEvent()), /closed/);
  });

  it('flushes on its timer, and early once maxBatch events are queued', async () => {
    const timed = createFakeLedger();
    const timedRecorder = await createUsageRecorder({ ledger: timed, spoolDir: newSpoolDir(), flushIntervalMs: 20 });
    timedRecorder.record(usageEvent());
    await eventually(async () => (await timed.count()) === 1, 'the timer flushed');

    const batched = createFakeLedger();
    const batchedRecorder = await createUsageRecorder({ ledger: batched, spoolDir: newSpoolDir(), flushIntervalMs: 60_000, maxBatch: 10 });
    for (let index = 0; index < 10; index += 1) batchedRecorder.record(usageEvent());
    await eventually(async () => (await batched.count()) === 10, 'a full batch flushed early');
    await Promise.all([timedRecorder.close(), batchedRecorder.close()]);
  });

  it('loses nothing while the ledger fails for a while, and retries with backoff', async () => {
    const spoolDir = newSpoolDir();
    let healthy = false;
    const ledger = createFakeLedger({ fail: () => !healthy });
    const errors: unknown[] = [];
    const recorder = await createUsageRecorder({
      ledger,
      spoolDir,
      flushIntervalMs: 5,
      maxRetryDelayMs: 40,
      onError: (error) => errors.push(error),
    });
    const events: UsageEvent[] = [];
    for (let burst = 0; burst < 5; burst += 1) {
      for (let index = 0; index < 10; index += 1) {
        const event = usageEvent();
        events.push(event);
        recorder.record(event);
      }
      await sleep(15);
    }
    await assert.rejects(recorder.flush(), /ledger unavailable/);
    // Retries run on timers, which a loaded machine delays: wait for them rather than for a fixed time.
    await eventually(() => errors.length >= 2, 'failures were reported');
    assert.equal(recorder.pending(), 50);
    assert.ok(segments(spoolDir).length >= 2, 'each attempt sealed a segment, all kept');
    healthy = true;
    await eventually(() => recorder.pending() === 0, 'the retries got through');
    assert.deepEqual(ids(await ledger.get(ids(events))), ids(events));
    await recorder.close();
    assert.deepEqual(segments(spoolDir), []);
  });

  it('past the memory bound keeps events only in the spool and re-reads them', async () => {
    let healthy = false;
    const ledger = createFakeLedger({ fail: () => !healthy });
    const recorder = await createUsageRecorder({ ledger, spoolDir: newSpoolDir(), flushIntervalMs: 60_000, maxQueued: 5, maxBatch: 7 });
    const events = Array.from({ length: 40 }, () => usageEvent());
    for (const event of events.slice(0, 20)) recorder.record(event);
    await assert.rejects(recorder.flush());
    for (const event of events.slice(20)) recorder.record(event);
    healthy = true;
    await recorder.flush();
    assert.deepEqual(ids(await ledger.get(ids(events))), ids(events));
    assert.ok(ledger.calls.every((batch) => batch.length <= 7), 'batches stay within maxBatch');
    await recorder.close();
  });

  it('does not resend a committed batch when a later batch of the same segment fails', async () => {
    const ledger = createFakeLedger({ fail: (call) => call === 2 });
    const recorder = await createUsageRecorder({ ledger, spoolDir: newSpoolDir(), flushIntervalMs: 60_000, maxBatch: 10 });
    const events = Array.from({ length: 25 }, () => usageEvent());
    for (const event of events) recorder.record(event);
    await assert.rejects(recorder.flush());
    assert.equal(recorder.pending(), 15);
    await recorder.flush();
    assert.equal(recorder.pending(), 0);
    assert.deepEqual(ids(ledger.appended), ids(events), 'each event appended once, in order');
    await recorder.close();
  });

  it('sets aside events the ledger refuses as invalid instead of retrying them forever', async () => {
    const spoolDir = newSpoolDir();
    const ledger = createFakeLedger();
    const errors: unknown[] = [];
    const recorder = await createUsageRecorder({ ledger, spoolDir, flushIntervalMs: 60_000, onError: (error) => errors.push(error) });
    const good = usageEvent();
    const bad = usageEvent({ cost: 2n ** 64n });
    recorder.record(good);
    recorder.record(bad);
    await recorder.flush();
    assert.deepEqual(ids(await ledger.get([good.requestId, bad.requestId])), [good.requestId]);
    assert.equal(recorder.pending(), 0);
    const rejected = readFileSync(join(spoolDir, 'rejected.jsonl'), 'utf8');
    assert.match(rejected, new RegExp(bad.requestId));
    assert.match(String(errors[0]), /set aside/);
    await recorder.close();
  });

  it('keeps an event the spool cannot encode in memory, and sets it aside if the ledger refuses it too', async () => {
    const spoolDir = newSpoolDir();
    const ledger = createFakeLedger();
    const errors: unknown[] = [];
    const recorder = await createUsageRecorder({ ledger, spoolDir, flushIntervalMs: 60_000, onError: (error) => errors.push(error) });
    const raw: Record<string, unknown> = {};
    raw['self'] = raw;
    const circular = usageEvent({ usage: { input: {}, output: {}, raw } });
    const plain = usageEvent();
    recorder.record(circular);
    recorder.record(plain);
    assert.equal(recorder.pending(), 2);
    assert.match(String(errors[0]), /cannot be serialized/);
    await recorder.flush();
    assert.deepEqual(ids(await ledger.get([circular.requestId, plain.requestId])), [plain.requestId]);
    assert.match(readFileSync(join(spoolDir, 'rejected.jsonl'), 'utf8'), /unserializable/);
    assert.equal(recorder.pending(), 0);
    await recorder.close();
  });

  it('when the ledger is down at close, keeps the spool and the next start replays it', async () => {
    const spoolDir = newSpoolDir();
    const down = createFakeLedger({ fail: () => true });
    const first = await createUsageRecorder({ ledger: down, spoolDir, flushIntervalMs: 60_000, onError: () => {} });
    const events = [usageEvent(), usageEvent()];
    for (const event of events) first.record(event);
    await assert.rejects(first.close(), /2 usage events are not in the ledger yet/);
    assert.equal(segments(spoolDir).length, 1);

    const up = createFakeLedger();
    const second = await createUsageRecorder({ ledger: up, spoolDir, flushIntervalMs: 60_000 });
    assert.equal(second.pending(), 2, 'leftovers are counted at start');
    await second.flush();
    assert.deepEqual(ids(await up.get(ids(events))), ids(events));
    await second.close();
    assert.deepEqual(readdirSync(spoolDir), []);
  });

  it('replays leftover segments, skipping a cut-short last line and setting aside unreadable ones', async () => {
    const spoolDir = newSpoolDir();
    const [first, second] = [usageEvent(), usageEvent()];
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(
      join(spoolDir, 'segment-000000000007.jsonl'),
      `${usageEventToJson(first)}\nnot json at all\n${usageEventToJson(second)}\n{"requestId":"cut-sh`,
    );
    const ledger = createFakeLedger();
    const errors: unknown[] = [];
    const recorder = await createUsageRecorder({ ledger, spoolDir, flushIntervalMs: 60_000, onError: (error) => errors.push(error) });
    await recorder.flush();
    assert.deepEqual(ids(await ledger.get([first.requestId, second.requestId])), [first.requestId, second.requestId]);
    assert.equal(await ledger.count(), 2);
    assert.equal(readFileSync(join(spoolDir, 'rejected.jsonl'), 'utf8'), 'not json at all\n');
    assert.equal(errors.length, 1);
    recorder.record(usageEvent());
    await recorder.close();
    assert.deepEqual(segments(spoolDir), [], 'new segments are numbered after the leftovers and cleaned up');
  });

  it('refuses a second recorder on the same spool folder', async () => {
    const spoolDir = newSpoolDir();
    const recorder = await createUsageRecorder({ ledger: createFakeLedger(), spoolDir });
    await assert.rejects(createUsageRecorder({ ledger: createFakeLedger(), spoolDir }), /in use by process/);
    await recorder.close();
    await (await createUsageRecorder({ ledger: createFakeLedger(), spoolDir })).close();
  });
});
