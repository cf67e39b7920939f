import { outputStatisticsSettings, type OutputStatisticsQuery } from '../output-statistics.ts';
import type { NamedQuery } from './connection.ts';
import { byteOrdered, filterConditions, MODEL, timeConditions, where } from './report-sql.ts';

const LENGTH_STOPS = "('length', 'max_tokens', 'max_output_tokens')";
const SAME_GROUP = (left: string, right: string): string =>
  `${left}.feature IS NOT DISTINCT FROM ${right}.feature AND ${left}.provider = ${right}.provider AND ${left}.model IS NOT DISTINCT FROM ${right}.model`;

/**
 * The DuckDB backend's output-statistics query (see duckdb/output-statistics-sql.ts for the rule
 * the simulated cap follows) in Postgres SQL: percentiles are ordered-set aggregates, the learned
 * cap is computed in a step of its own (Postgres cannot refer to a column alias in the same select
 * list) and each row's levers are expanded with json_array_elements.
 */
export function outputStatisticsSql(query: OutputStatisticsQuery): NamedQuery {
  const settings = outputStatisticsSettings(query);
  const values: Record<string, unknown> = { ...settings };
  const filter = where([
    ...timeConditions(query, values),
    ...filterConditions(query.filter, values),
    'status BETWEEN 200 AND 299',
    'output_total IS NOT NULL',
    "endpoint <> 'embeddings'",
    `coalesce(${MODEL}, '') NOT ILIKE '%embed%'`,
  ]);
  const percentile = '$percentile::float8';
  const target = '$target::float8';
  const headroom = '$headroom::float8';
  const sql = `
    WITH calls AS (
      SELECT ${byteOrdered('feature')} AS feature, ${byteOrdered('provider')} AS provider, ${byteOrdered(MODEL)} AS model,
        input_total, output_total, output_reasoning,
        coalesce(output_text, greatest(output_total - coalesce(output_reasoning, 0), 0)) AS visible,
        max_tokens_requested, stop_reason, cost_picousd, levers,
        EXISTS (SELECT 1 FROM json_array_elements(levers) AS effect WHERE effect->'detail'->'runaway' IS NOT NULL) AS runaway,
        -- Lengths learned from answers that ended by themselves: a cap-stopped length is only a lower
        -- bound, and the unrecognised runaways among them would drag the percentile to the cap.
        stop_reason IS NULL OR stop_reason NOT IN ${LENGTH_STOPS} AS ended
      FROM usage_events ${filter}
    ), grouped AS (
      SELECT feature, provider, model,
        count(*) AS requests,
        coalesce(sum(input_total), 0) AS input_tokens,
        coalesce(sum(output_total), 0) AS output_tokens,
        coalesce(sum(output_reasoning), 0) AS reasoning_tokens,
        count(output_reasoning) AS reasoning_reported,
        percentile_disc(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY visible) FILTER (WHERE ended) AS visible_q,
        max(visible) FILTER (WHERE ended) AS visible_max,
        count(*) FILTER (WHERE runaway) AS runaways,
        percentile_disc(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY output_reasoning) AS reasoning_q,
        max(output_reasoning) AS reasoning_max,
        percentile_disc(0.5) WITHIN GROUP (ORDER BY max_tokens_requested) AS requested_p50,
        max(max_tokens_requested) AS requested_max,
        count(*) FILTER (WHERE max_tokens_requested IS NULL) AS requested_unset,
        count(*) FILTER (WHERE stop_reason IN ${LENGTH_STOPS}) AS truncated,
        percentile_cont(${percentile}) WITHIN GROUP (ORDER BY visible) FILTER (WHERE ended) AS cap_upper,
        percentile_cont(greatest(0.5, 1 - 10 * (1 - ${percentile}))) WITHIN GROUP (ORDER BY visible) FILTER (WHERE ended) AS cap_lower,
        coalesce(sum(cost_picousd), 0) AS cost
      FROM calls GROUP BY 1, 2, 3
    ), groups AS (
      SELECT grouped.*,
        greatest($floor::bigint, ceil(coalesce(cap_upper, 0) * CASE
          WHEN log((1 - ${percentile}) / ${target}) <= 0 OR 1 - 10 * (1 - ${percentile}) < 0.5 OR coalesce(cap_lower, 0) <= 0 THEN ${headroom}
          ELSE least(10, greatest(${headroom}, power(cap_upper / cap_lower, log((1 - ${percentile}) / ${target}))))
        END)::bigint) AS learned_cap
      FROM grouped
    ), effects AS (
      SELECT feature, provider, model, effect
      FROM calls CROSS JOIN LATERAL json_array_elements(levers) AS effect
      WHERE levers IS NOT NULL
    ), policy AS (
      SELECT feature, provider, model,
        count(*) AS policy_calls,
        coalesce(sum((effect->>'saving')::numeric), 0) AS policy_saving,
        count(*) FILTER (WHERE effect->'detail'->'truncationGuard' IS NOT NULL) AS guard_raises,
        count(*) FILTER (WHERE effect->'detail'->'capLowered' IS NOT NULL) AS guard_lowered
      FROM effects WHERE effect->>'lever' = 'output_policy' GROUP BY 1, 2, 3
    ), above AS (
      SELECT g.feature, g.provider, g.model,
        coalesce(sum(greatest(c.visible - g.learned_cap, 0)), 0) AS tokens_above,
        count(*) FILTER (WHERE c.visible > g.learned_cap AND NOT c.runaway) AS calls_above
      FROM groups g JOIN calls c ON ${SAME_GROUP('c', 'g')}
      GROUP BY 1, 2, 3
    )
    SELECT g.*, a.tokens_above, a.calls_above,
      coalesce(p.policy_calls, 0) AS policy_calls, coalesce(p.policy_saving, 0) AS policy_saving,
      coalesce(p.guard_raises, 0) AS guard_raises, coalesce(p.guard_lowered, 0) AS guard_lowered
    FROM groups g
    JOIN above a ON ${SAME_GROUP('a', 'g')}
    LEFT JOIN policy p ON ${SAME_GROUP('p', 'g')}
    ORDER BY g.output_tokens DESC, g.feature ASC NULLS LAST, g.provider, g.model ASC NULLS LAST`;
  return { sql, values };
}
