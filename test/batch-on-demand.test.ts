import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Usage } from '../src/core/usage.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb/duckdb-ledger.ts';
import { createPricer } from '../src/pricing/pricer.ts';
import { createBatchHarness } from './support/batch-harness.ts';

/**
 * A Bedrock group with fewer lines than the batch minimum is sent on demand (InvokeModel), line by
 * line: every line answered, ledger rows at the on-demand price. A process killed between a line's
 * intent mark and its result leaves that line failed on resume, and it is never sent twice.
 */

let emulator: RunningEmulator;
before(async () => {
  emulator = await startEmulator({ batchTiming: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 }, bedrockMinRecords: 2 });
});
after(() => emulator.close());

const MODEL = 'anthropic.claude-haiku-4-5-20251001-v1:0';
/** Above the line count: the whole job is one group too small to batch. */
const MIN_RECORDS = 10;
const LINES = 3;

const lines = (prefix: string) =>
  Array.from({ length: LINES }, (_, index) => ({
    custom_id: `${prefix}${index}`,
    params: { model: 'claude', max_tokens: 30, messages: [{ role: 'user', content: `${prefix} question ${index}` }] },
    metadata: { feature: 'small-jobs', customer: 'acme' },
  }));

function readOutput(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('a group under the minimum is answered on demand, at the on-demand price, without a batch lever', async () => {
  const harness = createBatchHarness(emulator.url, MIN_RECORDS);
  try {
    const input = harness.write('small.jsonl', lines('s'));
    const before = emulator.requests;
    const job = await harness.run('bedrock', input, { model: MODEL });
    assert.equal(job.state, 'done');
    assert.equal(emulator.requests - before, LINES, 'one InvokeModel call per line, no batch job');
    const output = readOutput(`${input}.out`);
    assert.deepEqual(output.map((line) => line['recordId']), ['s0', 's1', 's2']);
    for (const line of output) assert.ok((line['modelOutput'] as { usage: { input_tokens: number } }).usage.input_tokens > 0, JSON.stringify(line));

    const pricer = createPricer();
    const ledger = await openDuckDbLedger({ path: harness.ledgerPath });
    try {
      const rows = await ledger.get(Array.from({ length: LINES }, (_, index) => `batch-${job.jobId}-${index + 1}`));
      assert.equal(rows.length, LINES);
      for (const row of rows) {
        assert.equal(row.status, 200);
        assert.equal(row.endpoint, 'invoke');
        assert.equal(row.attribution.feature, 'small-jobs');
        assert.equal(row.attribution.customer, 'acme');
        assert.equal(row.levers, undefined, 'no batch lever on an on-demand row');
        assert.equal(row.batchId, undefined);
        const onDemand = pricer.cost({ provider: 'bedrock', model: MODEL, usage: row.usage as Usage, at: new Date(row.time), batch: false });
        assert.ok(onDemand && onDemand.cost > 0n);
        assert.equal(row.cost, onDemand.cost, 'billed at the on-demand price');
        assert.equal(row.baselineCost, row.cost, 'nothing saved');
      }
    } finally {
      await ledger.close();
    }
  } finally {
    harness.close();
  }
});

function runChild(directory: string, input: string, failpoint: number, trace: boolean): Promise<{ outcome: 'killed' | 'finished'; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/batch-kill-child.ts', 'bedrock', emulator.url, directory, input, MODEL, String(MIN_RECORDS), '1'], {
    env: { ...process.env, COSTGATE_BATCH_FAILPOINT: String(failpoint), ...(trace ? { COSTGATE_BATCH_TRACE: '1' } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ outcome: 'killed', stderr });
      else if (code === 0) resolve({ outcome: 'finished', stderr });
      else reject(new Error(`child failed at failpoint ${failpoint} (${code}): ${stderr}`));
    });
  });
}

/** The step number of the first `name` in a traced run (steps are numbered the same in every run of the same job). */
async function stepOf(name: string): Promise<number> {
  const harness = createBatchHarness(emulator.url, MIN_RECORDS);
  try {
    const { outcome, stderr } = await runChild(harness.directory, harness.write('trace.jsonl', lines('t')), 0, true);
    assert.equal(outcome, 'finished');
    const step = new RegExp(`batch step (\\d+): ${name}\\n`).exec(stderr)?.[1];
    assert.ok(step, `no ${name} step in ${stderr}`);
    return Number(step);
  } finally {
    harness.close();
  }
}

for (const [point, reached] of [
  ['on-demand-intent-recorded', false],
  ['on-demand-sent', true],
] as const) {
  test(`killed at ${point}: the line is failed on resume as interrupted_on_demand and never sent again`, async () => {
    const step = await stepOf(point);
    const harness = createBatchHarness(emulator.url, MIN_RECORDS, undefined, 1);
    try {
      const input = harness.write('small.jsonl', lines('k'));
      const before = emulator.requests;
      const { outcome } = await runChild(harness.directory, input, step, false);
      assert.equal(outcome, 'killed');
      assert.equal(emulator.requests - before, reached ? 1 : 0, 'calls made before the kill');
      const job = await harness.run('bedrock', input, { model: MODEL, resume: true });
      assert.equal(job.state, 'done');
      assert.equal(emulator.requests - before, LINES - 1 + (reached ? 1 : 0), 'the interrupted line was not sent again');
      const output = readOutput(`${input}.out`);
      assert.deepEqual(output.map((line) => line['recordId']), ['k0', 'k1', 'k2']);
      assert.deepEqual(output[0]?.['error'], { errorCode: 'interrupted_on_demand', errorMessage: (output[0]?.['error'] as { errorMessage: string }).errorMessage });
      for (const line of output.slice(1)) assert.ok(line['modelOutput'], JSON.stringify(line));
      const ledger = await openDuckDbLedger({ path: harness.ledgerPath });
      try {
        const rows = await ledger.get(Array.from({ length: LINES }, (_, index) => `batch-${job.jobId}-${index + 1}`));
        assert.equal(rows.length, LINES, 'one ledger row per line');
        const first = rows.find((row) => row.requestId === `batch-${job.jobId}-1`);
        assert.equal(first?.errorType, 'interrupted_on_demand');
      } finally {
        await ledger.close();
      }
    } finally {
      harness.close();
    }
  });
}
