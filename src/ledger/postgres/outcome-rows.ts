import type pg from 'pg';
import type { Outcome, OutcomeQuery } from '../../core/outcome.ts';
import type { NamedQuery } from './connection.ts';
import { microsecondsToTimestamp } from './event-rows.ts';
import { timeParameter } from './report-sql.ts';

/** The outcomes table: one row per recorded outcome, append-only; `id` keeps the recorded order. */

export async function insertOutcomes(client: pg.ClientBase, outcomes: readonly Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  await client.query(
    `INSERT INTO outcomes (request_id, time, source, model, score, feature, prompt, reference_model, detail)
     SELECT request_id, ${microsecondsToTimestamp('time_us')}, source, model, score, feature, prompt, reference_model, detail
     FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::json[])
       WITH ORDINALITY AS incoming(request_id, time_us, source, model, score, feature, prompt, reference_model, detail, position)
     ORDER BY position`,
    [
      outcomes.map((outcome) => outcome.requestId),
      outcomes.map((outcome) => String(BigInt(Math.round(outcome.time)) * 1000n)),
      outcomes.map((outcome) => outcome.source),
      outcomes.map((outcome) => outcome.model ?? null),
      outcomes.map((outcome) => outcome.score),
      outcomes.map((outcome) => outcome.feature ?? null),
      outcomes.map((outcome) => outcome.prompt ?? null),
      outcomes.map((outcome) => outcome.referenceModel ?? null),
      outcomes.map((outcome) => (outcome.detail ? JSON.stringify(outcome.detail) : null)),
    ],
  );
}

export function outcomesSql(query: OutcomeQuery): NamedQuery {
  const conditions: string[] = [];
  const values: Record<string, unknown> = {};
  if (query.from !== undefined) conditions.push(`time >= ${timeParameter('from', Math.round(query.from), values)}`);
  if (query.to !== undefined) conditions.push(`time < ${timeParameter('to', Math.round(query.to), values)}`);
  if (query.source !== undefined) {
    conditions.push('source = $source::text');
    values['source'] = query.source;
  }
  if (query.feature !== undefined) {
    conditions.push('feature = $feature::text');
    values['feature'] = query.feature;
  }
  if (query.withPrompt) conditions.push('prompt IS NOT NULL');
  const limit = query.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
  return {
    sql: `SELECT request_id, (extract(epoch FROM time) * 1000)::bigint AS time_ms, source, model, score, feature, prompt, reference_model, detail::text AS detail
          FROM outcomes${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY time, id${limit}`,
    values,
  };
}
