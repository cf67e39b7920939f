import type { BudgetCheck, Nanodollars } from './budget-periods.ts';

export interface ReserveRequest {
  keyId: string;
  /** The call's request id: reserving twice for it is a no-op; settling it twice adds once. */
  requestId: string;
  amount: Nanodollars;
  checks: readonly BudgetCheck[];
  now: number;
  /** The reservation is released by itself after this long (a replica that died mid-call). */
  ttlMs: number;
}

export type ReserveOutcome =
  | { kind: 'reserved' }
  /** Spent plus reserved plus this call's worst case would pass the budget of `check`. */
  | { kind: 'refused'; check: BudgetCheck; spent: Nanodollars; reserved: Nanodollars }
  /** These counters are missing (first use, or Redis lost them): seed them from the ledger, then retry. */
  | { kind: 'unseeded'; checks: BudgetCheck[] };

export interface SettleRequest {
  keyId: string;
  requestId: string;
  /** What the call really cost (0 to release a reservation for a call that never went upstream). */
  cost: Nanodollars;
  /** The counters of the call's periods (those of the reservation's `checks`). */
  checks: readonly BudgetCheck[];
  now: number;
}

/**
 * Spend and reservations per key and period. Reserve and settle are each atomic, so any number of
 * replicas sharing one store cannot together pass a budget by more than the gap between a call's
 * worst case and what it really cost (zero when the worst case holds).
 */
export interface BudgetStore {
  reserve(request: ReserveRequest): Promise<ReserveOutcome>;
  /** Sets a missing counter to `spent`; does nothing when it exists (so every replica may try). */
  seed(keyId: string, check: BudgetCheck, spent: Nanodollars, now: number): Promise<void>;
  /** Releases the reservation and adds the cost to the counters that exist, once per request id. */
  settle(request: SettleRequest): Promise<void>;
  /** Settled spend in a period, undefined when the counter is missing (for the admin API). */
  spent(keyId: string, check: BudgetCheck): Promise<Nanodollars | undefined>;
  /**
   * Before rebuilding lost counters: the time (epoch ms) before which they must not be rebuilt.
   * When the store itself lost everything (a Redis restart), calls other replicas settled into the
   * old counters may still sit in their spools, not yet in the ledger a rebuild reads; the first
   * replica to notice starts a grace of `graceMs` shared by all. Otherwise (a new period, a new
   * key), `now`: nothing to wait for.
   */
  rebuildNotBefore(now: number, graceMs: number): Promise<number>;
}

/**
 * How long a settled request id is remembered, so a repeated settle adds nothing. Settles come
 * once per call from the replica that served it, so minutes suffice, and memory stays bounded by
 * the calls of the last few minutes.
 */
export const SETTLED_MEMORY_MS = 5 * 60_000;
