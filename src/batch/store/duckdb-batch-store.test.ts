import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { migrate } from '../../ledger/duckdb/migrations.ts';
import { BATCH_MIGRATIONS } from './batch-migrations.ts';
import type { BatchStore, IngestedLine, JobRecord, LineOutcome, MergeLine, PlanOptions } from './batch-store.ts';
import { openDuckDbBatchStore } from './duckdb-batch-store.ts';

/** The store derives each line's state from appended rows; these follow one small job through every kind of line. */

async function withStore(work: (store: BatchStore) => Promise<void>): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-batch-store-'));
  const store = await openDuckDbBatchStore({ path: join(directory, 'batch.duckdb'), hold: true });
  try {
    await work(store);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const limits = { maxRequests: 2, maxBytes: 1_000_000, minRequests: 2 };

function job(jobId: string): JobRecord {
  return {
    jobId,
    createdAt: 1,
    provider: 'bedrock',
    model: undefined,
    inputPath: 'input.jsonl',
    outputPath: undefined,
    workDir: 'work',
    state: 'ingesting',
    options: { maxRetries: 1, concurrency: 4, maxEnqueuedTokens: 1_000_000, pollIntervalMs: 10, maxPollIntervalMs: 100, limits },
    defaults: {},
    cancelRequested: false,
    runnerPid: undefined,
    error: undefined,
    totalLines: 0,
    invalidLines: 0,
    duplicateLines: 0,
  };
}

function line(lineNo: number, customId: string, model: string, hash: string, state: IngestedLine['state'] = 'pending'): IngestedLine {
  return {
    lineNo,
    customId,
    model,
    endpoint: '/v1/chat/completions',
    requestHash: hash,
    requestOffset: lineNo * 10,
    requestLength: 10,
    estTokens: 3,
    feature: 'triage',
    customer: undefined,
    user: undefined,
    tagsJson: '{}',
    state,
    errorMessage: state === 'invalid' ? 'not json' : undefined,
  };
}

const plan: PlanOptions = { limits, wrapperBytes: 0, maxTokens: 1_000_000, lineOverhead: 20, maxRetries: 1, token: (chunkId) => `t${chunkId}` };

function succeeded(lineNo: number, offset: number): LineOutcome {
  return {
    lineNo,
    state: 'succeeded',
    outFile: 'results.jsonl',
    outOffset: offset,
    outLength: 5,
    status: 200,
    errorType: undefined,
    errorMessage: undefined,
    servedModel: 'm',
    usageJson: '{"input":{"total":3}}',
    stopReason: 'end_turn',
    cost: 10n,
    baseline: 20n,
    priceVersion: 'v1',
    cacheWritePremium: 0n,
    cacheReadSaving: 0n,
    latencyMs: 5,
    timeMs: 1000,
  };
}

const missing = (maxRetries: number) => ({ errorType: 'expired', errorMessage: 'not run', maxRetries, timeMs: 1000 });

async function merged(store: BatchStore, jobId: string): Promise<MergeLine[]> {
  const lines: MergeLine[] = [];
  await store.mergeLines(jobId, async (page) => void lines.push(...page));
  return lines;
}

test('line states: duplicates, repeated custom ids, below-minimum groups, retries, ledger watermark, merge', async () => {
  await withStore(async (store) => {
    await store.createJob(job('j1'));
    await store.appendLines('j1', [
      line(1, 'a', 'A', 'h1'),
      line(2, 'b', 'A', 'h2'),
      line(3, 'c', 'A', 'h1'),
      line(4, 'b', 'A', 'h4'),
      line(5, 'line-5', '', 'invalid-5', 'invalid'),
      line(6, 'd', 'B', 'h6'),
      line(7, 'e', 'A', 'h7'),
    ]);
    await store.finishIngest('j1');
    const ingested = await store.getJob('j1');
    assert.deepEqual([ingested?.state, ingested?.totalLines, ingested?.invalidLines, ingested?.duplicateLines], ['running', 7, 2, 1]);

    assert.equal(await store.planChunks('j1', plan), 2, 'lines 1, 2, 7 of model A in two chunks; model B alone is under the minimum');
    assert.equal(await store.planChunks('j1', plan), 0, 'planning again adds nothing');
    let summary = await store.summary('j1');
    assert.deepEqual(summary.lines, { pending: 0, queued: 3, succeeded: 0, failed: 1, invalid: 2, duplicate: 1, cancelled: 0 });
    assert.deepEqual((await store.chunkLines('j1', 1)).map((entry) => [entry.lineNo, entry.customId, entry.attempts]), [[1, 'a', 1], [2, 'b', 1]]);

    await store.beginResults('j1', 1);
    await store.appendResults('j1', 1, [succeeded(1, 0)]);
    await store.finishResults('j1', 1, missing(1));
    summary = await store.summary('j1');
    assert.deepEqual(summary.lines, { pending: 1, queued: 1, succeeded: 2, failed: 1, invalid: 2, duplicate: 0, cancelled: 0 }, 'line 2 back to pending; the duplicate took line 1');
    assert.equal(summary.cost, 10n, 'the duplicate costs nothing');
    assert.equal(summary.baseline, 40n, 'and saves its whole on-demand price');

    const recorded = await store.unrecorded('j1', 1, 0, 10);
    assert.deepEqual(recorded.map((entry) => [entry.lineNo, entry.duplicateOf, entry.cost, entry.feature]), [[1, undefined, 10n, 'triage'], [3, 1, 0n, 'triage']]);
    assert.deepEqual((await store.unrecorded('j1', 1, 1, 10)).map((entry) => entry.lineNo), [3], 'after the watermark');
    await store.markRecorded('j1', 1, -1);
    assert.equal((await store.chunks('j1')).find((chunk) => chunk.chunkId === 1)?.recordedThrough, -1);

    assert.equal(await store.planChunks('j1', plan), 0, 'one retry is under the minimum of 2: it fails instead of waiting');
    await store.finishResults('j1', 2, missing(0));
    summary = await store.summary('j1');
    assert.deepEqual(summary.lines, { pending: 0, queued: 0, succeeded: 2, failed: 3, invalid: 2, duplicate: 0, cancelled: 0 });

    const lines = await merged(store, 'j1');
    assert.deepEqual(
      lines.map((entry) => [entry.lineNo, entry.state, entry.errorType ?? null]),
      [
        [1, 'succeeded', null],
        [2, 'failed', 'below_minimum_records'],
        [3, 'succeeded', null],
        [4, 'invalid', 'invalid_request'],
        [5, 'invalid', 'invalid_request'],
        [6, 'failed', 'below_minimum_records'],
        [7, 'failed', 'expired'],
      ],
    );
    assert.deepEqual([lines[2]?.duplicateOf, lines[2]?.outOffset, lines[2]?.outFile], [1, 0, 'results.jsonl']);
    assert.deepEqual((await store.failedLines('j1', 2)).map((entry) => entry.lineNo), [2, 4]);
  });
});

test('retries go to a new chunk with the next attempt; a collection started over keeps one result per line', async () => {
  await withStore(async (store) => {
    await store.createJob(job('j2'));
    await store.appendLines('j2', [line(1, 'a', 'A', 'h1'), line(2, 'b', 'A', 'h2'), line(3, 'c', 'A', 'h3'), line(4, 'd', 'A', 'h4')]);
    await store.finishIngest('j2');
    assert.equal(await store.planChunks('j2', plan), 2);
    await store.beginResults('j2', 1);
    await store.finishResults('j2', 1, missing(1));
    await store.beginResults('j2', 2);
    await store.finishResults('j2', 2, missing(1));
    assert.equal(await store.planChunks('j2', plan), 2, 'the four retries in two new chunks');
    assert.deepEqual((await store.chunkLines('j2', 3)).map((entry) => [entry.lineNo, entry.attempts]), [[1, 2], [2, 2]]);
    assert.equal(await store.planChunks('j2', plan), 0);

    await store.beginResults('j2', 3);
    await store.appendResults('j2', 3, [succeeded(1, 0)]);
    // Killed here; the chunk is collected again from the start.
    await store.beginResults('j2', 3);
    await store.appendResults('j2', 3, [succeeded(1, 0), succeeded(2, 6)]);
    await store.finishResults('j2', 3, missing(1));
    const summary = await store.summary('j2');
    assert.deepEqual([summary.lines.succeeded, summary.lines.queued, summary.cost], [2, 2, 20n]);
  });
});

test('cancelling: lines never sent, back for a retry, and duplicates without an answer become cancelled', async () => {
  await withStore(async (store) => {
    await store.createJob(job('j3'));
    await store.appendLines('j3', [line(1, 'a', 'A', 'h1'), line(2, 'b', 'A', 'h2'), line(3, 'c', 'A', 'h1'), line(4, 'd', 'A', 'h4'), line(5, 'e', 'A', 'h5')]);
    await store.finishIngest('j3');
    assert.equal(await store.planChunks('j3', plan), 2);
    await store.finishResults('j3', 1, missing(1));
    await store.beginResults('j3', 2);
    await store.appendResults('j3', 2, [succeeded(4, 0)]);
    await store.finishResults('j3', 2, missing(1));
    await store.cancelRemaining('j3');
    await store.cancelRemaining('j3');
    const summary = await store.summary('j3');
    assert.deepEqual(summary.lines, { pending: 0, queued: 0, succeeded: 1, failed: 0, invalid: 0, duplicate: 0, cancelled: 4 });
    assert.deepEqual(
      (await merged(store, 'j3')).map((entry) => [entry.lineNo, entry.state]),
      [
        [1, 'cancelled'],
        [2, 'cancelled'],
        [3, 'cancelled'],
        [4, 'succeeded'],
        [5, 'cancelled'],
      ],
    );
  });
});

test('a job stored by the first schema (line state in batch_lines) resumes: marks, assignments, results and watermarks carried over', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-batch-store-'));
  const path = join(directory, 'batch.duckdb');
  try {
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await migrate(connection, BATCH_MIGRATIONS.slice(0, 1));
    await connection.run(
      `INSERT INTO batch_jobs (job_id, created_at, provider, input_path, work_dir, state, options, defaults) VALUES ('old', 1, 'openai', 'in', 'work', 'running', $options, '{}')`,
      { options: JSON.stringify(job('old').options) },
    );
    const insertLine = `INSERT INTO batch_lines (job_id, line_no, custom_id, model, endpoint, request_hash, request_offset, request_length, est_tokens, tags,
      canonical_line, state, attempts, chunk_id, out_file, out_offset, out_length, status, cost, baseline, recorded)
      VALUES ('old', $line, $id, 'A', '/v1/chat/completions', $hash, 0, 10, 3, '{}', $canonical, $state, $attempts, $chunk, $file, 0, 5, $status, $cost, $baseline, $recorded)`;
    const rows: Array<[number, number | null, string, number, number | null, number | null, boolean]> = [
      // line, canonical, state, attempts, chunk, cost, recorded
      [1, null, 'succeeded', 1, 1, 10, true],
      [2, null, 'pending', 1, 1, null, false],
      [3, 1, 'succeeded', 0, null, 0, false],
      [4, null, 'queued', 1, 2, null, false],
      [5, null, 'invalid', 0, null, null, false],
    ];
    for (const [line, canonical, state, attempts, chunk, cost, recorded] of rows) {
      await connection.run(insertLine, {
        line,
        id: `r${line}`,
        hash: `h${line}`,
        canonical,
        state,
        attempts,
        chunk,
        file: state === 'succeeded' ? 'results.jsonl' : null,
        status: state === 'succeeded' ? 200 : null,
        cost,
        baseline: cost === null ? null : 20,
        recorded,
      });
    }
    for (const chunk of [1, 2]) {
      await connection.run(`INSERT INTO batch_chunks (job_id, chunk_id, model, endpoint, lines, bytes, est_tokens, state, token) VALUES ('old', $chunk, 'A', '/v1/chat/completions', 2, 20, 6, $state, $token)`, {
        chunk,
        state: chunk === 1 ? 'collected' : 'submitted',
        token: `t${chunk}`,
      });
    }
    connection.closeSync();
    instance.closeSync();

    const store = await openDuckDbBatchStore({ path, hold: true });
    try {
      const summary = await store.summary('old');
      assert.deepEqual(summary.lines, { pending: 1, queued: 1, succeeded: 2, failed: 0, invalid: 1, duplicate: 0, cancelled: 0 });
      assert.deepEqual([summary.cost, summary.baseline], [10n, 40n]);
      const chunks = await store.chunks('old');
      assert.equal(chunks[0]?.recordedThrough, 0, 'the duplicate of line 1 is not in the ledger yet');
      assert.deepEqual((await store.unrecorded('old', 1, 0, 10)).map((entry) => entry.lineNo), [1, 3]);
      assert.equal(await store.planChunks('old', { ...plan, limits: { ...limits, minRequests: 1 } }), 1, 'the pending line is retried');
      assert.deepEqual((await store.chunkLines('old', 3)).map((entry) => [entry.lineNo, entry.attempts]), [[2, 2]]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a first planning pass cut short after some chunks is planned again whole, each line in one chunk', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-batch-store-'));
  const path = join(directory, 'batch.duckdb');
  try {
    let store = await openDuckDbBatchStore({ path, hold: true });
    await store.createJob(job('j5'));
    await store.appendLines('j5', [1, 2, 3, 4, 5, 6].map((lineNo) => line(lineNo, `r${lineNo}`, 'A', `h${lineNo}`)));
    await store.finishIngest('j5');
    assert.equal(await store.planChunks('j5', plan), 3);
    await store.close();
    // The state a kill between the first and second chunk's transactions leaves.
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`UPDATE batch_jobs SET planned = false WHERE job_id = 'j5'`);
    await connection.run(`DELETE FROM batch_assignments WHERE job_id = 'j5' AND chunk_id > 1`);
    await connection.run(`DELETE FROM batch_chunks WHERE job_id = 'j5' AND chunk_id > 1`);
    connection.closeSync();
    instance.closeSync();

    store = await openDuckDbBatchStore({ path, hold: true });
    try {
      assert.equal(await store.planChunks('j5', plan), 3);
      const assigned: number[] = [];
      for (const chunk of await store.chunks('j5')) assigned.push(...(await store.chunkLines('j5', chunk.chunkId)).map((entry) => entry.lineNo));
      assert.deepEqual(assigned, [1, 2, 3, 4, 5, 6]);
      assert.equal((await store.summary('j5')).lines.queued, 6);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('below the minimum with belowMinimum on-demand: the small group becomes an on-demand chunk; send marks and results are told apart', async () => {
  await withStore(async (store) => {
    await store.createJob(job('od'));
    await store.appendLines('od', [line(1, 'a', 'big', 'h1'), line(2, 'b', 'big', 'h2'), line(3, 'c', 'small', 'h3')]);
    await store.finishIngest('od');
    assert.equal(await store.planChunks('od', { ...plan, belowMinimum: 'on-demand' }), 2);
    const chunks = await store.chunks('od');
    assert.deepEqual(chunks.map((chunk) => [chunk.model, chunk.lines, chunk.onDemand]), [['big', 2, false], ['small', 1, true]]);
    const small = chunks[1]?.chunkId ?? 0;
    assert.deepEqual(await store.sendingProgress('od', small), { marked: new Set(), answered: new Set() });
    await store.markSending('od', small, 3);
    assert.deepEqual(await store.sendingProgress('od', small), { marked: new Set([3]), answered: new Set() }, 'marked, no result: interrupted');
    await store.appendResults('od', small, [succeeded(3, 0)]);
    assert.deepEqual(await store.sendingProgress('od', small), { marked: new Set([3]), answered: new Set([3]) });
    await store.finishResults('od', small, missing(-1));
    assert.equal((await store.summary('od')).lines.succeeded, 1);
    assert.equal((await merged(store, 'od')).find((entry) => entry.lineNo === 3)?.state, 'succeeded');
  });
});
