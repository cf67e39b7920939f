import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { openDuckDbFile, takeTurn } from '../../ledger/duckdb/open-database.ts';
import { migrate } from '../../ledger/duckdb/migrations.ts';
import { BATCH_MIGRATIONS } from './batch-migrations.ts';
import type { BatchStore, ChunkRecord, JobRecord, MergeLine } from './batch-store.ts';
import { chunkLinesSql, mergeLinesSql, summarySql, unrecordedSql } from './duckdb-batch-reads.ts';
import { appendResultsSql, cancelRemainingSql, finishIngestSql, finishResultsSql, planChunksSql } from './duckdb-batch-writes.ts';

/**
 * The batch job store in DuckDB, in its own file (default `<ledger dir>/batch.duckdb`) rather than
 * inside the ledger: DuckDB allows one writing process per file, a running gateway holds the ledger
 * open for its whole life, and a batch job writes its state hundreds of times over hours. Separate
 * files let `costgate batch` run beside a gateway without either waiting on the other; ledger rows
 * still go through Ledger.append (directly, or through the gateway's admin API while it holds the
 * ledger).
 *
 * Opened per operation by default, so `costgate batch status` in another terminal can read while a
 * job runs (each waits for the other's short operation). `hold` keeps the file open between
 * operations (an operation costs under a millisecond instead of ~20 ms of open and checkpoint);
 * a job runner holds it while it works and `release()`s it whenever it waits for the provider, so
 * other processes get their turn during the polls. Every operation commits before it returns: DuckDB's WAL makes a
 * committed transaction survive kill -9. DuckDB gets a small memory budget so a million-line job
 * stays within the CLI's bound.
 */

export interface DuckDbBatchStoreOptions {
  path: string;
  hold?: boolean;
  lockTimeoutMs?: number;
}

const SETTINGS = { memory_limit: '64MB', threads: '1', preserve_insertion_order: 'true', allocator_flush_threshold: '4MB', allocator_background_threads: 'true', checkpoint_threshold: '4MB' };
export type Work = <T>(task: (connection: DuckDBConnection) => Promise<T>) => Promise<T>;

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const text = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));
const optionalNumber = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));

export function appendOptional(appender: DuckDBAppender, value: string | number | bigint | undefined, kind: 'text' | 'bigint' | 'integer' | 'double'): void {
  if (value === undefined) return appender.appendNull();
  if (kind === 'text') return appender.appendVarchar(String(value));
  if (kind === 'bigint') return appender.appendBigInt(BigInt(value));
  if (kind === 'integer') return appender.appendInteger(Number(value));
  return appender.appendDouble(Number(value));
}

export async function rows(connection: DuckDBConnection, sql: string, values: Record<string, DuckDBValue> = {}): Promise<Array<Record<string, unknown>>> {
  return (await connection.runAndReadAll(sql, values)).getRowObjectsJS();
}

export async function transaction<T>(connection: DuckDBConnection, task: () => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const result = await task();
    await connection.run('COMMIT');
    return result;
  } catch (error) {
    await connection.run('ROLLBACK');
    throw error;
  }
}

function readJob(row: Record<string, unknown>): JobRecord {
  return {
    jobId: String(row['job_id']),
    createdAt: num(row['created_at']),
    provider: String(row['provider']) as JobRecord['provider'],
    model: text(row['model']),
    inputPath: String(row['input_path']),
    outputPath: text(row['output_path']),
    workDir: String(row['work_dir']),
    state: String(row['state']) as JobRecord['state'],
    options: JSON.parse(String(row['options'])) as JobRecord['options'],
    defaults: JSON.parse(String(row['defaults'])) as JobRecord['defaults'],
    cancelRequested: row['cancel_requested'] === true,
    runnerPid: optionalNumber(row['runner_pid']),
    error: text(row['error']),
    totalLines: num(row['total_lines']),
    invalidLines: num(row['invalid_lines']),
    duplicateLines: num(row['duplicate_lines']),
  };
}

function readChunk(row: Record<string, unknown>): ChunkRecord {
  return {
    jobId: String(row['job_id']),
    chunkId: num(row['chunk_id']),
    model: String(row['model']),
    endpoint: String(row['endpoint']),
    lines: num(row['lines']),
    bytes: num(row['bytes']),
    estTokens: num(row['est_tokens']),
    state: String(row['state']) as ChunkRecord['state'],
    token: String(row['token']),
    fileRef: text(row['file_ref']),
    batchId: text(row['batch_id']),
    intentAt: optionalNumber(row['intent_at']),
    submittedAt: optionalNumber(row['submitted_at']),
    endedAt: optionalNumber(row['ended_at']),
    outcome: text(row['outcome']),
    message: text(row['message']),
    providerStatus: text(row['provider_status']),
    nextAttemptAt: num(row['next_attempt_at']),
    pollIntervalMs: num(row['poll_interval_ms']),
    succeeded: num(row['succeeded']),
    failed: num(row['failed']),
    recordedThrough: num(row['recorded_through']),
    onDemand: row['on_demand'] === true,
  };
}

const CHUNK_COLUMNS: Record<string, string> = {
  state: 'state',
  fileRef: 'file_ref',
  batchId: 'batch_id',
  intentAt: 'intent_at',
  submittedAt: 'submitted_at',
  endedAt: 'ended_at',
  outcome: 'outcome',
  message: 'message',
  providerStatus: 'provider_status',
  nextAttemptAt: 'next_attempt_at',
  pollIntervalMs: 'poll_interval_ms',
  succeeded: 'succeeded',
  failed: 'failed',
};

const JOB_COLUMNS: Record<string, string> = { state: 'state', error: 'error', cancelRequested: 'cancel_requested', runnerPid: 'runner_pid', outputPath: 'output_path' };

function assignments(patch: object, columns: Record<string, string>): { sql: string; values: Record<string, DuckDBValue> } {
  const parts: string[] = [];
  const values: Record<string, DuckDBValue> = {};
  for (const [key, value] of Object.entries(patch)) {
    const column = columns[key];
    if (column === undefined) continue;
    parts.push(`${column} = $${key}`);
    values[key] = value === undefined ? null : (value as DuckDBValue);
  }
  return { sql: parts.join(', '), values };
}

export async function openDuckDbBatchStore(options: DuckDbBatchStoreOptions): Promise<BatchStore> {
  const path = resolve(options.path);
  const lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
  await mkdir(dirname(path), { recursive: true });
  let held: { instance: DuckDBInstance; connection: DuckDBConnection } | undefined;
  let holding = false;
  const work: Work = (task) =>
    takeTurn(path, async () => {
      if (holding && !held) {
        const instance = await openDuckDbFile(path, SETTINGS, lockTimeoutMs);
        held = { instance, connection: await instance.connect() };
      }
      if (held) return task(held.connection);
      const instance = await openDuckDbFile(path, SETTINGS, lockTimeoutMs);
      try {
        const connection = await instance.connect();
        try {
          return await task(connection);
        } finally {
          connection.closeSync();
        }
      } finally {
        instance.closeSync();
      }
    });
  await work((connection) => migrate(connection, BATCH_MIGRATIONS));
  holding = options.hold ?? false;
  const release = (): Promise<void> =>
    takeTurn(path, async () => {
      if (!held) return;
      held.connection.closeSync();
      held.instance.closeSync();
      held = undefined;
    });

  return {
    createJob: (job) =>
      work(async (connection) => {
        await connection.run(
          `INSERT INTO batch_jobs (job_id, created_at, provider, model, input_path, output_path, work_dir, state, options, defaults)
           VALUES ($id, $created, $provider, $model, $input, $output, $work, $state, $options, $defaults)`,
          {
            id: job.jobId,
            created: job.createdAt,
            provider: job.provider,
            model: job.model ?? null,
            input: job.inputPath,
            output: job.outputPath ?? null,
            work: job.workDir,
            state: job.state,
            options: JSON.stringify(job.options),
            defaults: JSON.stringify(job.defaults),
          },
        );
      }),

    getJob: (jobId) => work(async (connection) => (await rows(connection, 'SELECT * FROM batch_jobs WHERE job_id = $id', { id: jobId })).map(readJob)[0]),

    listJobs: (limit) => work(async (connection) => (await rows(connection, 'SELECT * FROM batch_jobs ORDER BY created_at DESC LIMIT $limit', { limit })).map(readJob)),

    updateJob: (jobId, patch) =>
      work(async (connection) => {
        const { sql, values } = assignments(patch, JOB_COLUMNS);
        if (sql !== '') await connection.run(`UPDATE batch_jobs SET ${sql} WHERE job_id = $jobId`, { ...values, jobId });
      }),

    resetLines: (jobId) =>
      work((connection) =>
        transaction(connection, async () => {
          for (const table of ['batch_lines', 'batch_chunks', 'batch_marks', 'batch_assignments', 'batch_results', 'batch_sending']) {
            await connection.run(`DELETE FROM ${table} WHERE job_id = $job`, { job: jobId });
          }
          await connection.run('UPDATE batch_jobs SET planned = false WHERE job_id = $job', { job: jobId });
        }),
      ),

    appendLines: (jobId, lines) =>
      work(async (connection) => {
        const appender = await connection.createAppender('batch_lines');
        try {
          for (const line of lines) {
            // Column order of the table: job_id .. recorded.
            appender.appendVarchar(jobId);
            appender.appendBigInt(BigInt(line.lineNo));
            appender.appendVarchar(line.customId);
            appender.appendVarchar(line.model);
            appender.appendVarchar(line.endpoint);
            appender.appendVarchar(line.requestHash);
            appender.appendBigInt(BigInt(line.requestOffset));
            appender.appendInteger(line.requestLength);
            appender.appendBigInt(BigInt(line.estTokens));
            appendOptional(appender, line.feature, 'text');
            appendOptional(appender, line.customer, 'text');
            appendOptional(appender, line.user, 'text');
            appender.appendVarchar(line.tagsJson);
            appender.appendNull(); // canonical_line
            appender.appendVarchar(line.state);
            appender.appendInteger(0);
            for (let column = 0; column < 5; column += 1) appender.appendNull(); // chunk_id .. status
            appendOptional(appender, line.state === 'invalid' ? 'invalid_request' : undefined, 'text');
            appendOptional(appender, line.errorMessage, 'text');
            for (let column = 0; column < 11; column += 1) appender.appendNull(); // served_model .. time_ms
            appender.appendBoolean(false);
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
      }),

    finishIngest: (jobId) => work((connection) => transaction(connection, () => finishIngestSql(connection, jobId))),

    // Commits chunk by chunk itself (see duckdb-batch-writes.ts).
    planChunks: (jobId, options) => work((connection) => planChunksSql(connection, jobId, options)),

    chunks: (jobId) => work(async (connection) => (await rows(connection, 'SELECT * FROM batch_chunks WHERE job_id = $job ORDER BY chunk_id', { job: jobId })).map(readChunk)),

    updateChunk: (jobId, chunkId, patch) =>
      work(async (connection) => {
        const { sql, values } = assignments(patch, CHUNK_COLUMNS);
        if (sql !== '') await connection.run(`UPDATE batch_chunks SET ${sql} WHERE job_id = $jobId AND chunk_id = $chunkId`, { ...values, jobId, chunkId });
      }),

    chunkLines: (jobId, chunkId) => work((connection) => chunkLinesSql(connection, jobId, chunkId)),

    beginResults: (jobId, chunkId) =>
      work(async (connection) => {
        await connection.run('DELETE FROM batch_results WHERE job_id = $job AND chunk_id = $chunk', { job: jobId, chunk: chunkId });
      }),

    appendResults: (jobId, chunkId, outcomes) => work((connection) => appendResultsSql(connection, jobId, chunkId, outcomes)),

    finishResults: (jobId, chunkId, missing) => work((connection) => transaction(connection, () => finishResultsSql(connection, jobId, chunkId, missing))),

    cancelRemaining: (jobId) => work((connection) => transaction(connection, () => cancelRemainingSql(connection, jobId))),

    unrecorded: (jobId, chunkId, afterLine, limit) => work((connection) => unrecordedSql(connection, jobId, chunkId, afterLine, limit)),

    markRecorded: (jobId, chunkId, throughLine) =>
      work(async (connection) => {
        await connection.run('UPDATE batch_chunks SET recorded_through = $through WHERE job_id = $job AND chunk_id = $chunk', { job: jobId, chunk: chunkId, through: throughLine });
      }),

    markSending: (jobId, chunkId, lineNo) =>
      work(async (connection) => {
        await connection.run('INSERT INTO batch_sending (job_id, chunk_id, line_no, sent_at) VALUES ($job, $chunk, $line, $at)', { job: jobId, chunk: chunkId, line: lineNo, at: Date.now() });
      }),

    sendingProgress: (jobId, chunkId) =>
      work(async (connection) => {
        const where = { job: jobId, chunk: chunkId };
        const marked = await rows(connection, 'SELECT line_no FROM batch_sending WHERE job_id = $job AND chunk_id = $chunk', where);
        const answered = await rows(connection, 'SELECT line_no FROM batch_results WHERE job_id = $job AND chunk_id = $chunk', where);
        return { marked: new Set(marked.map((row) => Number(row['line_no']))), answered: new Set(answered.map((row) => Number(row['line_no']))) };
      }),

    summary: (jobId) => work((connection) => summarySql(connection, jobId)),

    mergeLines: (jobId, onPage) => work((connection) => mergeLinesSql(connection, jobId, onPage)),

    failedLines: (jobId, limit) =>
      work(async (connection) => {
        const failed: MergeLine[] = [];
        await mergeLinesSql(connection, jobId, async (lines) => {
          for (const line of lines) if (line.state === 'failed' || line.state === 'invalid' || line.state === 'cancelled') failed.push(line);
          return failed.length < limit;
        });
        return failed.slice(0, limit);
      }),

    release,

    async close() {
      holding = false;
      await release();
    },
  };
}
