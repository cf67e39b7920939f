import type { Migration } from '../../ledger/duckdb/migrations.ts';

/**
 * Schema of the batch job store (its own file, batch.duckdb, beside the ledger; see
 * duckdb-batch-store.ts for why). Same rules as the ledger's: append steps, never edit shipped ones.
 * Times are epoch milliseconds; money is integer picodollars. No table has an index: every
 * statement reaches lines through a join or a scan, which keeps a million-line job's memory flat.
 */
/** Jobs whose lines carry state only the first schema wrote (chunk, or a state past ingest). */
const EARLIER_JOBS = `SELECT job_id FROM batch_lines WHERE chunk_id IS NOT NULL OR state NOT IN ('pending', 'invalid')`;

export const BATCH_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create batch jobs, lines and chunks',
    statements: [
      `CREATE TABLE batch_jobs (
        job_id VARCHAR PRIMARY KEY,
        created_at BIGINT NOT NULL,
        provider VARCHAR NOT NULL,
        model VARCHAR,
        input_path VARCHAR NOT NULL,
        output_path VARCHAR,
        work_dir VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        options JSON NOT NULL,
        defaults JSON NOT NULL,
        cancel_requested BOOLEAN NOT NULL DEFAULT false,
        runner_pid INTEGER,
        error VARCHAR,
        total_lines BIGINT NOT NULL DEFAULT 0,
        invalid_lines BIGINT NOT NULL DEFAULT 0,
        duplicate_lines BIGINT NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE batch_lines (
        job_id VARCHAR NOT NULL,
        line_no BIGINT NOT NULL,
        custom_id VARCHAR NOT NULL,
        model VARCHAR,
        endpoint VARCHAR,
        request_hash VARCHAR,
        request_offset BIGINT,
        request_length INTEGER,
        est_tokens BIGINT,
        feature VARCHAR,
        customer VARCHAR,
        user_id VARCHAR,
        tags JSON,
        canonical_line BIGINT,
        state VARCHAR NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        chunk_id INTEGER,
        out_file VARCHAR,
        out_offset BIGINT,
        out_length INTEGER,
        status INTEGER,
        error_type VARCHAR,
        error_message VARCHAR,
        served_model VARCHAR,
        usage JSON,
        stop_reason VARCHAR,
        cost BIGINT,
        baseline BIGINT,
        price_version VARCHAR,
        cache_write_premium BIGINT,
        cache_read_saving BIGINT,
        batch_id VARCHAR,
        latency_ms DOUBLE,
        time_ms BIGINT,
        recorded BOOLEAN NOT NULL DEFAULT false
      )`,
      `CREATE TABLE batch_chunks (
        job_id VARCHAR NOT NULL,
        chunk_id INTEGER NOT NULL,
        model VARCHAR NOT NULL,
        endpoint VARCHAR NOT NULL,
        lines INTEGER NOT NULL,
        bytes BIGINT NOT NULL,
        est_tokens BIGINT NOT NULL,
        state VARCHAR NOT NULL,
        token VARCHAR NOT NULL,
        file_ref VARCHAR,
        batch_id VARCHAR,
        intent_at BIGINT,
        submitted_at BIGINT,
        ended_at BIGINT,
        outcome VARCHAR,
        message VARCHAR,
        provider_status VARCHAR,
        next_attempt_at BIGINT NOT NULL DEFAULT 0,
        poll_interval_ms BIGINT NOT NULL DEFAULT 0,
        succeeded INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (job_id, chunk_id)
      )`,
    ],
  },
  {
    // Line state is no longer rewritten in place: a million-line UPDATE holds every changed row's old
    // and new version in memory until commit. From here on a line's state is derived from rows that
    // are only ever appended, in committed slices of bounded size (see duckdb-batch-writes.ts).
    // batch_lines keeps what ingest wrote; its later columns stay unused.
    version: 2,
    name: 'append-only line state: marks, assignments, results',
    statements: [
      // What ingest and planning decided about a line without sending it: invalid, duplicate (of canonical_line),
      // failed (a group under the provider's minimum), cancelled. A line may have several; merge takes the strongest.
      `CREATE TABLE batch_marks (
        job_id VARCHAR NOT NULL,
        line_no BIGINT NOT NULL,
        state VARCHAR NOT NULL,
        canonical_line BIGINT,
        error_type VARCHAR,
        error_message VARCHAR
      )`,
      // One row each time a line is put in a chunk; attempt counts from 1.
      `CREATE TABLE batch_assignments (
        job_id VARCHAR NOT NULL,
        chunk_id INTEGER NOT NULL,
        line_no BIGINT NOT NULL,
        attempt INTEGER NOT NULL
      )`,
      // One row per assigned line once its chunk is collected: final (succeeded, failed) or pending (to retry).
      `CREATE TABLE batch_results (
        job_id VARCHAR NOT NULL,
        chunk_id INTEGER NOT NULL,
        line_no BIGINT NOT NULL,
        state VARCHAR NOT NULL,
        out_file VARCHAR,
        out_offset BIGINT,
        out_length INTEGER,
        status INTEGER,
        error_type VARCHAR,
        error_message VARCHAR,
        served_model VARCHAR,
        usage VARCHAR,
        stop_reason VARCHAR,
        cost BIGINT,
        baseline BIGINT,
        price_version VARCHAR,
        cache_write_premium BIGINT,
        cache_read_saving BIGINT,
        latency_ms DOUBLE,
        time_ms BIGINT
      )`,
      // planned: the first planning pass committed its last chunk. replanned: a collected chunk's retries
      // were put in new chunks.
      'ALTER TABLE batch_jobs ADD COLUMN planned BOOLEAN DEFAULT false',
      'ALTER TABLE batch_chunks ADD COLUMN replanned BOOLEAN DEFAULT false',
    ],
  },
  {
    // DuckDB cannot commit two changes to one table's columns in a transaction once the table holds rows.
    version: 3,
    name: 'ledger watermark per chunk',
    // The last line of the chunk in the ledger (-1 once all are).
    statements: ['ALTER TABLE batch_chunks ADD COLUMN IF NOT EXISTS recorded_through BIGINT DEFAULT 0'],
  },
  {
    // Jobs started before step 2 kept their line state in batch_lines; carry it over so they resume.
    // Ingest-invalid and repeated-custom-id lines need nothing: batch_lines.state is still 'invalid'.
    version: 4,
    name: 'carry line state of earlier jobs into marks, assignments and results',
    statements: [
      `INSERT INTO batch_marks (job_id, line_no, state, canonical_line, error_type, error_message)
       SELECT job_id, line_no, 'duplicate', canonical_line, NULL, NULL FROM batch_lines WHERE canonical_line IS NOT NULL
       UNION ALL
       SELECT job_id, line_no, 'cancelled', canonical_line, error_type, error_message FROM batch_lines WHERE state = 'cancelled'
       UNION ALL
       SELECT job_id, line_no, 'failed', NULL, error_type, error_message FROM batch_lines WHERE state = 'failed' AND attempts = 0 AND canonical_line IS NULL`,
      `INSERT INTO batch_assignments (job_id, chunk_id, line_no, attempt)
       SELECT job_id, chunk_id, line_no, attempts FROM batch_lines WHERE chunk_id IS NOT NULL AND canonical_line IS NULL`,
      // A line back to pending after its chunk was collected waits for a retry: a pending result.
      `INSERT INTO batch_results (job_id, chunk_id, line_no, state, out_file, out_offset, out_length, status, error_type, error_message,
         served_model, usage, stop_reason, cost, baseline, price_version, cache_write_premium, cache_read_saving, latency_ms, time_ms)
       SELECT job_id, chunk_id, line_no, state, out_file, out_offset, out_length, status, error_type, error_message,
         served_model, usage, stop_reason, cost, baseline, price_version, cache_write_premium, cache_read_saving, latency_ms, time_ms
       FROM batch_lines WHERE chunk_id IS NOT NULL AND canonical_line IS NULL AND state IN ('succeeded', 'failed', 'pending')`,
      `UPDATE batch_chunks SET replanned = NOT EXISTS (
         SELECT 1 FROM batch_lines l WHERE l.job_id = batch_chunks.job_id AND l.chunk_id = batch_chunks.chunk_id AND l.state = 'pending')
       WHERE job_id IN (${EARLIER_JOBS})`,
      // Rows already in the ledger are written again at most once more: the ledger ignores ids it has.
      `UPDATE batch_chunks SET recorded_through = CASE WHEN EXISTS (
           SELECT 1 FROM batch_lines l WHERE l.job_id = batch_chunks.job_id AND NOT l.recorded AND l.state IN ('succeeded', 'failed')
             AND (l.chunk_id = batch_chunks.chunk_id
               OR l.canonical_line IN (SELECT c.line_no FROM batch_lines c WHERE c.job_id = l.job_id AND c.chunk_id = batch_chunks.chunk_id)))
         THEN 0 ELSE -1 END
       WHERE job_id IN (${EARLIER_JOBS})`,
      `UPDATE batch_jobs SET planned = EXISTS (SELECT 1 FROM batch_chunks c WHERE c.job_id = batch_jobs.job_id) WHERE job_id IN (${EARLIER_JOBS})`,
    ],
  },
  {
    version: 5,
    name: 'on-demand chunks',
    // A group below the provider's batch minimum, sent one request at a time.
    statements: ['ALTER TABLE batch_chunks ADD COLUMN IF NOT EXISTS on_demand BOOLEAN DEFAULT false'],
  },
  {
    version: 6,
    name: 'on-demand send marks',
    // One row per line of an on-demand chunk, committed before its request is sent: a line marked
    // here without a result was perhaps answered and billed, so it is never sent again.
    statements: [
      `CREATE TABLE IF NOT EXISTS batch_sending (
        job_id VARCHAR NOT NULL,
        chunk_id INTEGER NOT NULL,
        line_no BIGINT NOT NULL,
        sent_at BIGINT NOT NULL
      )`,
    ],
  },
];
