import type { EmulatorClock } from './clock.ts';
import { EmulatorError, type ErrorKind } from './context.ts';

/**
 * Fault injection switched on at run time through `POST /emulator/faults`, so a load benchmark can
 * start a 429 or 529 storm for N seconds (or for the next N requests) across all requests, of one
 * provider or model or all of them, without changing what its clients send.
 */
export type FaultProvider = 'openai' | 'anthropic' | 'bedrock';

const KIND_BY_STATUS = { 429: 'rate_limited', 500: 'server', 503: 'overloaded', 529: 'overloaded' } as const satisfies Record<number, ErrorKind>;
export type FaultStatus = keyof typeof KIND_BY_STATUS;

export interface FaultRule {
  id: number;
  provider: FaultProvider | undefined;
  /** Substring of the model id (from the body or the Bedrock path). */
  model: string | undefined;
  status: FaultStatus;
  /** Emulator-clock ms after which the rule stops; undefined = until removed or spent. */
  until: number | undefined;
  /** Requests it may still fail; undefined = no count limit. */
  remaining: number | undefined;
  /** Sent as retry-after-ms, and as retry-after rounded up to whole seconds. */
  retryAfterMs: number | undefined;
  /** Share of matching requests that fail, 0..1. */
  rate: number;
}

/** What a control request may say: `{provider?, model?, status, durationMs?, count?, retryAfterMs?, rate?}`. */
export function parseFaultRule(body: unknown, id: number, now: number): FaultRule | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const fields = body as Record<string, unknown>;
  const status = fields['status'];
  if (typeof status !== 'number' || !(status in KIND_BY_STATUS)) return `status must be one of ${Object.keys(KIND_BY_STATUS).join(', ')}`;
  const provider = fields['provider'];
  if (provider !== undefined && provider !== 'openai' && provider !== 'anthropic' && provider !== 'bedrock') return 'provider must be openai, anthropic or bedrock';
  const model = fields['model'];
  if (model !== undefined && (typeof model !== 'string' || model === '')) return 'model must be a non-empty string';
  const numbers: Record<string, number | undefined> = {};
  for (const name of ['durationMs', 'count', 'retryAfterMs', 'rate']) {
    const value = fields[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `${name} must be a non-negative number`;
    numbers[name] = value;
  }
  if (numbers['rate'] !== undefined && numbers['rate'] > 1) return 'rate must be between 0 and 1';
  if (numbers['count'] !== undefined && !Number.isInteger(numbers['count'])) return 'count must be an integer';
  return {
    id,
    provider,
    model,
    status: status as FaultStatus,
    until: numbers['durationMs'] === undefined ? undefined : now + numbers['durationMs'],
    remaining: numbers['count'],
    retryAfterMs: numbers['retryAfterMs'],
    rate: numbers['rate'] ?? 1,
  };
}

export class FaultInjector {
  #rules: FaultRule[] = [];
  #nextId = 1;
  /** Requests failed by a rule, for benchmarks to report. */
  injected = 0;

  constructor(
    private readonly clock: EmulatorClock,
    private readonly random: () => number = Math.random,
  ) {}

  add(body: unknown): FaultRule | string {
    const rule = parseFaultRule(body, this.#nextId, this.clock.now());
    if (typeof rule === 'string') return rule;
    this.#nextId += 1;
    this.#rules.push(rule);
    return rule;
  }

  clear(): void {
    this.#rules = [];
  }

  active(): FaultRule[] {
    this.#prune();
    return [...this.#rules];
  }

  /** The failure for this request, if a rule picks it; the first matching rule decides. */
  pick(provider: FaultProvider, model: string | undefined): EmulatorError | undefined {
    this.#prune();
    for (const rule of this.#rules) {
      if (rule.provider !== undefined && rule.provider !== provider) continue;
      if (rule.model !== undefined && !(model ?? '').includes(rule.model)) continue;
      if (rule.rate < 1 && this.random() >= rule.rate) return undefined;
      if (rule.remaining !== undefined) rule.remaining -= 1;
      this.injected += 1;
      const error = new EmulatorError(KIND_BY_STATUS[rule.status], `Injected fault ${rule.id} (emulator): ${rule.status}.`);
      if (rule.retryAfterMs !== undefined) error.retryAfterMs = rule.retryAfterMs;
      return error;
    }
    return undefined;
  }

  #prune(): void {
    const now = this.clock.now();
    this.#rules = this.#rules.filter((rule) => (rule.until === undefined || now < rule.until) && (rule.remaining === undefined || rule.remaining > 0));
  }
}
