import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayPeriod, monthPeriod, type BudgetCheck } from './budget-periods.ts';
import type { BudgetStore } from './budget-store.ts';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const TTL = 60_000;

export function checks(dayLimit: number, monthLimit?: number): BudgetCheck[] {
  const list: BudgetCheck[] = [{ ...dayPeriod(NOW), limit: dayLimit }];
  if (monthLimit !== undefined) list.push({ ...monthPeriod(NOW), limit: monthLimit });
  return list;
}

let sequence = 0;
const keyId = () => `key${(sequence += 1)}`;

/** The rules every budget store keeps; run on the in-memory and the Redis store. */
export function budgetStoreSuite(name: string, open: () => Promise<{ store: BudgetStore; close(): Promise<void> }>): void {
  async function withStore(work: (store: BudgetStore) => Promise<void>): Promise<void> {
    const opened = await open();
    try {
      await work(opened.store);
    } finally {
      await opened.close();
    }
  }

  test(`${name}: a missing counter is reported, seeded once (set if absent), then reservations count against it`, () =>
    withStore(async (store) => {
      const id = keyId();
      const budget = checks(1000, 5000);
      const first = await store.reserve({ keyId: id, requestId: 'r1', amount: 100, checks: budget, now: NOW, ttlMs: TTL });
      assert.deepEqual(first.kind === 'unseeded' ? first.checks.map((check) => check.period) : first, [budget[0]?.period, budget[1]?.period]);
      // Three replicas seeding after a Redis restart: the first value stays, nothing is added up.
      await store.seed(id, budget[0]!, 600, NOW);
      await store.seed(id, budget[0]!, 600, NOW);
      await store.seed(id, budget[0]!, 999, NOW);
      await store.seed(id, budget[1]!, 600, NOW);
      assert.equal(await store.spent(id, budget[0]!), 600);
      assert.deepEqual(await store.reserve({ keyId: id, requestId: 'r1', amount: 300, checks: budget, now: NOW, ttlMs: TTL }), { kind: 'reserved' });
      // 600 spent + 300 held + 200 > 1000.
      const refused = await store.reserve({ keyId: id, requestId: 'r2', amount: 200, checks: budget, now: NOW, ttlMs: TTL });
      assert.equal(refused.kind, 'refused');
      if (refused.kind === 'refused') {
        assert.equal(refused.check.period, budget[0]?.period);
        assert.equal(refused.spent, 600);
        assert.equal(refused.reserved, 300);
      }
      assert.deepEqual(await store.reserve({ keyId: id, requestId: 'r3', amount: 100, checks: budget, now: NOW, ttlMs: TTL }), { kind: 'reserved' });
    }));

  test(`${name}: settling replaces the reservation with the real cost, once per request id`, () =>
    withStore(async (store) => {
      const id = keyId();
      const budget = checks(1000, 5000);
      for (const check of budget) await store.seed(id, check, 0, NOW);
      await store.reserve({ keyId: id, requestId: 'a', amount: 900, checks: budget, now: NOW, ttlMs: TTL });
      assert.equal((await store.reserve({ keyId: id, requestId: 'b', amount: 200, checks: budget, now: NOW, ttlMs: TTL })).kind, 'refused');
      // Reserving again for the same request is a no-op, not a second hold.
      assert.equal((await store.reserve({ keyId: id, requestId: 'a', amount: 900, checks: budget, now: NOW, ttlMs: TTL })).kind, 'reserved');
      await store.settle({ keyId: id, requestId: 'a', cost: 250, checks: budget, now: NOW });
      await store.settle({ keyId: id, requestId: 'a', cost: 250, checks: budget, now: NOW });
      assert.equal(await store.spent(id, budget[0]!), 250);
      assert.equal(await store.spent(id, budget[1]!), 250);
      assert.equal((await store.reserve({ keyId: id, requestId: 'b', amount: 700, checks: budget, now: NOW, ttlMs: TTL })).kind, 'reserved');
      // A release (cost 0) frees the hold and adds nothing.
      await store.settle({ keyId: id, requestId: 'b', cost: 0, checks: budget, now: NOW });
      assert.equal(await store.spent(id, budget[0]!), 250);
      assert.equal((await store.reserve({ keyId: id, requestId: 'c', amount: 750, checks: budget, now: NOW, ttlMs: TTL })).kind, 'reserved');
      assert.equal((await store.reserve({ keyId: id, requestId: 'd', amount: 1, checks: budget, now: NOW, ttlMs: TTL })).kind, 'refused');
    }));

  test(`${name}: an unsettled reservation expires (no leak); a late settle still counts once`, () =>
    withStore(async (store) => {
      const id = keyId();
      const budget = checks(1000);
      await store.seed(id, budget[0]!, 0, NOW);
      await store.reserve({ keyId: id, requestId: 'lost', amount: 800, checks: budget, now: NOW, ttlMs: TTL });
      assert.equal((await store.reserve({ keyId: id, requestId: 'x', amount: 300, checks: budget, now: NOW + TTL - 1, ttlMs: TTL })).kind, 'refused');
      assert.equal((await store.reserve({ keyId: id, requestId: 'x', amount: 300, checks: budget, now: NOW + TTL, ttlMs: TTL })).kind, 'reserved');
      await store.settle({ keyId: id, requestId: 'lost', cost: 500, checks: budget, now: NOW + TTL + 1 });
      await store.settle({ keyId: id, requestId: 'lost', cost: 500, checks: budget, now: NOW + TTL + 2 });
      assert.equal(await store.spent(id, budget[0]!), 500);
      // 500 spent + 300 held by x.
      assert.equal((await store.reserve({ keyId: id, requestId: 'y', amount: 201, checks: budget, now: NOW + TTL + 3, ttlMs: TTL })).kind, 'refused');
      assert.equal((await store.reserve({ keyId: id, requestId: 'y', amount: 200, checks: budget, now: NOW + TTL + 3, ttlMs: TTL })).kind, 'reserved');
    }));

  test(`${name}: a settle whose counter is missing adds nothing (the ledger reseed counts it instead)`, () =>
    withStore(async (store) => {
      const id = keyId();
      const budget = checks(1000);
      await store.settle({ keyId: id, requestId: 'orphan', cost: 400, checks: budget, now: NOW });
      assert.equal(await store.spent(id, budget[0]!), undefined);
      await store.seed(id, budget[0]!, 400, NOW);
      assert.equal(await store.spent(id, budget[0]!), 400);
    }));

  test(`${name}: keys are independent`, () =>
    withStore(async (store) => {
      const [first, second] = [keyId(), keyId()];
      const budget = checks(100);
      for (const id of [first, second]) await store.seed(id, budget[0]!, 0, NOW);
      assert.equal((await store.reserve({ keyId: first, requestId: 'r', amount: 100, checks: budget, now: NOW, ttlMs: TTL })).kind, 'reserved');
      assert.equal((await store.reserve({ keyId: second, requestId: 'r', amount: 100, checks: budget, now: NOW, ttlMs: TTL })).kind, 'reserved');
      assert.equal((await store.reserve({ keyId: first, requestId: 's', amount: 1, checks: budget, now: NOW, ttlMs: TTL })).kind, 'refused');
    }));
}
