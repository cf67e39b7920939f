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
  /** Hash of the credential that made the call: only the same caller may give feedback on it. */
  apiKeyId?: string | undefined;
  at: number;
}

export class RecentCalls {
  private readonly entries = new Map<string, RecentCall>();
  private characters = 0;

  constructor(
    private readonly maxEntries = 20_000,
    private readonly maxAgeMs = 60 * 60_000,
    private readonly clock: () => number = Date.now,
    /** Prompt text kept in all (UTF-16 code units): long prompts evict old entries sooner. */
    private readonly maxCharacters = 16_000_000,
  ) {}

  remember(requestId: string, call: Omit<RecentCall, 'at'>): void {
    this.forget(requestId);
    this.entries.set(requestId, { ...call, at: this.clock() });
    this.characters += call.prompt?.length ?? 0;
    // Map iteration is insertion order: the oldest entries go first.
    while (this.entries.size > this.maxEntries || (this.characters > this.maxCharacters && this.entries.size > 1)) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
  }

  private forget(requestId: string): void {
    const entry = this.entries.get(requestId);
    if (!entry) return;
    this.characters -= entry.prompt?.length ?? 0;
    this.entries.delete(requestId);
  }

  /** `get`, or where replicas share recent calls, the one another replica remembered. */
  async lookup(requestId: string): Promise<RecentCall | undefined> {
    return this.get(requestId);
  }

  get(requestId: string): RecentCall | undefined {
    const entry = this.entries.get(requestId);
    if (!entry) return undefined;
    if (this.clock() - entry.at > this.maxAgeMs) {
      this.forget(requestId);
      return undefined;
    }
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}
