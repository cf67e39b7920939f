import type { UsageEvent } from '../../core/usage-event.ts';

let sequence = 0;

/** A plain successful, priced call; override what a test is about. */
export function usageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  sequence += 1;
  return {
    requestId: `request-${process.pid}-${sequence}`,
    time: Date.UTC(2026, 11, 4, 10, 15, 0),
    provider: 'openai',
    endpoint: 'chat.completions',
    requestedModel: 'gpt-4o-mini',
    servedModel: 'gpt-4o-mini-2024-07-18',
    attribution: { feature: 'search', customer: 'acme', user: 'user-1', tags: {} },
    stream: false,
    status: 200,
    errorType: undefined,
    latencyMs: 120,
    ttfbMs: 80,
    usage: { input: { total: 100, noCache: 100, cacheRead: 0 }, output: { total: 20, text: 20 } },
    stopReason: 'stop',
    cost: 27_000_000n,
    baselineCost: 27_000_000n,
    priceVersion: 'test-prices@1:openai/gpt-4o-mini',
    ...overrides,
  };
}

/** Every field filled, including the optional lever columns and nested raw usage. */
export function fullUsageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({
    provider: 'anthropic',
    endpoint: 'messages',
    requestedModel: 'claude-sonnet-4-5',
    servedModel: 'claude-sonnet-4-5-20250929',
    attribution: { feature: 'summarize', customer: 'globex', user: 'user-7', tags: { team: 'core', 'env name': 'prod "eu"' } },
    stream: true,
    status: 200,
    latencyMs: 1234.567,
    ttfbMs: 210.25,
    usage: {
      input: { total: 5200, noCache: 200, cacheRead: 4000, cacheWrite5m: 700, cacheWrite1h: 300 },
      output: { total: 900, text: 600, reasoning: 300 },
      raw: { input_tokens: 200, cache_read_input_tokens: 4000, nested: { list: [1, 'two', null, true] } },
    },
    stopReason: 'end_turn',
    cost: 123_456_789_012n,
    baselineCost: 987_654_321_098n,
    priceVersion: 'genai-prices@0.1.8:anthropic/claude-sonnet-4-5',
    cacheStatus: 'miss',
    route: 'primary',
    batchId: 'batch-42',
    cacheWritePremium: 4_500_000_000n,
    cacheReadSaving: 10_800_000_000n,
    maxTokensRequested: 4096,
    maxTokensSent: 1200,
    levers: [
      { lever: 'prompt_cache', saving: 864_197_532_087n, estimated: false, detail: { ttl: '1h', breakpoints: 2 } },
      { lever: 'output_policy', saving: -1n, estimated: true },
    ],
    ...overrides,
  });
}

/** Nothing reported: every optional value undefined, the call unpriced. */
export function bareUsageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return usageEvent({
    provider: 'bedrock',
    endpoint: 'converse',
    requestedModel: undefined,
    servedModel: undefined,
    attribution: { tags: {} },
    status: 0,
    errorType: 'client_aborted',
    latencyMs: 0,
    ttfbMs: undefined,
    usage: { input: {}, output: {} },
    stopReason: undefined,
    cost: undefined,
    baselineCost: undefined,
    priceVersion: undefined,
    ...overrides,
  });
}
