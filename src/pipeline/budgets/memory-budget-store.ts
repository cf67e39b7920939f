import { counterExpiry, type BudgetCheck, type Nanodollars } from './budget-periods.ts';
import { SETTLED_MEMORY_MS, type BudgetStore, type ReserveOutcome, type ReserveRequest, type SettleRequest } from './budget-store.ts';

interface Counter {
  spent: Nanodollars;
  expiresAt: number;
}

/**
 * One key's reservations in flight and its recently settled request ids. Both maps are in
 * insertion order, which is expiry order (each uses one fixed lifetime), so expiring is a walk
 * from the front that stops at the first live entry.
 */
class KeyHolds {
  readonly holds = new Map<string, { amount: Nanodollars; expiresAt: number }>();
  readonly settled = new Map<string, number>();
  reserved = 0;

  expire(now: number): void {
    for (const [requestId, hold] of this.holds) {
      if (hold.expiresAt > now) break;
      this.holds.delete(requestId);
      this.reserved -= hold.amount;
    }
    for (const [requestId, expiresAt] of this.settled) {
      if (expiresAt > now) break;
      this.settled.delete(requestId);
    }
  }
}

/** The single-process store: the same rules as the Redis one, in maps. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly counters = new Map<string, Counter>();
  private readonly keys = new Map<string, KeyHolds>();

  private counter(keyId: string, check: BudgetCheck, now: number): Counter | undefined {
    const name = `${keyId}|${check.period}`;
    const counter = this.counters.get(name);
    if (counter && counter.expiresAt <= now) {
      this.counters.delete(name);
      return undefined;
    }
    return counter;
  }

  private holdsOf(keyId: string, now: number): KeyHolds {
    let holds = this.keys.get(keyId);
    if (!holds) {
      holds = new KeyHolds();
      this.keys.set(keyId, holds);
    }
    holds.expire(now);
    return holds;
  }

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    const holds = this.holdsOf(request.keyId, request.now);
    if (holds.holds.has(request.requestId) || holds.settled.has(request.requestId)) return { kind: 'reserved' };
    const missing = request.checks.filter((check) => !this.counter(request.keyId, check, request.now));
    if (missing.length > 0) return { kind: 'unseeded', checks: missing };
    for (const check of request.checks) {
      const spent = this.counter(request.keyId, check, request.now)?.spent ?? 0;
      if (spent + holds.reserved + request.amount > check.limit) return { kind: 'refused', check, spent, reserved: holds.reserved };
    }
    holds.holds.set(request.requestId, { amount: request.amount, expiresAt: request.now + request.ttlMs });
    holds.reserved += request.amount;
    return { kind: 'reserved' };
  }

  async seed(keyId: string, check: BudgetCheck, spent: Nanodollars, now: number): Promise<void> {
    if (!this.counter(keyId, check, now)) this.counters.set(`${keyId}|${check.period}`, { spent, expiresAt: counterExpiry(check) });
  }

  async settle(request: SettleRequest): Promise<void> {
    const holds = this.holdsOf(request.keyId, request.now);
    if (holds.settled.has(request.requestId)) return;
    holds.settled.set(request.requestId, request.now + SETTLED_MEMORY_MS);
    const hold = holds.holds.get(request.requestId);
    if (hold) {
      holds.holds.delete(request.requestId);
      holds.reserved -= hold.amount;
    }
    if (request.cost <= 0) return;
    for (const check of request.checks) {
      const counter = this.counter(request.keyId, check, request.now);
      if (counter) counter.spent += request.cost;
    }
  }

  /** One process's counters are only lost with the process, whose own spool replays first. */
  async rebuildNotBefore(now: number): Promise<number> {
    return now;
  }

  async spent(keyId: string, check: BudgetCheck): Promise<Nanodollars | undefined> {
    return this.counter(keyId, check, Date.now())?.spent;
  }
}
