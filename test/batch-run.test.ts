import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb/duckdb-ledger.ts';
import { createPricer } from '../src/pricing/pricer.ts';
import { createBatchHarness, type BatchHarness } from './support/batch-harness.ts';

let emulator: RunningEmulator;
let harness: BatchHarness;

before(async () => {
  emulator = await startEmulator({ batchTiming: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 }, bedrockMinRecords: 2 });
  harness = createBatchHarness(emulator.url);
});
after(async () => {
  harness.close();
  await emulator.close();
});

function readOutput(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const chat = (id: string, text: string, extra: Record<string, unknown> = {}) => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: text }] },
  ...extra,
});

test('OpenAI: split into chunks, merged in input order, duplicates sent once, invalid and failing lines reported, retries', async () => {
  const lines = [
    chat('a', 'first', { metadata: { feature: 'enrich', customer: 'acme' } }),
    chat('b', 'second'),
    chat('dup', 'first', { metadata: { feature: 'enrich', customer: 'acme' } }),
    '{not json',
    chat('c', 'always fails emu-line-error'),
    chat('d', 'fails once emu-line-flaky'),
    chat('e', 'fifth'),
    chat('f', 'sixth'),
  ];
  const input = harness.write('openai.jsonl', lines);
  const job = await harness.run('openai', input, { feature: 'nightly' });
  assert.equal(job.state, 'done');
  const output = readOutput(`${input}.out`);
  assert.deepEqual(output.map((line) => line['custom_id']), ['a', 'b', 'dup', 'line-4', 'c', 'd', 'e', 'f']);
  const response = (index: number) => output[index]?.['response'] as { status_code: number; body: { choices: Array<{ message: { content: string } }> } } | null;
  assert.equal(response(0)?.status_code, 200);
  assert.equal(response(2)?.body.choices[0]?.message.content, response(0)?.body.choices[0]?.message.content, 'the duplicate shares its answer');
  assert.equal((output[3]?.['error'] as { code: string }).code, 'invalid_request');
  assert.equal(response(4)?.status_code, 500, 'still failing after the retries');
  assert.equal(response(5)?.status_code, 200, 'the flaky line succeeded on retry');

  const ledger = await openDuckDbLedger({ path: harness.ledgerPath });
  try {
    const rows = await ledger.get(['a', 'dup', 'c', 'd'].map((_, index) => `batch-${job.jobId}-${[1, 3, 5, 6][index]}`));
    const [first, duplicate, failed, flaky] = rows;
    assert.ok(first && duplicate && failed && flaky);
    assert.equal(first.endpoint, 'batch:chat.completions');
    assert.equal(first.attribution.feature, 'enrich');
    assert.equal(first.attribution.customer, 'acme');
    assert.equal(flaky.attribution.feature, 'nightly', 'job-level attribution fills the gap');
    const pricer = createPricer();
    const onDemand = pricer.cost({ provider: 'openai', model: first.servedModel ?? '', usage: first.usage, at: new Date(first.time) })?.cost ?? 0n;
    assert.ok(onDemand > 0n);
    assert.equal(first.cost, onDemand / 2n, 'half price');
    assert.equal(first.baselineCost, onDemand);
    assert.deepEqual(first.levers?.map((lever) => [lever.lever, lever.saving]), [['batch', onDemand - onDemand / 2n]]);
    assert.ok(first.batchId?.startsWith('batch_'));
    assert.equal(duplicate.cost, 0n);
    assert.equal(duplicate.baselineCost, onDemand);
    assert.equal(failed.status, 500);
    assert.equal(failed.cost, 0n);
    assert.equal(await ledger.count(), 7, 'one row per line that ran or was answered, none for the invalid line');
  } finally {
    await ledger.close();
  }
});

test('Anthropic: OpenAI-format lines translated, expired lines retried in a new batch', async () => {
  const lines = [1, 2, 3, 4, 5].map((index) => chat(`q${index}`, `question ${index}`));
  const input = harness.write('anthropic.jsonl', lines);
  const job = await harness.run('anthropic', input, { model: 'claude-haiku-4-5-emu-batch-expire' });
  assert.equal(job.state, 'done');
  const output = readOutput(`${input}.out`);
  assert.deepEqual(output.map((line) => line['custom_id']), ['q1', 'q2', 'q3', 'q4', 'q5']);
  for (const line of output) assert.equal((line['result'] as { type: string }).type, 'succeeded');
  const message = (output[0]?.['result'] as { message: { usage: { service_tier: string } } }).message;
  assert.equal(message.usage.service_tier, 'batch');
});

test('Bedrock: Anthropic-format lines to S3 and a model invocation job, results joined by record id', async () => {
  const lines = [1, 2, 3, 4, 5, 6].map((index) => ({
    custom_id: `doc-${index}`,
    params: { model: 'claude', max_tokens: 40, messages: [{ role: 'user', content: `summarize document ${index}` }] },
    metadata: { feature: 'summaries' },
  }));
  const input = harness.write('bedrock.jsonl', lines);
  const job = await harness.run('bedrock', input, { model: 'anthropic.claude-haiku-4-5-20251001-v1:0' });
  assert.equal(job.state, 'done');
  const output = readOutput(`${input}.out`);
  assert.deepEqual(output.map((line) => line['recordId']), lines.map((line) => line.custom_id));
  for (const line of output) assert.ok((line['modelOutput'] as { usage: { input_tokens: number } }).usage.input_tokens > 0);
  const ledger = await openDuckDbLedger({ path: harness.ledgerPath });
  try {
    const [row] = await ledger.get([`batch-${job.jobId}-1`]);
    assert.equal(row?.provider, 'bedrock');
    assert.equal(row?.attribution.feature, 'summaries');
    assert.ok(row?.cost !== undefined && row.baselineCost !== undefined && row.cost * 2n === row.baselineCost);
  } finally {
    await ledger.close();
  }
});
