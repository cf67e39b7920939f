import type { Picodollars } from '../../core/money.ts';
import { toNanodollars, type BudgetCheck } from './budget-periods.ts';
import type { BudgetStore, ReserveOutcome, ReserveRequest } from './budget-store.ts';

/** Settled spend of a key over [from, to) from the source of truth (the ledger). */
export type SpendSource = (keyId: string, from: number, to: number) => Promise<Picodollars>;

const SEED_ROUNDS = 3;

/**
 * Reserves against the store, seeding any counter the store lacks from the ledger first. Seeds are
 * set-if-absent, so replicas seeding together agree; within one process concurrent calls for the
 * same counter share one ledger query.
 */
export class BudgetKeeper {
  private readonly seeding = new Map<string, Promise<void>>();

  /**
   * @param rebuildGraceMs after the store lost its counters (a Redis restart), how long replicas
   *   wait before rebuilding them from the ledger: long enough for every replica to flush the calls
   *   it had settled into the lost counters (two flush intervals and a margin). 0 = no wait.
   */
  constructor(
    readonly store: BudgetStore,
    private readonly spendSource: SpendSource,
    private readonly rebuildGraceMs = 0,
  ) {}

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    for (let round = 0; round < SEED_ROUNDS; round += 1) {
      const outcome = await this.store.reserve(request);
      if (outcome.kind !== 'unseeded') return outcome;
      await this.waitForGrace(request.now);
      await Promise.all(outcome.checks.map((check) => this.seed(request.keyId, check, request.now)));
    }
    throw new Error(`budget counters for key ${request.keyId} stay missing after seeding`);
  }

  /**
   * Rebuilding at once would read a ledger still missing other replicas' last second of calls, and
   * set-if-absent means nothing adds them later: the key could overspend by that much. Calls of
   * budgeted keys wait (at most the grace) instead.
   */
  private async waitForGrace(now: number): Promise<void> {
    if (this.rebuildGraceMs <= 0) return;
    const notBefore = await this.store.rebuildNotBefore(now, this.rebuildGraceMs);
    const waitMs = Math.min(this.rebuildGraceMs, notBefore - now);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  private seed(keyId: string, check: BudgetCheck, now: number): Promise<void> {
    const name = `${keyId}|${check.period}`;
    let pending = this.seeding.get(name);
    if (!pending) {
      pending = (async () => {
        const spent = await this.spendSource(keyId, check.start, check.end);
        await this.store.seed(keyId, check, toNanodollars(spent), now);
      })().finally(() => this.seeding.delete(name));
      this.seeding.set(name, pending);
    }
    return pending;
  }
}
