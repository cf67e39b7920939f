import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { RecentCalls } from './recent-calls.ts';

const call = (prompt: string) => ({ model: 'm', feature: 'f', prompt, tiers: ['a', 'm'] });

/** The recent-call memory as the router and the feedback route use it, on every implementation. */
export function recentCallsSuite(
  name: string,
  create: (maxEntries: number, maxAgeMs: number, clock: () => number, maxCharacters?: number) => RecentCalls,
  cleanup: () => Promise<void> = async () => {},
): void {
  describe(`recent calls: ${name}`, () => {
    after(cleanup);

    test('recent calls are bounded by count, by prompt characters and by age', () => {
      let now = 0;
      const byCount = create(2, 1000, () => now);
      byCount.remember('a', call('x'));
      byCount.remember('b', call('y'));
      byCount.remember('c', call('z'));
      assert.equal(byCount.get('a'), undefined);
      assert.equal(byCount.get('c')?.prompt, 'z');

      const byCharacters = create(100, 1000, () => now, 10);
      byCharacters.remember('a', call('12345'));
      byCharacters.remember('b', call('12345'));
      byCharacters.remember('c', call('123'));
      assert.equal(byCharacters.get('a'), undefined);
      assert.equal(byCharacters.size, 2);

      now = 500;
      const byAge = create(100, 1000, () => now);
      byAge.remember('a', call('x'));
      now = 1600;
      assert.equal(byAge.get('a'), undefined);
      assert.equal(byAge.size, 0);
    });

    test('lookup finds what was remembered, with its prompt and caller', async () => {
      const calls = create(100, 60_000, Date.now);
      calls.remember('kept', { ...call('what is the refund policy'), apiKeyId: 'key-1' });
      const found = await calls.lookup('kept');
      assert.equal(found?.prompt, 'what is the refund policy');
      assert.equal(found?.apiKeyId, 'key-1');
      assert.deepEqual(found?.tiers, ['a', 'm']);
      assert.equal(await calls.lookup('never'), undefined);
    });
  });
}
