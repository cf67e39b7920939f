import type { RetryConfig } from '../../config/resilience-config.ts';

type Headers = Record<string, string | string[] | undefined>;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long the upstream asked to wait, in ms: `retry-after-ms` (Anthropic, OpenAI) wins over
 * `retry-after`, which is delay-seconds or an HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const milliseconds = single(headers['retry-after-ms'])?.trim();
  if (milliseconds !== undefined && milliseconds !== '') {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = single(headers['retry-after'])?.trim();
  if (retryAfter === undefined || retryAfter === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): uniform in [0, cap]. */
export function backoffDelayMs(retry: number, config: Pick<RetryConfig, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const ceiling = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

export type RetryWait = { retry: true; delayMs: number } | { retry: false; reason: 'retry_after_too_long' };

/**
 * The wait before retry number `retry` (1 = the first retry). A server-sent wait is honoured when it
 * is at most `maxRetryAfterMs`; a longer one ends the retries rather than holding the client.
 */
export function retryWait(retry: number, headers: Headers, config: RetryConfig, now: number, random: () => number): RetryWait {
  const asked = retryAfterMs(headers, now);
  if (asked === undefined) return { retry: true, delayMs: backoffDelayMs(retry, config, random) };
  if (asked > config.maxRetryAfterMs) return { retry: false, reason: 'retry_after_too_long' };
  return { retry: true, delayMs: asked };
}

/** Resolves after `ms`, or at once when the signal aborts (the caller checks it). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
