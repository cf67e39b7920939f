import type { DuckDBConnection } from '@duckdb/node-api';
import { failpoint } from '../failpoint.ts';
import type { LineOutcome, PlanOptions } from './batch-store.ts';
import { appendOptional, rows, transaction } from './duckdb-batch-store.ts';

/**
 * The bulk writes of the batch store. None rewrites lines: planning appends line -> chunk
 * assignments, collection appends results, ingest and cancellation append marks, each in
 * transactions of at most one chunk's lines. A DuckDB UPDATE of a million rows keeps every old
 * and new row version in memory until it commits, which is what made a million-line job's
 * process several hundred MB; appends in bounded slices keep it flat.
 */

/** What planning needs of a line: its group, number, size, estimated tokens and attempt. */
interface PlanLines {
  groups: string[];
  group: Int32Array;
  lineNo: Float64Array;
  bytes: Float64Array;
  tokens: Float64Array;
  attempt: Int32Array;
  count: number;
}

interface PlannedChunk {
  chunkId: number;
  onDemand: boolean;
  model: string;
  endpoint: string;
  lines: number;
  bytes: number;
  tokens: number;
  first: number;
}

const BELOW_MINIMUM = `'only ' || $lines || ' requests for this model; the provider needs at least ' || $minimum || ' per batch'`;

async function readPlanLines(connection: DuckDBConnection, sql: string, values: Record<string, string | number>, size: number): Promise<PlanLines> {
  const lines: PlanLines = {
    groups: [],
    group: new Int32Array(size),
    lineNo: new Float64Array(size),
    bytes: new Float64Array(size),
    tokens: new Float64Array(size),
    attempt: new Int32Array(size),
    count: 0,
  };
  const groupIndex = new Map<string, number>();
  const result = await connection.stream(sql, values);
  for (;;) {
    const page = await result.fetchChunk();
    if (!page || page.rowCount === 0) break;
    for (const [lineNo, model, endpoint, length, tokens, attempt] of page.getRows()) {
      if (lines.count >= size) break;
      const key = `${String(model)}\u0000${String(endpoint)}`;
      let index = groupIndex.get(key);
      if (index === undefined) {
        index = lines.groups.length;
        groupIndex.set(key, index);
        lines.groups.push(key);
      }
      const at = lines.count;
      lines.group[at] = index;
      lines.lineNo[at] = Number(lineNo);
      lines.bytes[at] = Number(length);
      lines.tokens[at] = Number(tokens);
      lines.attempt[at] = Number(attempt);
      lines.count += 1;
    }
  }
  return lines;
}

/**
 * Cuts lines (sorted by group, then line number) into chunks that respect the provider's count and
 * byte limits and the token cap, balanced so that every chunk of a group is about the same size
 * (which keeps Bedrock chunks above its minimum whenever the group is). A group under the minimum
 * becomes on-demand chunks when `belowMinimum` is 'on-demand'; otherwise it is returned as too small to batch.
 */
function cutChunks(lines: PlanLines, options: PlanOptions, firstChunkId: number): { chunks: PlannedChunk[]; chunkOf: Int32Array; small: Array<{ key: string; lines: number }> } {
  const { limits, lineOverhead, wrapperBytes, maxTokens } = options;
  const totals = lines.groups.map(() => ({ lines: 0, bytes: 0, tokens: 0 }));
  for (let index = 0; index < lines.count; index += 1) {
    const total = totals[lines.group[index] ?? 0];
    if (!total) continue;
    total.lines += 1;
    total.bytes += (lines.bytes[index] ?? 0) + lineOverhead + 1;
    total.tokens += lines.tokens[index] ?? 0;
  }
  const onDemand = options.belowMinimum === 'on-demand';
  const targets = totals.map((total) =>
    total.lines < limits.minRequests
      ? onDemand
        ? total.lines
        : 0
      : Math.ceil(
          total.lines /
            Math.max(Math.ceil(total.lines / limits.maxRequests), Math.ceil(total.bytes / Math.max(1, limits.maxBytes - wrapperBytes)), Math.ceil(total.tokens / Math.max(1, maxTokens)), 1),
        ),
  );
  const small = lines.groups.flatMap((key, index) => (!onDemand && (targets[index] ?? 0) === 0 && (totals[index]?.lines ?? 0) > 0 ? [{ key, lines: totals[index]?.lines ?? 0 }] : []));
  const chunkOf = new Int32Array(lines.count);
  const chunks: PlannedChunk[] = [];
  let current: (PlannedChunk & { group: number }) | undefined;
  let chunkId = firstChunkId - 1;
  for (let index = 0; index < lines.count; index += 1) {
    const group = lines.group[index] ?? 0;
    const target = targets[group] ?? 0;
    if (target === 0) continue;
    const lineBytes = (lines.bytes[index] ?? 0) + lineOverhead + 1;
    const lineTokens = lines.tokens[index] ?? 0;
    const full =
      current !== undefined &&
      (current.group !== group || current.lines >= target || current.bytes + lineBytes + wrapperBytes > limits.maxBytes || current.tokens + lineTokens > maxTokens);
    if (current === undefined || full) {
      chunkId += 1;
      const [model = '', endpoint = ''] = (lines.groups[group] ?? '').split('\u0000');
      const below = (totals[group]?.lines ?? 0) < limits.minRequests;
      current = { chunkId, onDemand: below, model, endpoint, lines: 0, bytes: 0, tokens: 0, first: index, group };
      chunks.push(current);
    }
    current.lines += 1;
    current.bytes += lineBytes;
    current.tokens += lineTokens;
    chunkOf[index] = chunkId;
  }
  return { chunks, chunkOf, small };
}

async function insertChunk(connection: DuckDBConnection, jobId: string, chunk: PlannedChunk, options: PlanOptions, lines: PlanLines, chunkOf: Int32Array): Promise<void> {
  await connection.run(
    `INSERT INTO batch_chunks (job_id, chunk_id, model, endpoint, lines, bytes, est_tokens, state, token, on_demand)
     VALUES ($job, $chunk, $model, $endpoint, $lines, $bytes, $tokens, 'planned', $token, $onDemand)`,
    { job: jobId, chunk: chunk.chunkId, onDemand: chunk.onDemand, model: chunk.model, endpoint: chunk.endpoint, lines: chunk.lines, bytes: chunk.bytes + options.wrapperBytes, tokens: chunk.tokens, token: options.token(chunk.chunkId) },
  );
  const appender = await connection.createAppender('batch_assignments');
  try {
    let written = 0;
    for (let index = chunk.first; index < lines.count && written < chunk.lines; index += 1) {
      if (chunkOf[index] !== chunk.chunkId) continue;
      appender.appendVarchar(jobId);
      appender.appendInteger(chunk.chunkId);
      appender.appendBigInt(BigInt(lines.lineNo[index] ?? 0));
      appender.appendInteger(lines.attempt[index] ?? 1);
      appender.endRow();
      written += 1;
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

async function markBelowMinimum(connection: DuckDBConnection, jobId: string, small: ReadonlyArray<{ key: string; lines: number }>, candidates: string, minimum: number): Promise<void> {
  for (const group of small) {
    const [model = '', endpoint = ''] = group.key.split('\u0000');
    await connection.run(
      `INSERT INTO batch_marks (job_id, line_no, state, error_type, error_message)
       SELECT $job, line_no, 'failed', 'below_minimum_records', ${BELOW_MINIMUM} FROM (${candidates}) candidates
       WHERE model = $model AND endpoint = $endpoint`,
      { job: jobId, lines: group.lines, minimum, model, endpoint },
    );
  }
}

/** Lines ingested as pending that no mark (invalid, duplicate) keeps from being sent. */
const FIRST_CANDIDATES = `SELECT line_no, model, endpoint, request_length, est_tokens, 1 AS attempt FROM batch_lines
  WHERE job_id = $job AND state = 'pending' AND line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job)`;

/**
 * The first pass puts every sendable line in a chunk, one transaction per chunk; the last one also
 * records that the job is planned. A pass cut short by a crash is thrown away and made again:
 * its chunks cannot have reached the provider, since planning returns before any submission.
 */
async function planFirst(connection: DuckDBConnection, jobId: string, options: PlanOptions): Promise<number> {
  const job = { job: jobId };
  await transaction(connection, async () => {
    await connection.run('DELETE FROM batch_assignments WHERE job_id = $job', job);
    await connection.run('DELETE FROM batch_chunks WHERE job_id = $job', job);
    await connection.run(`DELETE FROM batch_marks WHERE job_id = $job AND state = 'failed'`, job);
  });
  const [count] = await rows(connection, `SELECT count(*) AS lines FROM (${FIRST_CANDIDATES})`, job);
  const lines = await readPlanLines(connection, `${FIRST_CANDIDATES} ORDER BY model, endpoint, line_no`, job, Number(count?.['lines'] ?? 0));
  const { chunks, chunkOf, small } = cutChunks(lines, options, 1);
  const finishPlan = async (): Promise<void> => {
    await connection.run('UPDATE batch_jobs SET planned = true WHERE job_id = $job', job);
  };
  await transaction(connection, async () => {
    await markBelowMinimum(connection, jobId, small, FIRST_CANDIDATES, options.limits.minRequests);
    if (chunks.length === 0) await finishPlan();
  });
  for (const [index, chunk] of chunks.entries()) {
    await transaction(connection, async () => {
      await insertChunk(connection, jobId, chunk, options, lines, chunkOf);
      if (index === chunks.length - 1) await finishPlan();
    });
    failpoint('chunk-planned');
  }
  return chunks.length;
}

/** Lines of collected chunks that came back to be retried and are not cancelled or failed by a mark. */
const RETRY_CANDIDATES = `SELECT r.line_no, l.model, l.endpoint, l.request_length, l.est_tokens, a.attempt + 1 AS attempt
  FROM batch_results r
  JOIN batch_assignments a ON a.job_id = r.job_id AND a.chunk_id = r.chunk_id AND a.line_no = r.line_no
  JOIN batch_lines l ON l.job_id = r.job_id AND l.line_no = r.line_no
  WHERE r.job_id = $job AND a.job_id = $job AND l.job_id = $job AND r.state = 'pending'
    AND r.chunk_id IN (SELECT chunk_id FROM batch_chunks WHERE job_id = $job AND state = 'collected' AND NOT replanned)
    AND r.line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job)`;

/** Later passes send the retries of collected chunks in new chunks, all in one transaction (at most a few chunks' lines). */
async function planRetries(connection: DuckDBConnection, jobId: string, options: PlanOptions): Promise<number> {
  const job = { job: jobId };
  const [open] = await rows(connection, `SELECT count(*) AS chunks, coalesce(max(chunk_id), 0) AS last FROM batch_chunks WHERE job_id = $job AND state = 'collected' AND NOT replanned`, job);
  if (Number(open?.['chunks'] ?? 0) === 0) return 0;
  const [all] = await rows(connection, 'SELECT coalesce(max(chunk_id), 0) AS last FROM batch_chunks WHERE job_id = $job', job);
  const [count] = await rows(connection, `SELECT count(*) AS lines FROM (${RETRY_CANDIDATES})`, job);
  const lines = await readPlanLines(connection, `${RETRY_CANDIDATES} ORDER BY l.model, l.endpoint, r.line_no`, job, Number(count?.['lines'] ?? 0));
  const { chunks, chunkOf, small } = cutChunks(lines, options, Number(all?.['last'] ?? 0) + 1);
  await transaction(connection, async () => {
    await markBelowMinimum(connection, jobId, small, RETRY_CANDIDATES, options.limits.minRequests);
    for (const chunk of chunks) await insertChunk(connection, jobId, chunk, options, lines, chunkOf);
    await connection.run(`UPDATE batch_chunks SET replanned = true WHERE job_id = $job AND state = 'collected' AND NOT replanned`, job);
  });
  return chunks.length;
}

/** Puts pending lines into new chunks; returns how many were made. */
export async function planChunksSql(connection: DuckDBConnection, jobId: string, options: PlanOptions): Promise<number> {
  const [job] = await rows(connection, 'SELECT planned FROM batch_jobs WHERE job_id = $job', { job: jobId });
  return job?.['planned'] === true ? planRetries(connection, jobId, options) : planFirst(connection, jobId, options);
}

/** Appends one slice of a chunk's outcomes (committed on its own). */
export async function appendResultsSql(connection: DuckDBConnection, jobId: string, chunkId: number, outcomes: readonly LineOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const appender = await connection.createAppender('batch_results');
  try {
    for (const outcome of outcomes) {
      // Column order of the table: job_id .. time_ms.
      appender.appendVarchar(jobId);
      appender.appendInteger(chunkId);
      appender.appendBigInt(BigInt(outcome.lineNo));
      appender.appendVarchar(outcome.state);
      appender.appendVarchar(outcome.outFile);
      appender.appendBigInt(BigInt(outcome.outOffset));
      appender.appendInteger(outcome.outLength);
      appender.appendInteger(outcome.status);
      appendOptional(appender, outcome.errorType, 'text');
      appendOptional(appender, outcome.errorMessage, 'text');
      appendOptional(appender, outcome.servedModel, 'text');
      appendOptional(appender, outcome.usageJson, 'text');
      appendOptional(appender, outcome.stopReason, 'text');
      appendOptional(appender, outcome.cost, 'bigint');
      appendOptional(appender, outcome.baseline, 'bigint');
      appendOptional(appender, outcome.priceVersion, 'text');
      appendOptional(appender, outcome.cacheWritePremium, 'bigint');
      appendOptional(appender, outcome.cacheReadSaving, 'bigint');
      appender.appendDouble(outcome.latencyMs);
      appender.appendBigInt(BigInt(outcome.timeMs));
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** The chunk's lines the provider returned nothing for (a failed or cancelled batch, records left unprocessed), then the chunk is collected. */
export async function finishResultsSql(
  connection: DuckDBConnection,
  jobId: string,
  chunkId: number,
  missing: { errorType: string; errorMessage: string; maxRetries: number; timeMs: number },
): Promise<void> {
  const where = { job: jobId, chunk: chunkId };
  await connection.run(
    `INSERT INTO batch_results (job_id, chunk_id, line_no, state, status, error_type, error_message, time_ms)
     SELECT $job, $chunk, a.line_no, CASE WHEN a.attempt <= $retries THEN 'pending' ELSE 'failed' END, 0, $type, $message, $time
     FROM batch_assignments a
     WHERE a.job_id = $job AND a.chunk_id = $chunk
       AND a.line_no NOT IN (SELECT line_no FROM batch_results WHERE job_id = $job AND chunk_id = $chunk)`,
    { ...where, retries: missing.maxRetries, type: missing.errorType, message: missing.errorMessage, time: missing.timeMs },
  );
  await connection.run(`UPDATE batch_chunks SET state = 'collected' WHERE job_id = $job AND chunk_id = $chunk`, where);
}

/**
 * The output is keyed by custom_id, so only the first line with one keeps it; identical requests
 * are sent once and the others take the first one's answer. Grouping (rather than a window over
 * every line) keeps only the repeated keys in the result, and DuckDB can spill the grouping.
 */
export async function finishIngestSql(connection: DuckDBConnection, jobId: string): Promise<void> {
  const job = { job: jobId };
  await connection.run(`DELETE FROM batch_marks WHERE job_id = $job`, job);
  await connection.run(
    `INSERT INTO batch_marks (job_id, line_no, state, error_type, error_message)
     SELECT $job, l.line_no, 'invalid', 'invalid_request', 'duplicate custom_id (an earlier line has it)'
     FROM batch_lines l JOIN (
       SELECT custom_id, min(line_no) AS first FROM batch_lines WHERE job_id = $job GROUP BY custom_id HAVING count(*) > 1
     ) repeated ON l.custom_id = repeated.custom_id
     WHERE l.job_id = $job AND l.line_no <> repeated.first`,
    job,
  );
  await connection.run(
    `INSERT INTO batch_marks (job_id, line_no, state, canonical_line)
     SELECT $job, l.line_no, 'duplicate', repeated.first
     FROM batch_lines l JOIN (
       SELECT request_hash, min(line_no) AS first FROM batch_lines
       WHERE job_id = $job AND state = 'pending' AND line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job)
       GROUP BY request_hash HAVING count(*) > 1
     ) repeated ON l.request_hash = repeated.request_hash
     WHERE l.job_id = $job AND l.state = 'pending' AND l.line_no <> repeated.first
       AND l.line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job)`,
    job,
  );
  await connection.run(
    `UPDATE batch_jobs SET state = 'running',
       total_lines = (SELECT count(*) FROM batch_lines WHERE job_id = $job),
       invalid_lines = (SELECT count(*) FROM batch_lines WHERE job_id = $job AND state = 'invalid')
         + (SELECT count(*) FROM batch_marks WHERE job_id = $job AND state = 'invalid'),
       duplicate_lines = (SELECT count(*) FROM batch_marks WHERE job_id = $job AND state = 'duplicate')
     WHERE job_id = $job`,
    job,
  );
}

const CANCELLED = `'cancelled', 'the job was cancelled before this request finished'`;

/**
 * A cancelled job's lines that are not done become cancelled: never sent, sent and returned for a
 * retry that will not happen, and duplicates whose first line has no final answer. Runs once, when
 * no chunk is open any more.
 */
export async function cancelRemainingSql(connection: DuckDBConnection, jobId: string): Promise<void> {
  const job = { job: jobId };
  await connection.run(
    `INSERT INTO batch_marks (job_id, line_no, state, error_type, error_message)
     SELECT $job, line_no, 'cancelled', ${CANCELLED} FROM batch_lines
     WHERE job_id = $job AND state = 'pending'
       AND line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job)
       AND line_no NOT IN (SELECT line_no FROM batch_assignments WHERE job_id = $job)`,
    job,
  );
  await connection.run(
    `INSERT INTO batch_marks (job_id, line_no, state, error_type, error_message)
     SELECT $job, line_no, 'cancelled', ${CANCELLED} FROM batch_results
     WHERE job_id = $job AND state = 'pending'
       AND chunk_id IN (SELECT chunk_id FROM batch_chunks WHERE job_id = $job AND NOT replanned)
       AND line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job)`,
    job,
  );
  await connection.run(
    `INSERT INTO batch_marks (job_id, line_no, state, canonical_line, error_type, error_message)
     SELECT $job, line_no, 'cancelled', canonical_line, ${CANCELLED} FROM batch_marks
     WHERE job_id = $job AND state = 'duplicate'
       AND line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job AND state = 'cancelled')
       AND canonical_line NOT IN (SELECT line_no FROM batch_results WHERE job_id = $job AND state <> 'pending')`,
    job,
  );
}
