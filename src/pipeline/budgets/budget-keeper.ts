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

  constructor(
    readonly store: BudgetStore,
    private readonly spendSource: SpendSource,
  ) {}

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    for (let round = 0; round < SEED_ROUNDS; round += 1) {
      const outcome = await this.store.reserve(request);
      if (outcome.kind !== 'unseeded') return outcome;
      await Promise.all(outcome.checks.map((check) => this.seed(request.keyId, check, request.now)));
    }
    throw new Error(`budget counters for key ${request.keyId} stay missing after seeding`);
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
