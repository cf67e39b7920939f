export interface RateRequest {
  keyId: string;
  requestsPerMinute: number | undefined;
  tokensPerMinute: number | undefined;
  /** Tokens counted now: the input estimate plus the output cap; corrected by `adjust` once known. */
  tokens: number;
  now: number;
}

export type RateOutcome =
  | { allowed: true; window: number }
  | { allowed: false; limit: 'requests' | 'tokens'; retryAfterSeconds: number };

/**
 * Fixed one-minute windows per key. A call is counted with its worst-case tokens before it goes
 * upstream and corrected to the real count after (`adjust`), so the counter never stays inflated
 * by estimates (the cause of false 429s when estimates are only ever added).
 */
export interface RateLimiter {
  acquire(request: RateRequest): Promise<RateOutcome>;
  /** Adds `delta` (real minus counted tokens, often negative) to the window the call was counted in. */
  adjust(keyId: string, window: number, delta: number): Promise<void>;
}

export const WINDOW_MS = 60_000;

export function windowOf(now: number): number {
  return Math.floor(now / WINDOW_MS);
}

export function retryAfterSeconds(window: number, now: number): number {
  return Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
}

/**
 * The shared decision: a window may always take one call, however large, when it has counted no
 * tokens yet (else a call bigger than the limit could never pass).
 */
export function rateDecision(request: RateRequest, requests: number, tokens: number): 'requests' | 'tokens' | undefined {
  if (request.requestsPerMinute !== undefined && requests + 1 > request.requestsPerMinute) return 'requests';
  if (request.tokensPerMinute !== undefined && tokens > 0 && tokens + request.tokens > request.tokensPerMinute) return 'tokens';
  return undefined;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { window: number; requests: number; tokens: number }>();

  async acquire(request: RateRequest): Promise<RateOutcome> {
    const window = windowOf(request.now);
    let counts = this.windows.get(request.keyId);
    if (!counts || counts.window !== window) {
      counts = { window, requests: 0, tokens: 0 };
      this.windows.set(request.keyId, counts);
    }
    const refused = rateDecision(request, counts.requests, counts.tokens);
    if (refused) return { allowed: false, limit: refused, retryAfterSeconds: retryAfterSeconds(window, request.now) };
    counts.requests += 1;
    counts.tokens += request.tokens;
    return { allowed: true, window };
  }

  async adjust(keyId: string, window: number, delta: number): Promise<void> {
    const counts = this.windows.get(keyId);
    if (counts && counts.window === window) counts.tokens = Math.max(0, counts.tokens + delta);
  }
}
