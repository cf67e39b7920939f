import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentCalls } from './recent-calls.ts';

const call = (prompt: string) => ({ model: 'm', feature: 'f', prompt, tiers: ['a', 'm'] });

test('recent calls are bounded by count, by prompt characters and by age', () => {
  let now = 0;
  const byCount = new RecentCalls(2, 1000, () => now);
  byCount.remember('a', call('x'));
  byCount.remember('b', call('y'));
  byCount.remember('c', call('z'));
  assert.equal(byCount.get('a'), undefined);
  assert.equal(byCount.get('c')?.prompt, 'z');

  const byCharacters = new RecentCalls(100, 1000, () => now, 10);
  byCharacters.remember('a', call('12345'));
  byCharacters.remember('b', call('12345'));
  byCharacters.remember('c', call('123'));
  assert.equal(byCharacters.get('a'), undefined);
  assert.equal(byCharacters.size, 2);

  now = 500;
  const byAge = new RecentCalls(100, 1000, () => now);
  byAge.remember('a', call('x'));
  now = 1600;
  assert.equal(byAge.get('a'), undefined);
  assert.equal(byAge.size, 0);
});
