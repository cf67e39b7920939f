import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { openDuckDbFile, takeTurn } from '../../ledger/duckdb/open-database.ts';
import { migrate } from '../../ledger/duckdb/migrations.ts';
import { BATCH_MIGRATIONS } from './batch-migrations.ts';
import type { BatchStore, ChunkRecord, JobRecord, JobSummary, LineState, MergeLine, UnrecordedLine } from './batch-store.ts';
import { applyResultsSql, planChunksSql } from './duckdb-batch-writes.ts';

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

const SETTINGS = { memory_limit: '96MB', threads: '1', preserve_insertion_order: 'true', allocator_flush_threshold: '8MB' };
export type Work = <T>(task: (connection: DuckDBConnection) => Promise<T>) => Promise<T>;

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const text = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));
const money = (value: unknown): bigint | undefined => (value === null || value === undefined ? undefined : BigInt(value as bigint));
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
          await connection.run('DELETE FROM batch_lines WHERE job_id = $job', { job: jobId });
          await connection.run('DELETE FROM batch_chunks WHERE job_id = $job', { job: jobId });
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

    finishIngest: (jobId) =>
      work((connection) =>
        transaction(connection, async () => {
          const job = { job: jobId };
          // The output is keyed by custom_id, so only its first line keeps one.
          await connection.run(
            `UPDATE batch_lines SET state = 'invalid', error_type = 'invalid_request', error_message = 'duplicate custom_id (an earlier line has it)'
             FROM (SELECT line_no, row_number() OVER (PARTITION BY custom_id ORDER BY line_no) AS seen FROM batch_lines WHERE job_id = $job) first
             WHERE batch_lines.job_id = $job AND batch_lines.line_no = first.line_no AND first.seen > 1`,
            job,
          );
          // Identical requests are sent once; the others take the first one's answer.
          await connection.run(
            `UPDATE batch_lines SET state = 'duplicate', canonical_line = first.canonical
             FROM (SELECT line_no, min(line_no) OVER (PARTITION BY request_hash) AS canonical FROM batch_lines WHERE job_id = $job AND state = 'pending') first
             WHERE batch_lines.job_id = $job AND batch_lines.line_no = first.line_no AND first.canonical <> first.line_no`,
            job,
          );
          await connection.run(
            `UPDATE batch_jobs SET state = 'running',
               total_lines = (SELECT count(*) FROM batch_lines WHERE job_id = $job),
               invalid_lines = (SELECT count(*) FROM batch_lines WHERE job_id = $job AND state = 'invalid'),
               duplicate_lines = (SELECT count(*) FROM batch_lines WHERE job_id = $job AND state = 'duplicate')
             WHERE job_id = $job`,
            job,
          );
        }),
      ),

    planChunks: (jobId, options) => work((connection) => transaction(connection, () => planChunksSql(connection, jobId, options))),

    chunks: (jobId) => work(async (connection) => (await rows(connection, 'SELECT * FROM batch_chunks WHERE job_id = $job ORDER BY chunk_id', { job: jobId })).map(readChunk)),

    updateChunk: (jobId, chunkId, patch) =>
      work(async (connection) => {
        const { sql, values } = assignments(patch, CHUNK_COLUMNS);
        if (sql !== '') await connection.run(`UPDATE batch_chunks SET ${sql} WHERE job_id = $jobId AND chunk_id = $chunkId`, { ...values, jobId, chunkId });
      }),

    chunkLines: (jobId, chunkId) =>
      work(async (connection) =>
        (
          await rows(
            connection,
            `SELECT line_no, custom_id, attempts, request_offset, request_length FROM batch_lines
             WHERE job_id = $job AND chunk_id = $chunk AND state = 'queued' ORDER BY line_no`,
            { job: jobId, chunk: chunkId },
          )
        ).map((row) => ({
          lineNo: num(row['line_no']),
          customId: String(row['custom_id']),
          attempts: num(row['attempts']),
          requestOffset: num(row['request_offset']),
          requestLength: num(row['request_length']),
        })),
      ),

    applyResults: (jobId, chunkId, outcomes, missing) => work((connection) => transaction(connection, () => applyResultsSql(connection, jobId, chunkId, outcomes, missing))),

    cancelRemaining: (jobId) =>
      work(async (connection) => {
        await connection.run(
          `UPDATE batch_lines SET state = 'cancelled', error_type = 'cancelled', error_message = 'the job was cancelled before this request finished'
           WHERE job_id = $job AND state IN ('pending', 'queued', 'duplicate')`,
          { job: jobId },
        );
      }),

    unrecorded: (jobId, afterLine, limit) =>
      work(async (connection) =>
        (
          await rows(
            connection,
            `SELECT * FROM batch_lines WHERE job_id = $job AND line_no > $after AND recorded = false
               AND state IN ('succeeded', 'failed') AND (attempts > 0 OR canonical_line IS NOT NULL)
             ORDER BY line_no LIMIT $limit`,
            { job: jobId, after: afterLine, limit },
          )
        ).map(
          (row): UnrecordedLine => ({
            lineNo: num(row['line_no']),
            customId: String(row['custom_id']),
            model: String(row['model'] ?? ''),
            endpoint: String(row['endpoint'] ?? ''),
            state: String(row['state']) as UnrecordedLine['state'],
            duplicateOf: optionalNumber(row['canonical_line']),
            feature: text(row['feature']),
            customer: text(row['customer']),
            user: text(row['user_id']),
            tagsJson: String(row['tags'] ?? '{}'),
            status: num(row['status']),
            errorType: text(row['error_type']),
            servedModel: text(row['served_model']),
            usageJson: text(row['usage']),
            stopReason: text(row['stop_reason']),
            cost: money(row['cost']),
            baseline: money(row['baseline']),
            priceVersion: text(row['price_version']),
            cacheWritePremium: money(row['cache_write_premium']),
            cacheReadSaving: money(row['cache_read_saving']),
            batchId: text(row['batch_id']),
            latencyMs: num(row['latency_ms']),
            timeMs: num(row['time_ms']),
          }),
        ),
      ),

    markRecorded: (jobId, lineNos) =>
      work(async (connection) => {
        if (lineNos.length === 0) return;
        await connection.run('UPDATE batch_lines SET recorded = true WHERE job_id = $job AND line_no BETWEEN $first AND $last AND line_no IN (SELECT unnest($lines::BIGINT[]))', {
          job: jobId,
          first: Math.min(...lineNos),
          last: Math.max(...lineNos),
          lines: `[${lineNos.join(',')}]`,
        });
      }),

    summary: (jobId) =>
      work(async (connection) => {
        const byState = await rows(
          connection,
          `SELECT state, count(*) AS lines, coalesce(sum(cost), 0) AS cost, coalesce(sum(CASE WHEN cost IS NOT NULL THEN baseline END), 0) AS baseline,
             count(*) FILTER (WHERE state = 'succeeded' AND cost IS NULL) AS unpriced
           FROM batch_lines WHERE job_id = $job GROUP BY state`,
          { job: jobId },
        );
        const chunkRows = await rows(connection, `SELECT count(*) AS chunks, count(*) FILTER (WHERE state IN ('creating', 'submitted')) AS active FROM batch_chunks WHERE job_id = $job`, { job: jobId });
        const lines = { pending: 0, queued: 0, succeeded: 0, failed: 0, invalid: 0, duplicate: 0, cancelled: 0 } as Record<LineState, number>;
        let cost = 0n;
        let baseline = 0n;
        let unpriced = 0;
        for (const row of byState) {
          lines[String(row['state']) as LineState] = num(row['lines']);
          cost += BigInt(row['cost'] as bigint);
          baseline += BigInt(row['baseline'] as bigint);
          unpriced += num(row['unpriced']);
        }
        const summary: JobSummary = { lines, cost, baseline, unpriced, chunks: num(chunkRows[0]?.['chunks']), chunksActive: num(chunkRows[0]?.['active']) };
        return summary;
      }),

    mergeLines: (jobId, onPage) =>
      work(async (connection) => {
        const result = await connection.stream(
          `SELECT line_no, custom_id, state, canonical_line, out_file, out_offset, out_length, error_type, error_message
           FROM batch_lines WHERE job_id = $job ORDER BY line_no`,
          { job: jobId },
        );
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) break;
          await onPage(chunk.getRows().map(mergeLine));
        }
      }),

    failedLines: (jobId, limit) =>
      work(async (connection) =>
        (
          await rows(
            connection,
            `SELECT line_no, custom_id, state, canonical_line, out_file, out_offset, out_length, error_type, error_message
             FROM batch_lines WHERE job_id = $job AND state IN ('failed', 'invalid', 'cancelled') ORDER BY line_no LIMIT $limit`,
            { job: jobId, limit },
          )
        ).map((row) => mergeLine(Object.values(row) as DuckDBValue[])),
      ),

    release,

    async close() {
      holding = false;
      await release();
    },
  };
}

function mergeLine(row: readonly DuckDBValue[]): MergeLine {
  const [lineNo, customId, state, canonical, outFile, outOffset, outLength, errorType, errorMessage] = row;
  return {
    lineNo: num(lineNo),
    customId: String(customId),
    state: String(state) as LineState,
    duplicateOf: optionalNumber(canonical),
    outFile: text(outFile),
    outOffset: num(outOffset),
    outLength: num(outLength),
    errorType: text(errorType),
    errorMessage: text(errorMessage),
  };
}
