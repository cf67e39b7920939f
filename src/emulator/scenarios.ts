import { BoundedMap } from './bounded-map.ts';

/**
 * Failure and timing scenarios, picked by a substring of the model id or by the
 * `x-emulator-scenario` header (same names; the header may list several, comma-separated).
 * Model ids let a scenario travel through a gateway that does not forward unknown headers.
 */
export const SCENARIO_HEADER = 'x-emulator-scenario';

export const SCENARIO_NAMES = [
  'emu-429-then-ok',
  'emu-429',
  'emu-500',
  'emu-529',
  'emu-slow-stream',
  'emu-broken-stream',
  'emu-latency-<ms>',
] as const;

/** Pause between stream chunks under `emu-slow-stream`. */
export const SLOW_STREAM_INTERVAL_MS = 100;

export type FailureKind = 'rate_limited' | 'server' | 'overloaded';

export interface Scenario {
  /** Fail every call this way. */
  failure: FailureKind | undefined;
  /** Fail the first call of each distinct request with a 429, let the next through, and so on alternately. */
  rateLimitEveryOtherCall: boolean;
  slowStream: boolean;
  brokenStream: boolean;
  /** Extra latency before responding. */
  latencyMs: number;
}

export const NO_SCENARIO: Scenario = Object.freeze({
  failure: undefined,
  rateLimitEveryOtherCall: false,
  slowStream: false,
  brokenStream: false,
  latencyMs: 0,
});

const LATENCY_PATTERN = /emu-latency-(\d+)/;

export function readScenario(sources: ReadonlyArray<string | undefined>): Scenario {
  let text = sources.filter((source) => source !== undefined && source.includes('emu-')).join(' ');
  if (text === '') return NO_SCENARIO;
  const scenario: Scenario = { ...NO_SCENARIO };
  // Longest names first, and each match removed, so "emu-429-then-ok" is not also read as "emu-429".
  const take = (name: string): boolean => {
    if (!text.includes(name)) return false;
    text = text.split(name).join(' ');
    return true;
  };
  if (take('emu-429-then-ok')) scenario.rateLimitEveryOtherCall = true;
  if (take('emu-429')) scenario.failure = 'rate_limited';
  if (take('emu-500')) scenario.failure = 'server';
  if (take('emu-529')) scenario.failure = 'overloaded';
  if (take('emu-slow-stream')) scenario.slowStream = true;
  if (take('emu-broken-stream')) scenario.brokenStream = true;
  const latency = LATENCY_PATTERN.exec(text);
  if (latency?.[1] !== undefined) scenario.latencyMs = Math.min(Number(latency[1]), 600_000);
  return scenario;
}

/**
 * Remembers which requests `emu-429-then-ok` has already refused. Alternating (refuse, allow, refuse...)
 * means every logical call through a retrying gateway sees exactly one 429 then a success, even when
 * a test sends the same prompt twice.
 */
export class RefusalMemory {
  readonly #refused = new BoundedMap<string, true>({ maxEntries: 50_000 });

  /** True when this call should be refused. */
  shouldRefuse(requestKey: string): boolean {
    if (this.#refused.get(requestKey) !== undefined) {
      this.#refused.delete(requestKey);
      return false;
    }
    this.#refused.set(requestKey, true);
    return true;
  }

  clear(): void {
    this.#refused.clear();
  }
}
