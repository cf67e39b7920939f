import type { DuckDBValue } from '@duckdb/node-api';
import { outputStatisticsSettings, type OutputStatisticsQuery } from '../output-statistics.ts';
import { filterConditions, MODEL, timeConditions, where, type SqlQuery } from './report-sql.ts';

export { readOutputStatisticsRow } from '../rows/output-statistics-row.ts';

const LENGTH_STOPS = "('length', 'max_tokens', 'max_output_tokens')";

/**
 * One pass groups the calls and takes percentiles in the database; a second joins each call to
 * its group's simulated cap to add up what that cap would have cut. The cap follows the output
 * policy's rule: the percentile times the tail room the feature's own p(1 - 10(1 - percentile)) to
 * percentile ratio gives to reach the target share (at least the headroom, at most 10x), learned
 * from answers that ended by themselves (calls a cap stopped, runaway loops among them, are left out
 * of the lengths; the cap's saving and would-be cuts still count them).
 */
export function outputStatisticsSql(query: OutputStatisticsQuery): SqlQuery {
  const settings = outputStatisticsSettings(query);
  const values: Record<string, DuckDBValue> = { ...settings, floor: BigInt(settings.floor) };
  const filter = where([
    ...timeConditions(query, values),
    ...filterConditions(query.filter, values),
    'status BETWEEN 200 AND 299',
    'output_total IS NOT NULL',
    "endpoint <> 'embeddings'",
    `coalesce(${MODEL}, '') NOT ILIKE '%embed%'`,
  ]);
  const sql = `
    WITH calls AS (
      SELECT feature, provider, ${MODEL} AS model, input_total, output_total, output_reasoning,
        coalesce(output_text, greatest(output_total - coalesce(output_reasoning, 0), 0)) AS visible,
        max_tokens_requested, stop_reason, cost_picousd, levers,
        coalesce(len(json_extract(levers::JSON, '$[*].detail.runaway')) > 0, false) AS runaway,
        -- Lengths learned from answers that ended by themselves: a cap-stopped length is only a lower
        -- bound, and the unrecognised runaways among them would drag the percentile to the cap.
        stop_reason IS NULL OR stop_reason NOT IN ${LENGTH_STOPS} AS ended
      FROM usage_events ${filter}
    ), groups AS (
      SELECT feature, provider, model,
        count(*) AS requests,
        coalesce(sum(input_total), 0) AS input_tokens,
        coalesce(sum(output_total), 0) AS output_tokens,
        coalesce(sum(output_reasoning), 0) AS reasoning_tokens,
        count(output_reasoning) AS reasoning_reported,
        quantile_disc(visible, [0.5, 0.95, 0.99]) FILTER (WHERE ended) AS visible_q,
        max(visible) FILTER (WHERE ended) AS visible_max,
        count(*) FILTER (WHERE runaway) AS runaways,
        quantile_disc(output_reasoning, [0.5, 0.95, 0.99]) AS reasoning_q,
        max(output_reasoning) AS reasoning_max,
        quantile_disc(max_tokens_requested, 0.5) AS requested_p50,
        max(max_tokens_requested) AS requested_max,
        count(*) FILTER (WHERE max_tokens_requested IS NULL) AS requested_unset,
        count(*) FILTER (WHERE stop_reason IN ${LENGTH_STOPS}) AS truncated,
        quantile_cont(visible, $percentile::DOUBLE) FILTER (WHERE ended) AS cap_upper,
        quantile_cont(visible, greatest(0.5, 1 - 10 * (1 - $percentile::DOUBLE))) FILTER (WHERE ended) AS cap_lower,
        greatest($floor::BIGINT, ceil(coalesce(cap_upper, 0) * CASE
          WHEN log10((1 - $percentile::DOUBLE) / $target::DOUBLE) <= 0 OR 1 - 10 * (1 - $percentile::DOUBLE) < 0.5 OR coalesce(cap_lower, 0) <= 0 THEN $headroom::DOUBLE
          ELSE least(10, greatest($headroom::DOUBLE, pow(cap_upper / cap_lower, log10((1 - $percentile::DOUBLE) / $target::DOUBLE))))
        END)::BIGINT) AS learned_cap,
        coalesce(sum(cost_picousd), 0)::HUGEINT AS cost
      FROM calls GROUP BY ALL
    ), effects AS (
      SELECT feature, provider, model,
        unnest(from_json(levers, '[{"lever":"VARCHAR","saving":"VARCHAR","detail":"JSON"}]')) AS effect
      FROM calls WHERE levers IS NOT NULL
    ), policy AS (
      SELECT feature, provider, model,
        count(*) AS policy_calls,
        coalesce(sum(effect.saving::HUGEINT), 0)::HUGEINT AS policy_saving,
        count(*) FILTER (WHERE json_extract(effect.detail, '$.truncationGuard') IS NOT NULL) AS guard_raises,
        count(*) FILTER (WHERE json_extract(effect.detail, '$.capLowered') IS NOT NULL) AS guard_lowered
      FROM effects WHERE effect.lever = 'output_policy' GROUP BY ALL
    ), above AS (
      SELECT g.feature, g.provider, g.model,
        coalesce(sum(greatest(c.visible - g.learned_cap, 0)), 0) AS tokens_above,
        count(*) FILTER (WHERE c.visible > g.learned_cap AND NOT c.runaway) AS calls_above
      FROM groups g JOIN calls c
        ON c.feature IS NOT DISTINCT FROM g.feature AND c.provider = g.provider AND c.model IS NOT DISTINCT FROM g.model
      GROUP BY ALL
    )
    SELECT g.*, a.tokens_above, a.calls_above,
      coalesce(p.policy_calls, 0) AS policy_calls, coalesce(p.policy_saving, 0)::HUGEINT AS policy_saving,
      coalesce(p.guard_raises, 0) AS guard_raises, coalesce(p.guard_lowered, 0) AS guard_lowered
    FROM groups g
    JOIN above a ON a.feature IS NOT DISTINCT FROM g.feature AND a.provider = g.provider AND a.model IS NOT DISTINCT FROM g.model
    LEFT JOIN policy p ON p.feature IS NOT DISTINCT FROM g.feature AND p.provider = g.provider AND p.model IS NOT DISTINCT FROM g.model
    ORDER BY g.output_tokens DESC, g.feature ASC NULLS LAST, g.provider, g.model ASC NULLS LAST`;
  return { sql, values };
}
