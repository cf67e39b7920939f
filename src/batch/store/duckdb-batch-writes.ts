import type { DuckDBConnection } from '@duckdb/node-api';
import type { LineOutcome, PlanOptions } from './batch-store.ts';
import { appendOptional, rows } from './duckdb-batch-store.ts';

/** The two bulk writes of the batch store: planning chunks and applying a chunk's results. */

/**
 * Splits the pending lines of each (model, endpoint) group into chunks that respect the provider's
 * count and byte limits and the token cap, balanced so that every chunk of a group is about the
 * same size (which keeps Bedrock chunks above its minimum whenever the group is). A group smaller
 * than the provider's minimum cannot be batched: its lines fail with a clear error.
 */
export async function planChunksSql(connection: DuckDBConnection, jobId: string, options: PlanOptions): Promise<number> {
  const job = { job: jobId };
  const { limits, lineOverhead, wrapperBytes, maxTokens } = options;
  const groups = await rows(
    connection,
    `SELECT model, endpoint, count(*) AS lines, sum(request_length) AS bytes, sum(est_tokens) AS tokens
     FROM batch_lines WHERE job_id = $job AND state = 'pending' GROUP BY model, endpoint`,
    job,
  );
  if (groups.length === 0) return 0;
  const targets = new Map<string, number>();
  let total = 0;
  for (const group of groups) {
    const lines = Number(group['lines']);
    const key = `${String(group['model'])}\u0000${String(group['endpoint'])}`;
    if (lines < limits.minRequests) {
      await connection.run(
        `UPDATE batch_lines SET state = 'failed', error_type = 'below_minimum_records',
           error_message = 'only ' || $lines || ' requests for this model; the provider needs at least ' || $minimum || ' per batch'
         WHERE job_id = $job AND state = 'pending' AND model = $model AND endpoint = $endpoint`,
        { ...job, lines, minimum: limits.minRequests, model: String(group['model']), endpoint: String(group['endpoint']) },
      );
      continue;
    }
    const bytes = Number(group['bytes']) + lines * (lineOverhead + 1);
    const count = Math.max(
      Math.ceil(lines / limits.maxRequests),
      Math.ceil(bytes / Math.max(1, limits.maxBytes - wrapperBytes)),
      Math.ceil(Number(group['tokens']) / Math.max(1, maxTokens)),
      1,
    );
    targets.set(key, Math.ceil(lines / count));
    total += lines;
  }
  if (total === 0) return 0;

  const next = await rows(connection, 'SELECT coalesce(max(chunk_id), 0) AS last FROM batch_chunks WHERE job_id = $job', job);
  let chunkId = Number(next[0]?.['last'] ?? 0);
  const lineNos = new Float64Array(total);
  const chunkIds = new Int32Array(total);
  const chunks: Array<{ chunkId: number; model: string; endpoint: string; lines: number; bytes: number; tokens: number }> = [];
  let current: (typeof chunks)[number] | undefined;
  let assigned = 0;
  const result = await connection.stream(
    `SELECT line_no, model, endpoint, request_length, est_tokens FROM batch_lines
     WHERE job_id = $job AND state = 'pending' ORDER BY model, endpoint, line_no`,
    job,
  );
  for (;;) {
    const page = await result.fetchChunk();
    if (!page || page.rowCount === 0) break;
    for (const [lineNo, model, endpoint, length, tokens] of page.getRows()) {
      const key = `${String(model)}\u0000${String(endpoint)}`;
      const target = targets.get(key);
      if (target === undefined) continue;
      const lineBytes = Number(length) + lineOverhead + 1;
      const lineTokens = Number(tokens);
      const full =
        current !== undefined &&
        (current.model !== String(model) ||
          current.endpoint !== String(endpoint) ||
          current.lines >= target ||
          current.bytes + lineBytes + wrapperBytes > limits.maxBytes ||
          current.tokens + lineTokens > maxTokens);
      if (current === undefined || full) {
        chunkId += 1;
        current = { chunkId, model: String(model), endpoint: String(endpoint), lines: 0, bytes: 0, tokens: 0 };
        chunks.push(current);
      }
      current.lines += 1;
      current.bytes += lineBytes;
      current.tokens += lineTokens;
      lineNos[assigned] = Number(lineNo);
      chunkIds[assigned] = chunkId;
      assigned += 1;
    }
  }

  await connection.run('CREATE OR REPLACE TEMP TABLE plan_assign (line_no BIGINT, chunk_id INTEGER)');
  const appender = await connection.createAppender('plan_assign', null, 'temp');
  try {
    for (let index = 0; index < assigned; index += 1) {
      appender.appendBigInt(BigInt(lineNos[index] ?? 0));
      appender.appendInteger(chunkIds[index] ?? 0);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await connection.run(
    `UPDATE batch_lines SET chunk_id = plan_assign.chunk_id, state = 'queued', attempts = attempts + 1
     FROM plan_assign WHERE batch_lines.job_id = $job AND batch_lines.line_no = plan_assign.line_no`,
    job,
  );
  for (const chunk of chunks) {
    await connection.run(
      `INSERT INTO batch_chunks (job_id, chunk_id, model, endpoint, lines, bytes, est_tokens, state, token)
       VALUES ($job, $chunk, $model, $endpoint, $lines, $bytes, $tokens, 'planned', $token)`,
      { ...job, chunk: chunk.chunkId, model: chunk.model, endpoint: chunk.endpoint, lines: chunk.lines, bytes: chunk.bytes + wrapperBytes, tokens: chunk.tokens, token: options.token(chunk.chunkId) },
    );
  }
  await connection.run('DROP TABLE plan_assign');
  return chunks.length;
}

export async function applyResultsSql(
  connection: DuckDBConnection,
  jobId: string,
  chunkId: number,
  outcomes: readonly LineOutcome[],
  missing: { errorType: string; errorMessage: string; maxRetries: number; timeMs: number },
): Promise<void> {
  const where = { job: jobId, chunk: chunkId };
  await connection.run(`CREATE OR REPLACE TEMP TABLE result_outcomes (
    line_no BIGINT, state VARCHAR, out_file VARCHAR, out_offset BIGINT, out_length INTEGER, status INTEGER, error_type VARCHAR,
    error_message VARCHAR, served_model VARCHAR, usage VARCHAR, stop_reason VARCHAR, cost BIGINT, baseline BIGINT, price_version VARCHAR,
    cache_write_premium BIGINT, cache_read_saving BIGINT, latency_ms DOUBLE, time_ms BIGINT)`);
  const appender = await connection.createAppender('result_outcomes', null, 'temp');
  try {
    for (const outcome of outcomes) {
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
  await connection.run(
    `UPDATE batch_lines SET state = r.state, out_file = r.out_file, out_offset = r.out_offset, out_length = r.out_length, status = r.status,
       error_type = r.error_type, error_message = r.error_message, served_model = r.served_model, usage = r.usage, stop_reason = r.stop_reason,
       cost = r.cost, baseline = r.baseline, price_version = r.price_version, cache_write_premium = r.cache_write_premium,
       cache_read_saving = r.cache_read_saving, latency_ms = r.latency_ms, time_ms = r.time_ms,
       batch_id = (SELECT batch_id FROM batch_chunks WHERE job_id = $job AND chunk_id = $chunk)
     FROM result_outcomes r
     WHERE batch_lines.job_id = $job AND batch_lines.chunk_id = $chunk AND batch_lines.state = 'queued' AND batch_lines.line_no = r.line_no`,
    where,
  );
  // Lines the provider returned nothing for (a failed or cancelled batch, records left unprocessed).
  await connection.run(
    `UPDATE batch_lines SET state = CASE WHEN attempts <= $retries THEN 'pending' ELSE 'failed' END, status = 0, out_file = NULL,
       error_type = $type, error_message = $message, time_ms = $time,
       batch_id = (SELECT batch_id FROM batch_chunks WHERE job_id = $job AND chunk_id = $chunk)
     WHERE job_id = $job AND chunk_id = $chunk AND state = 'queued'`,
    { ...where, retries: missing.maxRetries, type: missing.errorType, message: missing.errorMessage, time: missing.timeMs },
  );
  await copyToDuplicates(connection, where);
  await connection.run(`UPDATE batch_chunks SET state = 'collected' WHERE job_id = $job AND chunk_id = $chunk`, where);
  await connection.run('DROP TABLE result_outcomes');
}

/** Duplicates take their first line's final answer; they were never sent, so they cost nothing. */
async function copyToDuplicates(connection: DuckDBConnection, where: { job: string; chunk: number }): Promise<void> {
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE final_canonical AS
     SELECT line_no, state, out_file, out_offset, out_length, status, error_type, error_message, served_model, stop_reason,
       cost, baseline, price_version, batch_id, time_ms
     FROM batch_lines WHERE job_id = $job AND chunk_id = $chunk AND state IN ('succeeded', 'failed')`,
    where,
  );
  await connection.run(
    `UPDATE batch_lines SET state = c.state, out_file = c.out_file, out_offset = c.out_offset, out_length = c.out_length, status = c.status,
       error_type = c.error_type, error_message = c.error_message, served_model = c.served_model, stop_reason = c.stop_reason,
       cost = CASE WHEN c.cost IS NULL THEN NULL ELSE 0 END, baseline = c.baseline, price_version = c.price_version,
       batch_id = c.batch_id, latency_ms = 0, time_ms = c.time_ms
     FROM final_canonical c
     WHERE batch_lines.job_id = $job AND batch_lines.state = 'duplicate' AND batch_lines.canonical_line = c.line_no`,
    { job: where.job },
  );
  await connection.run('DROP TABLE final_canonical');
}
