import type { KeyStore } from './key-store.ts';
import { hashSecret, type VirtualKey } from './virtual-key.ts';

const MAX_ENTRIES = 10_000;

/**
 * Looks presented secrets up in the store, trusting an answer (found or not) for `ttlMs`, so the
 * store is read about once per key per few seconds per replica and a revocation or a new key is
 * seen within that time. While the store cannot be read, what was last read stands. Bounded: the
 * oldest entries go first.
 */
export class CachedKeyLookup {
  private readonly entries = new Map<string, { key: VirtualKey | undefined; until: number }>();

  constructor(
    private readonly store: KeyStore,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async find(secret: string): Promise<VirtualKey | undefined> {
    const hash = hashSecret(secret);
    const cached = this.entries.get(hash);
    const now = this.now();
    if (cached && cached.until > now) return cached.key;
    let key: VirtualKey | undefined;
    try {
      key = await this.store.findByHash(hash);
    } catch (error) {
      // The store is down: a key seen before keeps working as it was last read.
      if (cached) return cached.key;
      throw error;
    }
    this.entries.delete(hash);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(hash, { key, until: now + this.ttlMs });
    return key;
  }
}
