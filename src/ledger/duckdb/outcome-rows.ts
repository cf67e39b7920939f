import type { DuckDBConnection } from '@duckdb/node-api';
import type { Outcome, OutcomeQuery, OutcomeSource } from '../../core/outcome.ts';

/** The outcomes table (migration 7): one row per recorded outcome, append-only. */

const SOURCES: readonly OutcomeSource[] = ['feedback', 'shadow'];

export function outcomeProblem(outcome: Outcome): string | undefined {
  if (typeof outcome.requestId !== 'string' || outcome.requestId === '') return 'requestId must be a non-empty string';
  if (!SOURCES.includes(outcome.source)) return `source must be one of ${SOURCES.join(', ')}`;
  if (typeof outcome.score !== 'number' || !Number.isFinite(outcome.score) || outcome.score < 0 || outcome.score > 1) return 'score must be a number in 0..1';
  if (!Number.isFinite(outcome.time)) return 'time must be epoch milliseconds';
  return undefined;
}

export async function insertOutcomes(connection: DuckDBConnection, outcomes: readonly Outcome[]): Promise<void> {
  const statement = await connection.prepare(
    `INSERT INTO outcomes (request_id, time, source, model, score, feature, prompt, reference_model, detail)
     VALUES ($request_id, make_timestamp(CAST($time_us AS BIGINT)), $source, $model, $score, $feature, $prompt, $reference_model, $detail)`,
  );
  for (const outcome of outcomes) {
    statement.bind({
      request_id: outcome.requestId,
      time_us: BigInt(Math.round(outcome.time)) * 1000n,
      source: outcome.source,
      model: outcome.model ?? null,
      score: outcome.score,
      feature: outcome.feature ?? null,
      prompt: outcome.prompt ?? null,
      reference_model: outcome.referenceModel ?? null,
      detail: outcome.detail ? JSON.stringify(outcome.detail) : null,
    });
    await statement.run();
  }
}

export function outcomesSql(query: OutcomeQuery): { sql: string; values: Record<string, string | number | bigint> } {
  const where: string[] = [];
  const values: Record<string, string | number | bigint> = {};
  if (query.from !== undefined) {
    where.push('time >= make_timestamp(CAST($from_us AS BIGINT))');
    values.from_us = BigInt(Math.round(query.from)) * 1000n;
  }
  if (query.to !== undefined) {
    where.push('time < make_timestamp(CAST($to_us AS BIGINT))');
    values.to_us = BigInt(Math.round(query.to)) * 1000n;
  }
  if (query.source !== undefined) {
    where.push('source = $source');
    values.source = query.source;
  }
  if (query.feature !== undefined) {
    where.push('feature = $feature');
    values.feature = query.feature;
  }
  if (query.withPrompt) where.push('prompt IS NOT NULL');
  const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
  return {
    sql: `SELECT request_id, epoch_ms(time) AS time_ms, source, model, score, feature, prompt, reference_model, CAST(detail AS VARCHAR) AS detail
          FROM outcomes${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time, rowid${limit}`,
    values,
  };
}

export function readOutcome(row: Record<string, unknown>): Outcome {
  const outcome: Outcome = {
    requestId: String(row.request_id),
    time: Number(row.time_ms),
    source: String(row.source) as OutcomeSource,
    model: row.model === null ? undefined : String(row.model),
    score: Number(row.score),
    feature: row.feature === null ? undefined : String(row.feature),
    prompt: row.prompt === null ? undefined : String(row.prompt),
  };
  if (row.reference_model !== null) outcome.referenceModel = String(row.reference_model);
  if (row.detail !== null && row.detail !== undefined) outcome.detail = JSON.parse(String(row.detail)) as Record<string, unknown>;
  return outcome;
}
