/**
 * What the gateway remembers about recent routed calls so that feedback arriving shortly after
 * can be stored as a training example: the prompt text, the served model and the feature. Bounded
 * in count and age; nothing is written to disk until an outcome arrives for the call.
 */
export interface RecentCall {
  model: string;
  feature: string | undefined;
  prompt: string | undefined;
  /** The tiers of the policy that routed it, cheapest first. */
  tiers: readonly string[];
  at: number;
}

export class RecentCalls {
  private readonly entries = new Map<string, RecentCall>();

  constructor(
    private readonly maxEntries = 20_000,
    private readonly maxAgeMs = 60 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  remember(requestId: string, call: Omit<RecentCall, 'at'>): void {
    this.entries.delete(requestId);
    this.entries.set(requestId, { ...call, at: this.clock() });
    // Map iteration is insertion order: the oldest entries go first.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get(requestId: string): RecentCall | undefined {
    const entry = this.entries.get(requestId);
    if (!entry) return undefined;
    if (this.clock() - entry.at > this.maxAgeMs) {
      this.entries.delete(requestId);
      return undefined;
    }
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}
