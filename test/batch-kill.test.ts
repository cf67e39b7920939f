import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { ProviderId } from '../src/core/provider-id.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb/duckdb-ledger.ts';
import { createBatchHarness } from './support/batch-harness.ts';

/**
 * Kills a batch job (SIGKILL, as kill -9) at every step K of its run, resumes it, and checks that
 * no line was lost and none was sent to the provider twice: each line of the job is in exactly one
 * created provider batch, the output has every line once in input order, the ledger one row per line.
 *
 * OpenAI is killed at every step. The provider-independent steps (ingest, job record, ledger,
 * merge) are the same code for all three, so Anthropic and Bedrock are killed at their first
 * step on each side of every provider call (upload, create, poll, results download): the points
 * where a provider's own idempotency and lookup logic decides whether a line is lost or repeated.
 */

let emulator: RunningEmulator;
before(async () => {
  emulator = await startEmulator({ batchTiming: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 }, bedrockMinRecords: 2, recordBatchSubmissions: true });
});
after(() => emulator.close());

const LINES = 3;
/** Kill points tried at once (each in its own folder and job). */
const WAVE = 4;

function runChild(provider: ProviderId, directory: string, input: string, model: string, failpoint: number, onTrace?: (trace: string) => void): Promise<'killed' | 'finished'> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/batch-kill-child.ts', provider, emulator.url, directory, input, model], {
    env: { ...process.env, COSTGATE_BATCH_FAILPOINT: String(failpoint), ...(onTrace ? { COSTGATE_BATCH_TRACE: '1' } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      onTrace?.(errors);
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0) resolve('finished');
      else reject(new Error(`child failed at failpoint ${failpoint} (${code}): ${errors}`));
    });
  });
}

async function killAt(provider: ProviderId, model: string, failpoint: number, onTrace?: (trace: string) => void): Promise<'killed' | 'finished'> {
  const harness = createBatchHarness(emulator.url, 2);
  try {
    const input = harness.write('input.jsonl', Array.from({ length: LINES }, (_, index) => ({ custom_id: `r${index}`, params: { model, max_tokens: 20, messages: [{ role: 'user', content: `request ${index}` }] } })));
    const outcome = await runChild(provider, harness.directory, input, model, failpoint, onTrace);
    const job = await harness.run(provider, input, { model, resume: true });
    assert.equal(job.state, 'done', `${provider} at step ${failpoint}`);
    const output = readFileSync(`${input}.out`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const idField = provider === 'bedrock' ? 'recordId' : 'custom_id';
    assert.deepEqual(output.map((line) => line[idField]), Array.from({ length: LINES }, (_, index) => `r${index}`), `${provider} at step ${failpoint}: every line once, in order`);
    for (let line = 1; line <= LINES; line += 1) {
      let sent = 0;
      for (const [customId, count] of emulator.batchSubmissions) if (customId.startsWith(job.jobId) && customId.endsWith(`-${line}`)) sent += count;
      assert.equal(sent, 1, `${provider} at step ${failpoint}: line ${line} submitted exactly once (${sent})`);
    }
    const ledger = await openDuckDbLedger({ path: harness.ledgerPath });
    try {
      assert.equal(await ledger.count(), LINES, `${provider} at step ${failpoint}: one ledger row per line`);
    } finally {
      await ledger.close();
    }
    return outcome;
  } finally {
    harness.close();
  }
}

/** Tries K = 1, 2, ... until a run finishes without reaching its failpoint; returns the steps of a run. */
async function killAtEveryStep(provider: ProviderId, model: string): Promise<number> {
  for (let first = 1; first < 200; first += WAVE) {
    const outcomes = await Promise.all(Array.from({ length: WAVE }, (_, index) => killAt(provider, model, first + index)));
    const finished = outcomes.indexOf('finished');
    if (finished !== -1) return first + finished - 1;
  }
  throw new Error('the job never finished without a kill');
}

/** The steps just before and just after each provider call. */
const AROUND_PROVIDER_CALLS = ['upload-intent-recorded', 'uploaded', 'create-intent-recorded', 'created', 'polled', 'results-downloaded'];

/**
 * A traced run with no kill lists the job's steps by name (and checks the uninterrupted path);
 * then the job is killed at the first occurrence of each step around a provider call.
 */
async function killAroundProviderCalls(provider: ProviderId, model: string): Promise<number[]> {
  let trace = '';
  assert.equal(await killAt(provider, model, 0, (text) => (trace = text)), 'finished');
  const names = [...trace.matchAll(/^batch step (\d+): (\S+)$/gm)].map((match) => ({ step: Number(match[1]), name: match[2] ?? '' }));
  assert.ok(names.length >= 15, `the run has its steps (${names.length})`);
  const points = AROUND_PROVIDER_CALLS.flatMap((name) => names.find((entry) => entry.name === name)?.step ?? []);
  assert.ok(points.length >= 4, `${provider}: kill points around provider calls (${points.join(', ')})`);
  for (let index = 0; index < points.length; index += WAVE) {
    const outcomes = await Promise.all(points.slice(index, index + WAVE).map((point) => killAt(provider, model, point)));
    assert.ok(outcomes.every((outcome) => outcome === 'killed'));
  }
  return points;
}

test('openai: killed at every step and resumed, no line lost or sent twice', { timeout: 120_000 }, async () => {
  const steps = await killAtEveryStep('openai', 'gpt-4o-mini');
  assert.ok(steps >= 15, `the run has its steps (${steps})`);
});

for (const [provider, model] of [
  ['anthropic', 'claude-haiku-4-5'],
  ['bedrock', 'anthropic.claude-haiku-4-5-20251001-v1:0'],
] as const) {
  test(`${provider}: killed before and after each provider call and resumed, no line lost or sent twice`, { timeout: 120_000 }, async () => {
    await killAroundProviderCalls(provider, model);
  });
}
