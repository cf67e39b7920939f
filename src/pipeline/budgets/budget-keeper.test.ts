import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { connectTestRedis, deleteKeys, startThrowawayRedis, uniquePrefix } from '../shared-state/testing/redis-test-support.ts';
import { BudgetKeeper } from './budget-keeper.ts';
import { checks } from './budget-store-suite.ts';
import { MemoryBudgetStore } from './memory-budget-store.ts';
import { RedisBudgetStore } from './redis-budget-store.ts';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

/** Waits until the client reconnected to the restarted server (each replica notices on its own). */
async function untilAnswering(client: Redis): Promise<void> {
  for (;;) {
    try {
      await client.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

test('concurrent first calls in one process share one ledger query', async () => {
  let queries = 0;
  const keeper = new BudgetKeeper(new MemoryBudgetStore(), async () => {
    queries += 1;
    await new Promise((resolve) => setImmediate(resolve));
    return 300_000n; // 300 nanodollars
  });
  const budget = checks(1000);
  const outcomes = await Promise.all(
    ['a', 'b', 'c', 'd'].map((requestId) => keeper.reserve({ keyId: 'k', requestId, amount: 200, checks: budget, now: NOW, ttlMs: 60_000 })),
  );
  assert.equal(queries, 1);
  // 300 spent: three reservations of 200 fit, the fourth does not.
  assert.deepEqual(outcomes.map((outcome) => outcome.kind).sort(), ['refused', 'reserved', 'reserved', 'reserved']);
});

test('after Redis loses everything, replicas reseed from the ledger once, not once each', async () => {
  const server = await startThrowawayRedis();
  const prefix = uniquePrefix();
  const replicas = [0, 1, 2].map(() => connectTestRedis(prefix, server.url));
  try {
    for (const replica of replicas) assert.ok(await replica.whenReady(5_000));
    // The ledger's settled spend for the key this day: 400 nanodollars.
    const ledgerSpend = async () => 400_000n;
    const keepers = replicas.map((replica) => new BudgetKeeper(new RedisBudgetStore(replica.client, prefix, 2_000), ledgerSpend));
    const budget = checks(1000);
    const reserve = (index: number, requestId: string, amount: number) =>
      keepers[index]!.reserve({ keyId: 'k', requestId, amount, checks: budget, now: NOW, ttlMs: 60_000 });
    await Promise.all([reserve(0, 'a', 100), reserve(1, 'b', 100), reserve(2, 'c', 100)]);
    for (const [index, requestId] of ['a', 'b', 'c'].entries()) {
      await keepers[index]!.store.settle({ keyId: 'k', requestId, cost: 100, checks: budget, now: NOW });
    }
    assert.equal(await keepers[0]!.store.spent('k', budget[0]!), 700);

    await server.stop();
    await server.restart();
    for (const replica of replicas) await untilAnswering(replica.client);
    assert.equal(await keepers[0]!.store.spent('k', budget[0]!), undefined);
    // Now the ledger has all 700; three replicas reseed at once and the counter is 700, not 2100:
    // two calls of 150 fit under 1000, the third does not.
    const reseeded = replicas.map((replica) => new BudgetKeeper(new RedisBudgetStore(replica.client, prefix, 2_000), async () => 700_000n));
    const outcomes = await Promise.all(reseeded.map((keeper, index) => keeper.reserve({ keyId: 'k', requestId: `after${index}`, amount: 150, checks: budget, now: NOW, ttlMs: 60_000 })));
    assert.deepEqual(outcomes.map((outcome) => outcome.kind).sort(), ['refused', 'reserved', 'reserved']);
    assert.equal(await reseeded[0]!.store.spent('k', budget[0]!), 700);
    await deleteKeys(replicas[0]!, prefix);
  } finally {
    for (const replica of replicas) await replica.close();
    await server.stop();
  }
});

test('after Redis loses everything, the rebuild waits for the spend other replicas had not yet written to the ledger', async () => {
  const server = await startThrowawayRedis();
  const prefix = uniquePrefix();
  const replicas = [0, 1].map(() => connectTestRedis(prefix, server.url));
  try {
    for (const replica of replicas) assert.ok(await replica.whenReady(5_000));
    const budget = checks(1000);
    // What the ledger holds: 500 nanodollars until the other replica's spool flush lands, 800 after.
    let flushed = false;
    const ledgerSpend = async () => (flushed ? 800_000n : 500_000n);
    const graceMs = 400;
    const store = new RedisBudgetStore(replicas[0]!.client, prefix, 2_000);
    const guarded = new BudgetKeeper(store, ledgerSpend, graceMs);
    const otherReplica = new RedisBudgetStore(replicas[1]!.client, prefix, 2_000);
    // The store is new to this Redis (as after a restart): the first replica to see a missing
    // counter starts the grace, and the other replica's flush lands within it.
    const flush = new Promise<void>((resolve) => setTimeout(() => ((flushed = true), resolve()), graceMs / 4));
    const outcome = await guarded.reserve({ keyId: 'k', requestId: 'a', amount: 150, checks: budget, now: Date.now(), ttlMs: 60_000 });
    await flush;
    assert.equal(outcome.kind, 'reserved');
    assert.equal(await store.spent('k', budget[0]!), 800);
    // A counter missing for another reason (a new key) while Redis kept its data is rebuilt at once.
    const later = Date.now() + 60_000;
    assert.ok((await otherReplica.rebuildNotBefore(later, graceMs)) <= later, 'the grace started once, not again by the second replica');

    // Without the grace the rebuild reads the ledger before the flush: the key would be 300 short.
    flushed = false;
    const unguarded = new BudgetKeeper(new RedisBudgetStore(replicas[1]!.client, `${prefix}unguarded:`, 2_000), ledgerSpend);
    await unguarded.reserve({ keyId: 'k', requestId: 'b', amount: 150, checks: budget, now: Date.now(), ttlMs: 60_000 });
    assert.equal(await unguarded.store.spent('k', budget[0]!), 500);
    await deleteKeys(replicas[0]!, prefix);
  } finally {
    for (const replica of replicas) await replica.close();
    await server.stop();
  }
});
