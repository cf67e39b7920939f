import { formatUsd } from '../../core/money.ts';
import type { UsageEvent } from '../../core/usage-event.ts';

/**
 * Prometheus counters and histograms kept in memory. The request path only pushes the finished
 * call's event onto a bounded queue; aggregation happens at scrape time (or when the queue is
 * long), so a call pays one array push. Label sets are bounded: past `maxFeatureLabels` distinct
 * features (and `maxModelLabels` models) new values count as "other", so a feature name made per
 * request cannot blow up the scrape.
 */
export interface PrometheusMetricsOptions {
  maxFeatureLabels: number;
  maxModelLabels: number;
  /** Events queued between scrapes before they are folded in early. Default 10,000. */
  maxQueued?: number;
}

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OTHER = 'other';
const NONE = 'none';

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(',')}}`;
}

class BoundedLabels {
  private readonly seen = new Set<string>();
  constructor(private readonly limit: number) {}
  label(value: string | undefined): string {
    if (value === undefined || value === '') return NONE;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.limit) return OTHER;
    this.seen.add(value);
    return value;
  }
}

export class PrometheusMetrics {
  private readonly queue: UsageEvent[] = [];
  private readonly features: BoundedLabels;
  private readonly models: BoundedLabels;
  private readonly maxQueued: number;
  private readonly counters = new Map<string, Map<string, number>>();
  private readonly money = new Map<string, Map<string, bigint>>();
  private readonly histograms = new Map<string, Map<string, Histogram>>();

  constructor(options: PrometheusMetricsOptions) {
    this.features = new BoundedLabels(options.maxFeatureLabels);
    this.models = new BoundedLabels(options.maxModelLabels);
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  /** On the request path: O(1). */
  observe(event: UsageEvent): void {
    this.queue.push(event);
    if (this.queue.length >= this.maxQueued) setImmediate(() => this.fold());
  }

  private add(name: string, key: string, value: number): void {
    let series = this.counters.get(name);
    if (!series) this.counters.set(name, (series = new Map()));
    series.set(key, (series.get(key) ?? 0) + value);
  }

  private addMoney(name: string, key: string, value: bigint): void {
    let series = this.money.get(name);
    if (!series) this.money.set(name, (series = new Map()));
    series.set(key, (series.get(key) ?? 0n) + value);
  }

  private observeHistogram(name: string, key: string, value: number): void {
    let series = this.histograms.get(name);
    if (!series) this.histograms.set(name, (series = new Map()));
    let histogram = series.get(key);
    if (!histogram) series.set(key, (histogram = { counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (const [index, bound] of DURATION_BUCKETS.entries()) if (value <= bound) histogram.counts[index] = (histogram.counts[index] ?? 0) + 1;
    histogram.sum += value;
    histogram.count += 1;
  }

  private fold(): void {
    for (const event of this.queue.splice(0)) {
      const provider = event.provider;
      const model = this.models.label(event.servedModel ?? event.requestedModel);
      const feature = this.features.label(event.attribution.feature);
      const base = { provider, model, feature };
      const status = event.status === 0 ? 'aborted' : `${Math.floor(event.status / 100)}xx`;
      this.add('costgate_requests_total', labels({ ...base, status }), 1);
      const { input, output } = event.usage;
      for (const [type, value] of [
        ['input', input.total],
        ['output', output.total],
        ['cache_read', input.cacheRead],
        ['cache_write', (input.cacheWrite5m ?? 0) + (input.cacheWrite1h ?? 0)],
        ['reasoning', output.reasoning],
      ] as const) {
        if (value) this.add('costgate_tokens_total', labels({ ...base, type }), value);
      }
      if (event.cost === undefined) this.add('costgate_unpriced_requests_total', labels({ provider, model }), 1);
      else this.addMoney('costgate_cost_usd_total', labels(base), event.cost);
      for (const effect of event.levers ?? []) this.addMoney('costgate_savings_usd_total', labels({ ...base, lever: effect.lever, estimated: String(effect.estimated) }), effect.saving);
      if ((input.cacheRead ?? 0) > 0) this.add('costgate_cache_hits_total', labels({ ...base, cache: 'prompt' }), 1);
      if (event.cacheStatus === 'hit' || event.cacheStatus?.endsWith('-hit')) this.add('costgate_cache_hits_total', labels({ ...base, cache: 'response' }), 1);
      this.observeHistogram('costgate_request_duration_seconds', labels({ provider, model }), event.latencyMs / 1000);
      if (event.ttfbMs !== undefined) this.observeHistogram('costgate_time_to_first_byte_seconds', labels({ provider, model }), event.ttfbMs / 1000);
    }
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  render(): string {
    this.fold();
    const lines: string[] = [];
    const help: Record<string, [string, string]> = {
      costgate_requests_total: ['counter', 'Calls through the gateway, by status class.'],
      costgate_tokens_total: ['counter', 'Tokens by type (input includes cached input).'],
      costgate_cost_usd_total: ['counter', 'Cost in USD of priced calls.'],
      costgate_savings_usd_total: ['counter', 'Baseline minus cost, per lever (negative when a lever cost money).'],
      costgate_unpriced_requests_total: ['counter', 'Calls whose model has no known price (not in cost).'],
      costgate_cache_hits_total: ['counter', 'Calls that read from the provider prompt cache or were answered by the response cache.'],
      costgate_request_duration_seconds: ['histogram', 'Time from request to the end of the response.'],
      costgate_time_to_first_byte_seconds: ['histogram', 'Time from request to the first response byte.'],
    };
    for (const [name, [type, text]] of Object.entries(help)) {
      const counter = this.counters.get(name);
      const money = this.money.get(name);
      const histogram = this.histograms.get(name);
      if (!counter && !money && !histogram) continue;
      lines.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`);
      for (const [key, value] of counter ?? []) lines.push(`${name}${key} ${value}`);
      for (const [key, value] of money ?? []) lines.push(`${name}${key} ${formatUsd(value)}`);
      for (const [key, value] of histogram ?? []) {
        const inner = key.slice(1, -1);
        for (const [index, bound] of DURATION_BUCKETS.entries()) lines.push(`${name}_bucket{${inner},le="${bound}"} ${value.counts[index] ?? 0}`);
        lines.push(`${name}_bucket{${inner},le="+Inf"} ${value.count}`, `${name}_sum${key} ${value.sum}`, `${name}_count${key} ${value.count}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
