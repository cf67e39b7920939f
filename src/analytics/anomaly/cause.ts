/** One hour of one series, as the cause analysis reads it. */
export interface UsageSnapshot {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  costUsd: number;
  pricedRequests: number;
  model: string | null;
}

export type CauseFactor = 'requests' | 'input_per_request' | 'output_per_request' | 'cache_hit_rate' | 'cost_per_token' | 'model' | 'unknown';

export interface Cause {
  /** The usage field that moved most. */
  factor: CauseFactor;
  /** One line for people, e.g. "input tokens per request 5.1x (320 -> 1,640): prompt bloat". */
  summary: string;
  /** Each factor's observed / expected ratio (cache hit rate: the two rates), for the alert's details. */
  factors: Partial<Record<CauseFactor, { expected: number | string | null; observed: number | string | null; ratio?: number }>>;
}

function ratio(observed: number, expected: number): number {
  if (expected <= 0) return observed > 0 ? Number.POSITIVE_INFINITY : 1;
  return observed / expected;
}

function times(value: number): string {
  return Number.isFinite(value) ? `${value >= 10 ? value.toFixed(0) : value.toFixed(1)}x` : 'new';
}

function whole(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}

/**
 * Splits an hour's cost into requests x tokens per request x cost per token (plus the cache hit
 * rate and the model behind it), and names the factor that moved furthest from the typical hour.
 */
export function explainCause(observed: UsageSnapshot | undefined, typical: UsageSnapshot | undefined): Cause {
  if (!observed || !typical || typical.requests <= 0) {
    return { factor: 'unknown', summary: 'no comparable history for this hour', factors: {} };
  }
  const per = (snapshot: UsageSnapshot, field: 'inputTokens' | 'outputTokens') => (snapshot.requests > 0 ? snapshot[field] / snapshot.requests : 0);
  const tokens = (snapshot: UsageSnapshot) => snapshot.inputTokens + snapshot.outputTokens;
  const costPerToken = (snapshot: UsageSnapshot) => (tokens(snapshot) > 0 ? snapshot.costUsd / tokens(snapshot) : 0);
  const hitRate = (snapshot: UsageSnapshot) => (snapshot.inputTokens > 0 ? snapshot.cacheReadTokens / snapshot.inputTokens : 0);

  const factors: Cause['factors'] = {
    requests: { expected: typical.requests, observed: observed.requests, ratio: ratio(observed.requests, typical.requests) },
    input_per_request: { expected: per(typical, 'inputTokens'), observed: per(observed, 'inputTokens'), ratio: ratio(per(observed, 'inputTokens'), per(typical, 'inputTokens')) },
    output_per_request: { expected: per(typical, 'outputTokens'), observed: per(observed, 'outputTokens'), ratio: ratio(per(observed, 'outputTokens'), per(typical, 'outputTokens')) },
    cost_per_token: { expected: costPerToken(typical), observed: costPerToken(observed), ratio: ratio(costPerToken(observed), costPerToken(typical)) },
    cache_hit_rate: { expected: hitRate(typical), observed: hitRate(observed) },
  };
  if (observed.model !== typical.model) factors.model = { expected: typical.model, observed: observed.model };

  // The cache hit rate moves cost per token; score its drop by how much uncached input grew.
  const uncachedGrowth = ratio(1 - hitRate(observed), Math.max(1 - hitRate(typical), 0.01));
  const candidates: Array<[CauseFactor, number]> = [
    ['requests', factors.requests?.ratio ?? 1],
    ['input_per_request', factors.input_per_request?.ratio ?? 1],
    ['output_per_request', factors.output_per_request?.ratio ?? 1],
    ['cost_per_token', factors.cost_per_token?.ratio ?? 1],
    ['cache_hit_rate', hitRate(typical) - hitRate(observed) >= 0.15 ? uncachedGrowth : 1],
  ];
  const magnitude = (value: number) => (Number.isFinite(value) ? Math.abs(Math.log(Math.max(value, 1e-9))) : Number.POSITIVE_INFINITY);
  // Ties go to the earlier, more basic factor; cache collapse outranks the cost-per-token it causes.
  let [factor, moved] = candidates[0] as [CauseFactor, number];
  for (const [name, value] of candidates.slice(1)) {
    const better = magnitude(value) > magnitude(moved) * 1.05 || (name === 'cache_hit_rate' && value > 1 && magnitude(value) >= magnitude(moved) * 0.6);
    if (better) [factor, moved] = [name, value];
  }
  if (factor === 'cost_per_token' && factors.model) factor = 'model';

  const summary = (() => {
    switch (factor) {
      case 'requests':
        return `requests ${times(moved)} (${whole(typical.requests)} -> ${whole(observed.requests)} an hour): a retry or agent loop, or a traffic surge`;
      case 'input_per_request':
        return `input tokens per request ${times(moved)} (${whole(per(typical, 'inputTokens'))} -> ${whole(per(observed, 'inputTokens'))}): prompt bloat`;
      case 'output_per_request':
        return `output tokens per request ${times(moved)} (${whole(per(typical, 'outputTokens'))} -> ${whole(per(observed, 'outputTokens'))}): longer answers`;
      case 'cache_hit_rate':
        return `cache hit rate ${percent(hitRate(typical))} -> ${percent(hitRate(observed))}: prompt-cache hits collapsed`;
      case 'model':
        return `model changed ${typical.model ?? '(none)'} -> ${observed.model ?? '(none)'} (cost per token ${times(moved)})`;
      case 'cost_per_token':
        return `cost per token ${times(moved)}: a price or model-mix change`;
      default:
        return 'no single usage field explains it';
    }
  })();
  return { factor, summary, factors };
}
