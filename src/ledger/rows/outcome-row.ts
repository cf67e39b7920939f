import type { Outcome, OutcomeSource } from '../../core/outcome.ts';

/** Checks and row reading for the outcomes table, shared by the SQL backends. */

const SOURCES: readonly OutcomeSource[] = ['feedback', 'shadow'];

export function outcomeProblem(outcome: Outcome): string | undefined {
  if (typeof outcome.requestId !== 'string' || outcome.requestId === '') return 'requestId must be a non-empty string';
  if (!SOURCES.includes(outcome.source)) return `source must be one of ${SOURCES.join(', ')}`;
  if (typeof outcome.score !== 'number' || !Number.isFinite(outcome.score) || outcome.score < 0 || outcome.score > 1) return 'score must be a number in 0..1';
  if (!Number.isFinite(outcome.time)) return 'time must be epoch milliseconds';
  return undefined;
}

/** A row with request_id, time_ms (epoch ms), source, model, score, feature, prompt, reference_model and detail (JSON text). */
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
