import type { CircuitBreakerConfig } from '../../config/resilience-config.ts';

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
  /** Outcome times in the window, oldest first: [epoch ms, failed]. */
  #outcomes: Array<[number, boolean]> = [];

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
    this.#outcomes.push([now, failed]);
    const start = now - this.config.windowMs;
    while (this.#outcomes.length > 0 && (this.#outcomes[0]?.[0] ?? now) < start) this.#outcomes.shift();
    const failures = this.#outcomes.reduce((count, [, wasFailure]) => count + (wasFailure ? 1 : 0), 0);
    if (failures >= this.config.failureThreshold && failures / this.#outcomes.length >= this.config.failureRate) this.#open(now);
  }

  /** A probe that ended without an outcome (the client went away) lets the next call probe. */
  release(probe: boolean): void {
    if (probe) this.#probeInFlight = false;
  }

  #open(now: number): void {
    this.#state = 'open';
    this.#openedAt = now;
    this.#outcomes = [];
  }

  #close(): void {
    this.#state = 'closed';
    this.#outcomes = [];
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
