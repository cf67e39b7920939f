import type { DuckDBConnection } from '@duckdb/node-api';
import type { Outcome, OutcomeQuery } from '../../core/outcome.ts';

export { outcomeProblem, readOutcome } from '../rows/outcome-row.ts';

/** The outcomes table (migration 7): one row per recorded outcome, append-only. */

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
