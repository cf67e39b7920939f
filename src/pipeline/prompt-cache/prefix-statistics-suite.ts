import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { MemoryPrefixStatistics } from './prefix-statistics.ts';

const MINUTE = 60_000;
const create = (feature = 'chat', kind: 'system' | 'tail' = 'system') => ({ feature, kind, positionClass: kind, tokens: 3000 });

/** Statistics under test: the in-memory ones, or a shared (Redis) one with its local copy. */
export interface StatisticsUnderTest {
  create(maxPrefixes?: number): MemoryPrefixStatistics;
  cleanup?(): Promise<void>;
}

/** What the planner relies on from its evidence, run on every implementation. */
export function prefixStatisticsSuite(name: string, subject: StatisticsUnderTest): void {
  describe(`prefix statistics: ${name}`, () => {
    after(async () => {
      await subject.cleanup?.();
    });

    test('recurrence gaps drive the estimates: a prefix seen every 30 minutes is a 1h prefix, not a 5m one', () => {
      const statistics = subject.create();
      let record;
      for (let call = 0; call < 6; call += 1) record = statistics.observe('p', call * 30 * MINUTE, create());
      const estimate = statistics.estimate(record, 'chat', 'system', 5 * 30 * MINUTE);
      assert.equal(estimate.ownGaps, 5);
      assert.equal(estimate.within5m, 0);
      assert.ok(estimate.within1h > 0.8, `within1h ${estimate.within1h}`);
    });

    test('a prefix seen once is not expected back until its class says so', () => {
      const statistics = subject.create();
      const lonely = statistics.observe('only', 0, create());
      assert.equal(statistics.estimate(lonely, 'chat', 'system', 0).within5m, 0);
      // Conversation tails of a feature mostly continue within a minute: a new tail inherits that.
      for (let session = 0; session < 10; session += 1) {
        statistics.observe(`tail-${session}`, session * MINUTE, create('chat', 'tail'));
        if (session < 8) statistics.observe(`tail-${session}`, session * MINUTE + 20_000, undefined);
      }
      const fresh = statistics.observe('tail-new', 20 * MINUTE, create('chat', 'tail'));
      const estimate = statistics.estimate(fresh, 'chat', 'tail', 20 * MINUTE);
      assert.ok(Math.abs(estimate.within5m - 0.8) < 1e-9, `within5m ${estimate.within5m}`);
      assert.ok(estimate.within1h <= estimate.within5m + 1e-9, 'unresolved longer gaps are not counted as hits');
    });

    test('an open gap longer than a TTL counts against it', () => {
      const statistics = subject.create();
      let record;
      for (let call = 0; call < 4; call += 1) record = statistics.observe('p', call * MINUTE, create());
      assert.ok(statistics.estimate(record, 'chat', 'system', 3 * MINUTE).within5m > statistics.estimate(record, 'chat', 'system', 20 * MINUTE).within5m);
    });

    test('back-off account: premiums count against savings once their entries have had an hour', () => {
      const statistics = subject.create();
      const hour = 60 * MINUTE;
      statistics.account('f', 10 * hour, 500n, 0n);
      assert.equal(statistics.lastDay('f', 10 * hour).maturedPremium, 0n);
      assert.equal(statistics.lastDay('f', 12 * hour).maturedPremium, 500n);
      statistics.account('f', 12 * hour, 0n, 200n);
      assert.deepEqual(statistics.lastDay('f', 12 * hour), { premium: 500n, savings: 200n, maturedPremium: 500n });
      assert.equal(statistics.lastDay('f', 40 * hour).premium, 0n, 'older than a day is forgotten');
    });

    test('snapshot and restore keep prefixes, classes, live entries and accounts', () => {
      const statistics = subject.create();
      statistics.observe('a', 0, create());
      statistics.markLive('a', 0, '1h');
      statistics.account('chat', 0, 100n, 40n);
      const copy = subject.create();
      copy.restore(JSON.parse(JSON.stringify(statistics.snapshot())));
      assert.equal(copy.peek('a')?.liveTtl, '1h');
      assert.equal(copy.lastDay('chat', 0).savings, 40n);
      // The restored first occurrence is still linked: its recurrence resolves the class outcome.
      copy.observe('a', MINUTE, undefined);
      for (let index = 0; index < 4; index += 1) copy.observe(`b${index}`, 10 * MINUTE + index, create());
      assert.ok(copy.estimate(undefined, 'chat', 'system', 30 * MINUTE).within5m > 0);
    });

    test('memory is bounded: least recently seen prefixes go first', () => {
      const statistics = subject.create(3);
      for (const key of ['a', 'b', 'c']) statistics.observe(key, 0, create());
      statistics.observe('a', 1, undefined);
      statistics.observe('d', 2, create());
      assert.equal(statistics.size, 3);
      assert.equal(statistics.peek('b'), undefined);
      assert.ok(statistics.peek('a'));
    });

    test('class rates are not overstated by recent occurrences whose outcome is still open (Kaplan-Meier)', () => {
      // Each first occurrence comes back after exactly 2 minutes half of the time, else never.
      const statistics = subject.create();
      const occur = (key: string, at: number, returns: boolean) => {
        statistics.observe(key, at, create('rag', 'tail'));
        if (returns) statistics.observe(key, at + 2 * MINUTE, undefined);
      };
      for (let index = 0; index < 10; index += 1) occur(`old-${index}`, 0, index % 2 === 0);
      // Ten more, three minutes old: the five that came back are known, the five others are still open.
      for (let index = 0; index < 10; index += 1) occur(`new-${index}`, 7 * MINUTE, index % 2 === 0);
      const estimate = statistics.estimate(undefined, 'rag', 'tail', 10 * MINUTE);
      // Counting returns at once but misses only after five minutes would say 10 of 15 = 0.67.
      assert.ok(Math.abs(estimate.within5m - 0.5) < 1e-9, `within5m ${estimate.within5m}`);
      assert.ok(Math.abs(estimate.within1h - 0.5) < 1e-9, 'no return seen after two minutes: the curve stays flat');
    });

    test('the 30-minute rate sits between the 5-minute and the 1-hour ones', () => {
      const statistics = subject.create();
      let record;
      for (let call = 0; call < 6; call += 1) record = statistics.observe('p', call * 20 * MINUTE, create());
      const estimate = statistics.estimate(record, 'chat', 'system', 5 * 20 * MINUTE);
      assert.equal(estimate.within5m, 0);
      assert.ok(estimate.within30m > 0.8, `within30m ${estimate.within30m}`);
      assert.ok(estimate.within1h >= estimate.within30m);
      statistics.markLive('p', 0, '30m');
      assert.equal(statistics.peek('p')?.liveTtl, '30m');
    });
  });
}
