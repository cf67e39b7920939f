import type { CircuitBreakerConfig } from '../../config/resilience-config.ts';

/** The window is counted in this many slices; its edge is exact to one slice (1.5 s of a 30 s window). */
const SLICES_PER_WINDOW = 20;

export type BreakerState = 'closed' | 'open' | 'half-open';

export type Admission = { allowed: true; probe: boolean } | { allowed: false; retryInMs: number };

/**
 * One upstream's breaker. Closed: calls go through and outcomes are counted over a rolling window;
 * enough failures at a high enough rate open it. Open: calls are refused until the cooldown ends.
 * Half-open: one probe call goes through; its success closes the breaker, its failure reopens it.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #openedAt = 0;
  #probeInFlight = false;
  /**
   * Outcomes in the window, counted per time slice (oldest first) with running totals: recording
   * stays O(1) and the memory fixed at thousands of calls a second, where keeping each outcome
   * made every call walk the whole window. The window's edge moves a slice at a time.
   */
  #slices: Array<{ start: number; calls: number; failures: number }> = [];
  #calls = 0;
  #failures = 0;

  constructor(
    private readonly config: Pick<CircuitBreakerConfig, 'failureThreshold' | 'failureRate' | 'windowMs' | 'cooldownMs'>,
    private readonly now: () => number,
  ) {}

  get state(): BreakerState {
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.config.cooldownMs) return 'half-open';
    return this.#state;
  }

  /** Asks to make a call; a half-open breaker lets exactly one probe through at a time. */
  admit(): Admission {
    const state = this.state;
    if (state === 'closed') return { allowed: true, probe: false };
    if (state === 'half-open' && !this.#probeInFlight) {
      this.#state = 'half-open';
      this.#probeInFlight = true;
      return { allowed: true, probe: true };
    }
    const retryInMs = state === 'open' ? this.config.cooldownMs - (this.now() - this.#openedAt) : this.config.cooldownMs;
    return { allowed: false, retryInMs: Math.max(0, retryInMs) };
  }

  /** The outcome of an admitted call. A probe's outcome decides the breaker alone. */
  record(failed: boolean, probe: boolean): void {
    const now = this.now();
    if (probe) {
      this.#probeInFlight = false;
      if (failed) this.#open(now);
      else this.#close();
      return;
    }
    // A call admitted before the breaker opened may end after; it does not change an open breaker.
    if (this.#state !== 'closed') return;
    this.#count(now, failed);
    if (this.#failures >= this.config.failureThreshold && this.#failures / this.#calls >= this.config.failureRate) this.#open(now);
  }

  #count(now: number, failed: boolean): void {
    const sliceMs = Math.max(1, Math.floor(this.config.windowMs / SLICES_PER_WINDOW));
    const windowStart = now - this.config.windowMs;
    // A slice leaves once all of it is older than the window.
    while (this.#slices.length > 0 && (this.#slices[0]?.start ?? now) + sliceMs <= windowStart) {
      const expired = this.#slices.shift();
      if (expired) {
        this.#calls -= expired.calls;
        this.#failures -= expired.failures;
      }
    }
    const sliceStart = now - (now % sliceMs);
    let current = this.#slices[this.#slices.length - 1];
    if (!current || current.start !== sliceStart) {
      current = { start: sliceStart, calls: 0, failures: 0 };
      this.#slices.push(current);
    }
    current.calls += 1;
    this.#calls += 1;
    if (failed) {
      current.failures += 1;
      this.#failures += 1;
    }
  }

  /** A probe that ended without an outcome (the client went away) lets the next call probe. */
  release(probe: boolean): void {
    if (probe) this.#probeInFlight = false;
  }

  #open(now: number): void {
    this.#state = 'open';
    this.#openedAt = now;
    this.#forget();
  }

  #close(): void {
    this.#state = 'closed';
    this.#forget();
  }

  #forget(): void {
    this.#slices = [];
    this.#calls = 0;
    this.#failures = 0;
  }
}

// Model ids come from clients; past this many breakers, closed ones are forgotten first.
const MAX_BREAKERS = 2_000;

/**
 * One breaker per key, made on first use: per provider (each provider has one base URL in the
 * config, so that is the upstream) and, with scope 'model', per model.
 */
export class CircuitBreakers {
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly config: CircuitBreakerConfig,
    private readonly now: () => number,
  ) {}

  key(provider: string, model: string | undefined): string {
    return this.config.scope === 'model' ? `${provider} ${model ?? ''}` : provider;
  }

  get(key: string): CircuitBreaker | undefined {
    if (!this.config.enabled) return undefined;
    let breaker = this.#breakers.get(key);
    if (!breaker) {
      if (this.#breakers.size >= MAX_BREAKERS) this.#forgetOneClosed();
      breaker = new CircuitBreaker(this.config, this.now);
      this.#breakers.set(key, breaker);
    }
    return breaker;
  }

  #forgetOneClosed(): void {
    for (const [key, breaker] of this.#breakers) {
      if (breaker.state === 'closed') {
        this.#breakers.delete(key);
        return;
      }
    }
  }
}
