import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { ChunkLine, JobSummary, LineState, MergeLine, UnrecordedLine } from './batch-store.ts';
import { rows } from './duckdb-batch-store.ts';

/**
 * The reads that derive a line's state from the append-only tables (see batch-migrations.ts v2):
 * the strongest mark (invalid > cancelled > failed > duplicate), else the result of the line's
 * latest chunk, a duplicate taking its first line's final result. Whole-job reads go through the
 * lines in windows of line numbers, so no statement joins a million rows at once.
 */

const WINDOW = 20_000;

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
const text = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));
const money = (value: unknown): bigint | undefined => (value === null || value === undefined ? undefined : BigInt(value as bigint));
const optionalNumber = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));

const MARK_STRENGTH = `CASE state WHEN 'invalid' THEN 4 WHEN 'cancelled' THEN 3 WHEN 'failed' THEN 2 ELSE 1 END`;

/** One row per marked line: its strongest mark. */
const EFFECTIVE_MARKS = (range: string) => `SELECT line_no, arg_max(state, ${MARK_STRENGTH}) AS state, max(canonical_line) AS canonical_line,
    arg_max(error_type, ${MARK_STRENGTH}) AS error_type, arg_max(error_message, ${MARK_STRENGTH}) AS error_message
  FROM batch_marks WHERE job_id = $job ${range} GROUP BY line_no`;

export async function chunkLinesSql(connection: DuckDBConnection, jobId: string, chunkId: number): Promise<ChunkLine[]> {
  return (
    await rows(
      connection,
      `SELECT a.line_no, l.custom_id, a.attempt, l.request_offset, l.request_length
       FROM batch_assignments a JOIN batch_lines l ON l.job_id = a.job_id AND l.line_no = a.line_no
       WHERE a.job_id = $job AND l.job_id = $job AND a.chunk_id = $chunk ORDER BY a.line_no`,
      { job: jobId, chunk: chunkId },
    )
  ).map((row) => ({
    lineNo: num(row['line_no']),
    customId: String(row['custom_id']),
    attempts: num(row['attempt']),
    requestOffset: num(row['request_offset']),
    requestLength: num(row['request_length']),
  }));
}

export async function summarySql(connection: DuckDBConnection, jobId: string): Promise<JobSummary> {
  const job = { job: jobId };
  const [counts] = await rows(
    connection,
    `SELECT (SELECT count(*) FROM batch_lines WHERE job_id = $job) AS total,
       (SELECT count(*) FROM batch_lines WHERE job_id = $job AND state = 'invalid') AS ingest_invalid,
       (SELECT count(*) FROM batch_assignments WHERE job_id = $job) AS assigned,
       (SELECT count(*) FROM batch_results WHERE job_id = $job) AS results`,
    job,
  );
  const own = await rows(
    connection,
    `SELECT state, count(*) AS lines, coalesce(sum(cost), 0) AS cost, coalesce(sum(CASE WHEN cost IS NOT NULL THEN baseline END), 0) AS baseline,
       count(*) FILTER (WHERE state = 'succeeded' AND cost IS NULL) AS unpriced
     FROM batch_results WHERE job_id = $job AND state <> 'pending' GROUP BY state`,
    job,
  );
  const marks = await rows(connection, `SELECT state, count(*) AS lines FROM (${EFFECTIVE_MARKS('')}) GROUP BY state`, job);
  // Duplicates cost nothing and save their first line's whole on-demand price.
  const duplicates = await rows(
    connection,
    `SELECT r.state, count(*) AS lines, coalesce(sum(CASE WHEN r.cost IS NOT NULL THEN r.baseline END), 0) AS baseline,
       count(*) FILTER (WHERE r.state = 'succeeded' AND r.cost IS NULL) AS unpriced
     FROM (${EFFECTIVE_MARKS('')}) m JOIN batch_results r ON r.line_no = m.canonical_line
     WHERE m.state = 'duplicate' AND r.job_id = $job AND r.state <> 'pending' GROUP BY r.state`,
    job,
  );
  const chunkRows = await rows(connection, `SELECT count(*) AS chunks, count(*) FILTER (WHERE state IN ('creating', 'submitted')) AS active FROM batch_chunks WHERE job_id = $job`, job);
  const lines = { pending: 0, queued: 0, succeeded: 0, failed: 0, invalid: num(counts?.['ingest_invalid']), duplicate: 0, cancelled: 0 } as Record<LineState, number>;
  let cost = 0n;
  let baseline = 0n;
  let unpriced = 0;
  for (const row of own) {
    lines[String(row['state']) as LineState] += num(row['lines']);
    cost += BigInt(row['cost'] as bigint);
    baseline += BigInt(row['baseline'] as bigint);
    unpriced += num(row['unpriced']);
  }
  for (const row of marks) lines[String(row['state']) as LineState] += num(row['lines']);
  for (const row of duplicates) {
    lines[String(row['state']) as LineState] += num(row['lines']);
    lines.duplicate -= num(row['lines']);
    baseline += BigInt(row['baseline'] as bigint);
    unpriced += num(row['unpriced']);
  }
  lines.queued = num(counts?.['assigned']) - num(counts?.['results']);
  const settled = lines.queued + lines.succeeded + lines.failed + lines.invalid + lines.duplicate + lines.cancelled;
  lines.pending = Math.max(0, num(counts?.['total']) - settled);
  return { lines, cost, baseline, unpriced, chunks: num(chunkRows[0]?.['chunks']), chunksActive: num(chunkRows[0]?.['active']) };
}

const MERGE_WINDOW_SQL = `
  WITH marks AS (${EFFECTIVE_MARKS('AND line_no >= $low AND line_no < $high')}),
  own AS (
    SELECT line_no, state, out_file, out_offset, out_length, error_type, error_message FROM batch_results
    WHERE job_id = $job AND line_no >= $low AND line_no < $high
    QUALIFY row_number() OVER (PARTITION BY line_no ORDER BY chunk_id DESC) = 1
  ),
  canonical AS (
    SELECT line_no, state, out_file, out_offset, out_length, error_type, error_message FROM batch_results
    WHERE job_id = $job AND state <> 'pending' AND line_no IN (SELECT canonical_line FROM marks WHERE state = 'duplicate')
  )
  SELECT l.line_no, l.custom_id, l.state, l.error_type, l.error_message,
    m.state, m.canonical_line, m.error_type, m.error_message,
    o.state, o.out_file, o.out_offset, o.out_length, o.error_type, o.error_message,
    c.state, c.out_file, c.out_offset, c.out_length, c.error_type, c.error_message
  FROM batch_lines l
  LEFT JOIN marks m ON m.line_no = l.line_no
  LEFT JOIN own o ON o.line_no = l.line_no
  LEFT JOIN canonical c ON c.line_no = m.canonical_line
  WHERE l.job_id = $job AND l.line_no >= $low AND l.line_no < $high
  ORDER BY l.line_no`;

function mergeLine(row: readonly DuckDBValue[]): MergeLine {
  const [lineNo, customId, ingestState, ingestType, ingestMessage, markState, canonical, markType, markMessage, ...results] = row;
  const base = { lineNo: num(lineNo), customId: String(customId), duplicateOf: undefined, outFile: undefined, outOffset: 0, outLength: 0 };
  if (ingestState === 'invalid') return { ...base, state: 'invalid', errorType: text(ingestType), errorMessage: text(ingestMessage) };
  if (markState === 'invalid' || markState === 'cancelled' || markState === 'failed') {
    return { ...base, state: markState, errorType: text(markType), errorMessage: text(markMessage) };
  }
  const duplicate = markState === 'duplicate';
  const [state, outFile, outOffset, outLength, errorType, errorMessage] = duplicate ? results.slice(6) : results.slice(0, 6);
  return {
    ...base,
    state: state === null || state === undefined ? (duplicate ? 'duplicate' : 'pending') : (String(state) as LineState),
    duplicateOf: duplicate ? optionalNumber(canonical) : undefined,
    outFile: text(outFile),
    outOffset: num(outOffset),
    outLength: num(outLength),
    errorType: text(errorType),
    errorMessage: text(errorMessage),
  };
}

/** Every line in input order, a window of line numbers at a time; stops when `onPage` returns false. */
export async function mergeLinesSql(connection: DuckDBConnection, jobId: string, onPage: (lines: MergeLine[]) => Promise<boolean | void>): Promise<void> {
  const [last] = await rows(connection, 'SELECT coalesce(max(line_no), 0) AS last FROM batch_lines WHERE job_id = $job', { job: jobId });
  const lastLine = num(last?.['last']);
  for (let low = 1; low <= lastLine; low += WINDOW) {
    // Streamed in DuckDB's vectors of ~2,000 rows: `onPage` must not use this connection.
    const result = await connection.stream(MERGE_WINDOW_SQL, { job: jobId, low, high: low + WINDOW });
    for (;;) {
      const page = await result.fetchChunk();
      if (!page || page.rowCount === 0) break;
      if ((await onPage(page.getRows().map(mergeLine))) === false) return;
    }
  }
}

/** A collected chunk's final lines and the duplicates answered by them, after `afterLine`, with what a ledger row needs. */
export async function unrecordedSql(connection: DuckDBConnection, jobId: string, chunkId: number, afterLine: number, limit: number): Promise<UnrecordedLine[]> {
  const values = { job: jobId, chunk: chunkId, after: afterLine, limit };
  const RESULT_COLUMNS = `r.state, r.status, r.error_type, r.served_model, r.usage, r.stop_reason, r.cost, r.baseline, r.price_version,
    r.cache_write_premium, r.cache_read_saving, r.latency_ms, r.time_ms`;
  const picked = await rows(
    connection,
    `SELECT * FROM (
       SELECT r.line_no, NULL::BIGINT AS canonical_line, ${RESULT_COLUMNS} FROM batch_results r
       WHERE r.job_id = $job AND r.chunk_id = $chunk AND r.state <> 'pending' AND r.line_no > $after
       UNION ALL
       SELECT m.line_no, m.canonical_line, ${RESULT_COLUMNS} FROM batch_marks m JOIN batch_results r ON r.line_no = m.canonical_line
       WHERE m.job_id = $job AND r.job_id = $job AND r.chunk_id = $chunk AND m.state = 'duplicate' AND r.state <> 'pending' AND m.line_no > $after
         AND m.line_no NOT IN (SELECT line_no FROM batch_marks WHERE job_id = $job AND state <> 'duplicate')
     ) ORDER BY line_no LIMIT $limit`,
    values,
  );
  if (picked.length === 0) return [];
  const lineNos = picked.map((row) => num(row['line_no']));
  const attribution = await rows(
    connection,
    `SELECT line_no, custom_id, model, endpoint, feature, customer, user_id, tags FROM batch_lines
     WHERE job_id = $job AND line_no BETWEEN $first AND $last AND line_no IN (SELECT unnest($lines::BIGINT[]))`,
    { job: jobId, first: Math.min(...lineNos), last: Math.max(...lineNos), lines: `[${lineNos.join(',')}]` },
  );
  const byLine = new Map(attribution.map((row) => [num(row['line_no']), row]));
  const [chunk] = await rows(connection, 'SELECT batch_id FROM batch_chunks WHERE job_id = $job AND chunk_id = $chunk', { job: jobId, chunk: chunkId });
  const batchId = text(chunk?.['batch_id']);
  return picked.map((row): UnrecordedLine => {
    const line = byLine.get(num(row['line_no'])) ?? {};
    const duplicateOf = optionalNumber(row['canonical_line']);
    const cost = money(row['cost']);
    return {
      lineNo: num(row['line_no']),
      customId: String(line['custom_id'] ?? ''),
      model: String(line['model'] ?? ''),
      endpoint: String(line['endpoint'] ?? ''),
      state: String(row['state']) as UnrecordedLine['state'],
      duplicateOf,
      feature: text(line['feature']),
      customer: text(line['customer']),
      user: text(line['user_id']),
      tagsJson: String(line['tags'] ?? '{}'),
      status: num(row['status']),
      errorType: text(row['error_type']),
      servedModel: text(row['served_model']),
      usageJson: duplicateOf === undefined ? text(row['usage']) : undefined,
      stopReason: text(row['stop_reason']),
      // A duplicate was never sent: no cost of its own, the first line's on-demand price saved whole.
      cost: duplicateOf === undefined || cost === undefined ? cost : 0n,
      baseline: money(row['baseline']),
      priceVersion: text(row['price_version']),
      cacheWritePremium: duplicateOf === undefined ? money(row['cache_write_premium']) : undefined,
      cacheReadSaving: duplicateOf === undefined ? money(row['cache_read_saving']) : undefined,
      batchId,
      latencyMs: duplicateOf === undefined ? num(row['latency_ms']) : 0,
      timeMs: num(row['time_ms']),
    };
  });
}
