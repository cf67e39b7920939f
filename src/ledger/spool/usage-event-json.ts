import type { LeverEffect } from '../../core/lever.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { InputUsage, OutputUsage, Usage } from '../../core/usage.ts';
import type { UsageEvent } from '../../core/usage-event.ts';

/**
 * One spool line per event. JSON has no bigint, so costs are written as decimal strings and
 * read back exactly; JSON also drops undefined, so the reader rebuilds every UsageEvent key.
 */
export function usageEventToJson(event: UsageEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Like usageEventToJson but never throws (a circular raw usage is replaced by a note): for setting events aside. */
export function usageEventToJsonLoosely(event: UsageEvent): string {
  try {
    return usageEventToJson(event);
  } catch (error) {
    return usageEventToJson({ ...event, usage: { ...event.usage, raw: { unserializable: String(error) } } });
  }
}

type JsonObject = Record<string, unknown>;

function object(value: unknown, name: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${name} is not an object`);
  return value as JsonObject;
}

function required<T>(value: unknown, type: 'string' | 'number' | 'boolean', name: string): T {
  if (typeof value !== type) throw new TypeError(`${name} is not a ${type}`);
  return value as T;
}

function optional<T>(value: unknown, type: 'string' | 'number', name: string): T | undefined {
  return value === undefined || value === null ? undefined : required<T>(value, type, name);
}

function money(value: unknown, name: string): bigint | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw new TypeError(`${name} is not an integer string`);
  return BigInt(value);
}

function counts<T extends object>(value: unknown, keys: ReadonlyArray<keyof T & string>, name: string): T {
  const source = object(value ?? {}, name);
  const result: Record<string, number> = {};
  for (const key of keys) {
    const count = optional<number>(source[key], 'number', `${name}.${key}`);
    if (count !== undefined) result[key] = count;
  }
  return result as T;
}

export function usageEventFromJson(line: string): UsageEvent {
  const source = object(JSON.parse(line), 'event');
  const attributionSource = object(source['attribution'] ?? {}, 'attribution');
  const usageSource = object(source['usage'] ?? {}, 'usage');
  const usage: Usage = {
    input: counts<InputUsage>(usageSource['input'], ['total', 'noCache', 'cacheRead', 'cacheWrite5m', 'cacheWrite1h'], 'usage.input'),
    output: counts<OutputUsage>(usageSource['output'], ['total', 'text', 'reasoning'], 'usage.output'),
  };
  if ('raw' in usageSource) usage.raw = usageSource['raw'];
  const attribution: UsageEvent['attribution'] = { tags: object(attributionSource['tags'] ?? {}, 'tags') as Record<string, string> };
  for (const key of ['feature', 'customer', 'user'] as const) {
    const value = optional<string>(attributionSource[key], 'string', `attribution.${key}`);
    if (value !== undefined) attribution[key] = value;
  }
  const event: UsageEvent = {
    requestId: required(source['requestId'], 'string', 'requestId'),
    time: required(source['time'], 'number', 'time'),
    provider: required<ProviderId>(source['provider'], 'string', 'provider'),
    endpoint: required(source['endpoint'], 'string', 'endpoint'),
    requestedModel: optional(source['requestedModel'], 'string', 'requestedModel'),
    servedModel: optional(source['servedModel'], 'string', 'servedModel'),
    attribution,
    stream: required(source['stream'], 'boolean', 'stream'),
    status: required(source['status'], 'number', 'status'),
    errorType: optional(source['errorType'], 'string', 'errorType'),
    latencyMs: required(source['latencyMs'], 'number', 'latencyMs'),
    ttfbMs: optional(source['ttfbMs'], 'number', 'ttfbMs'),
    usage,
    stopReason: optional(source['stopReason'], 'string', 'stopReason'),
    cost: money(source['cost'], 'cost'),
    baselineCost: money(source['baselineCost'], 'baselineCost'),
    priceVersion: optional(source['priceVersion'], 'string', 'priceVersion'),
  };
  for (const key of ['cacheStatus', 'route', 'batchId'] as const) {
    const value = optional<string>(source[key], 'string', key);
    if (value !== undefined) event[key] = value;
  }
  for (const key of ['cacheWritePremium', 'cacheReadSaving'] as const) {
    const value = money(source[key], key);
    if (value !== undefined) event[key] = value;
  }
  for (const key of ['maxTokensRequested', 'maxTokensSent'] as const) {
    const value = optional<number>(source[key], 'number', key);
    if (value !== undefined) event[key] = value;
  }
  if (Array.isArray(source['levers'])) {
    event.levers = source['levers'].map((item: unknown, index) => {
      const effect = object(item, `levers[${index}]`);
      return { ...(effect as unknown as LeverEffect), saving: money(effect['saving'], `levers[${index}].saving`) ?? 0n };
    });
  }
  return event;
}
