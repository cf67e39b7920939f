import { counterExpiry, type BudgetCheck, type Nanodollars } from './budget-periods.ts';
import { SETTLED_MEMORY_MS, type BudgetStore, type ReserveOutcome, type ReserveRequest, type SettleRequest } from './budget-store.ts';

interface Reservation {
  amount: Nanodollars;
  expiresAt: number;
}

interface Counter {
  spent: Nanodollars;
  expiresAt: number;
}

/** The single-process store: the same rules as the Redis one, in maps. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly counters = new Map<string, Counter>();
  private readonly reservations = new Map<string, Map<string, Reservation>>();
  private readonly settled = new Map<string, number>();

  private counter(keyId: string, check: BudgetCheck, now: number): Counter | undefined {
    const name = `${keyId}|${check.period}`;
    const counter = this.counters.get(name);
    if (counter && counter.expiresAt <= now) {
      this.counters.delete(name);
      return undefined;
    }
    return counter;
  }

  private live(keyId: string, now: number): Map<string, Reservation> {
    let held = this.reservations.get(keyId);
    if (!held) {
      held = new Map();
      this.reservations.set(keyId, held);
    }
    for (const [requestId, reservation] of held) if (reservation.expiresAt <= now) held.delete(requestId);
    return held;
  }

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    const held = this.live(request.keyId, request.now);
    if (held.has(request.requestId)) return { kind: 'reserved' };
    const missing = request.checks.filter((check) => !this.counter(request.keyId, check, request.now));
    if (missing.length > 0) return { kind: 'unseeded', checks: missing };
    let reserved = 0;
    for (const reservation of held.values()) reserved += reservation.amount;
    for (const check of request.checks) {
      const spent = this.counter(request.keyId, check, request.now)?.spent ?? 0;
      if (spent + reserved + request.amount > check.limit) return { kind: 'refused', check, spent, reserved };
    }
    held.set(request.requestId, { amount: request.amount, expiresAt: request.now + request.ttlMs });
    return { kind: 'reserved' };
  }

  async seed(keyId: string, check: BudgetCheck, spent: Nanodollars, now: number): Promise<void> {
    if (!this.counter(keyId, check, now)) this.counters.set(`${keyId}|${check.period}`, { spent, expiresAt: counterExpiry(check) });
  }

  async settle(request: SettleRequest): Promise<void> {
    const settledName = `${request.keyId}|${request.requestId}`;
    for (const [name, expiresAt] of this.settled) {
      // Insertion order is settle order, so the expired ones are at the front.
      if (expiresAt > request.now) break;
      this.settled.delete(name);
    }
    if (this.settled.has(settledName)) return;
    this.settled.set(settledName, request.now + SETTLED_MEMORY_MS);
    this.reservations.get(request.keyId)?.delete(request.requestId);
    if (request.cost <= 0) return;
    for (const check of request.checks) {
      const counter = this.counter(request.keyId, check, request.now);
      if (counter) counter.spent += request.cost;
    }
  }

  async spent(keyId: string, check: BudgetCheck): Promise<Nanodollars | undefined> {
    return this.counter(keyId, check, Date.now())?.spent;
  }
}
