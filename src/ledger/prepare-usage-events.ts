import type { LeverEffect } from '../core/lever.ts';
import type { UsageEvent } from '../core/usage-event.ts';
import { InvalidUsageEventError } from './ledger.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** The range of a JavaScript Date, which every backend's timestamp type covers. */
const MAX_EPOCH_MS = 8.64e15;

/** An event checked for storage, with its JSON columns serialized once. */
export interface PreparedUsageEvent {
  event: UsageEvent;
  tagsJson: string;
  /** undefined when the provider sent no raw usage (stored as SQL NULL, unlike JSON null). */
  usageRawJson: string | undefined;
  /** undefined when no lever acted; savings as decimal strings, since JSON has no bigint. */
  leversJson: string | undefined;
}

/**
 * Checks a batch before any backend writes it, so a bad event fails the whole batch up front
 * (never half a batch), and drops repeats of a request id within the batch (first one wins).
 */
export function prepareUsageEvents(events: readonly UsageEvent[]): PreparedUsageEvent[] {
  const problems: Array<{ requestId: string; problem: string }> = [];
  const seen = new Set<string>();
  const prepared: PreparedUsageEvent[] = [];
  for (const event of events) {
    const requestId = typeof event.requestId === 'string' ? event.requestId : String(event.requestId);
    const eventProblems = findProblems(event);
    let tagsJson = '{}';
    let usageRawJson: string | undefined;
    let leversJson: string | undefined;
    try {
      tagsJson = JSON.stringify(event.attribution.tags ?? {});
      usageRawJson = event.usage.raw === undefined ? undefined : JSON.stringify(event.usage.raw);
      leversJson = event.levers === undefined ? undefined : leversToJson(event.levers);
    } catch (error) {
      eventProblems.push(`usage.raw, tags or levers cannot be serialized to JSON (${(error as Error).message})`);
    }
    if (eventProblems.length > 0) {
      for (const problem of eventProblems) problems.push({ requestId, problem });
      continue;
    }
    if (seen.has(requestId)) continue;
    seen.add(requestId);
    prepared.push({ event, tagsJson, usageRawJson, leversJson });
  }
  if (problems.length > 0) throw new InvalidUsageEventError(problems);
  return prepared;
}

function findProblems(event: UsageEvent): string[] {
  const problems: string[] = [];
  if (typeof event.requestId !== 'string' || event.requestId.length === 0) problems.push('requestId must be a non-empty string');
  if (!Number.isFinite(event.time) || Math.abs(event.time) > MAX_EPOCH_MS) problems.push(`time ${event.time} is not an epoch millisecond value`);
  if (typeof event.provider !== 'string' || event.provider.length === 0) problems.push('provider must be a non-empty string');
  if (!Number.isInteger(event.status)) problems.push(`status ${event.status} is not an integer`);
  if (!Number.isFinite(event.latencyMs)) problems.push(`latencyMs ${event.latencyMs} is not a finite number`);
  if (event.ttfbMs !== undefined && !Number.isFinite(event.ttfbMs)) problems.push(`ttfbMs ${event.ttfbMs} is not a finite number`);
  const input = event.usage?.input ?? {};
  const output = event.usage?.output ?? {};
  const tokenFields: Array<[string, number | undefined]> = [
    ['usage.input.total', input.total],
    ['usage.input.noCache', input.noCache],
    ['usage.input.cacheRead', input.cacheRead],
    ['usage.input.cacheWrite5m', input.cacheWrite5m],
    ['usage.input.cacheWrite1h', input.cacheWrite1h],
    ['usage.output.total', output.total],
    ['usage.output.text', output.text],
    ['usage.output.reasoning', output.reasoning],
    ['maxTokensRequested', event.maxTokensRequested],
    ['maxTokensSent', event.maxTokensSent],
  ];
  for (const [name, value] of tokenFields) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) problems.push(`${name} ${value} is not a token count`);
  }
  for (const [name, value] of [
    ['cost', event.cost],
    ['baselineCost', event.baselineCost],
    ['cacheWritePremium', event.cacheWritePremium],
    ['cacheReadSaving', event.cacheReadSaving],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'bigint') problems.push(`${name} must be a bigint of picodollars, got ${typeof value}`);
    else if (value < INT64_MIN || value > INT64_MAX) problems.push(`${name} ${value} pUSD is outside the 64-bit range`);
  }
  for (const effect of event.levers ?? []) {
    if (typeof effect.saving !== 'bigint') problems.push(`lever ${effect.lever} saving must be a bigint of picodollars`);
  }
  for (const [key, value] of Object.entries(event.attribution?.tags ?? {})) {
    if (typeof value !== 'string') problems.push(`tag ${key} is not a string`);
  }
  return problems;
}

export function leversToJson(levers: readonly LeverEffect[]): string {
  return JSON.stringify(levers, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

export function leversFromJson(json: string): LeverEffect[] {
  const parsed = JSON.parse(json) as Array<Omit<LeverEffect, 'saving'> & { saving: string }>;
  return parsed.map((effect) => ({ ...effect, saving: BigInt(effect.saving) }));
}
