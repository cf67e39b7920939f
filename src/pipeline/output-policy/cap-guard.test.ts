import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guardDenominator, newGuardState, poissonUpperBound, recordOutcome, restoreGuardState } from './cap-guard.ts';

const THRESHOLD = 0.01;

test('the Poisson upper bound matches the exact table (95%, one-sided)', () => {
  for (const [count, bound] of [
    [0, 2.996],
    [1, 4.744],
    [2, 6.296],
    [5, 10.513],
  ] as const) {
    assert.ok(Math.abs(poissonUpperBound(count) - bound) < 0.002, `${count}: ${poissonUpperBound(count)}`);
  }
});

test('real cuts raise the cap at once; runaway cuts (not counted) never do', () => {
  const state = newGuardState();
  // Runaway loops cut by the cap arrive as cut: false.
  for (let index = 0; index < 50; index += 1) assert.equal(recordOutcome(state, { cut: false, lowerWouldCut: undefined }, THRESHOLD), undefined);
  // At 1% a share is taken over at least 200 calls: two cuts are 1% (not over it), the third raises.
  assert.equal(guardDenominator(THRESHOLD), 200);
  assert.equal(guardDenominator(0.05), 100);
  assert.equal(recordOutcome(state, { cut: true, lowerWouldCut: undefined }, THRESHOLD), undefined);
  assert.equal(recordOutcome(state, { cut: true, lowerWouldCut: undefined }, THRESHOLD), undefined);
  const raise = recordOutcome(state, { cut: true, lowerWouldCut: undefined }, THRESHOLD);
  assert.deepEqual(raise && { kind: raise.kind, count: raise.count, boostFrom: raise.boostFrom, boostTo: raise.boostTo }, { kind: 'raised', count: 3, boostFrom: 1, boostTo: 2 });
  assert.equal(state.boost, 2);
  assert.deepEqual(state.outcomes, []);
});

test('a raised cap comes back down once the lower one is shown, at 95% confidence, to keep under half the threshold', () => {
  const state = restoreGuardState({ boost: 4 });
  // 3.0 / n <= 0.5% needs 600 calls with no would-be cut.
  for (let index = 1; index < 600; index += 1) assert.equal(recordOutcome(state, { cut: false, lowerWouldCut: false }, THRESHOLD), undefined, `call ${index}`);
  const lowered = recordOutcome(state, { cut: false, lowerWouldCut: false }, THRESHOLD);
  assert.equal(lowered?.kind, 'lowered');
  assert.equal(lowered?.boostTo, 2);
  assert.equal(state.boost, 2);
  assert.ok((lowered?.share ?? 1) <= THRESHOLD / 2);
});

test('no step back while the lower cap would still cut too often; a new raise restarts the evidence', () => {
  const state = restoreGuardState({ boost: 2 });
  // One in 150 would be cut by the lower cap (0.67%): never confidently under 0.5%.
  for (let index = 1; index <= 3000; index += 1) {
    const change = recordOutcome(state, { cut: false, lowerWouldCut: index % 150 === 0 }, THRESHOLD);
    assert.equal(change, undefined, `call ${index}`);
  }
  assert.equal(state.boost, 2);
  assert.ok(state.lowerCalls === 3000 && state.lowerCuts === 20);
  // The window holds 200 calls: 2 cuts are 1% (not over it), the third raises.
  assert.equal(recordOutcome(state, { cut: true, lowerWouldCut: true }, THRESHOLD), undefined);
  assert.equal(recordOutcome(state, { cut: true, lowerWouldCut: true }, THRESHOLD), undefined);
  const raise = recordOutcome(state, { cut: true, lowerWouldCut: true }, THRESHOLD);
  assert.equal(raise?.kind, 'raised');
  assert.deepEqual([state.boost, state.lowerCalls, state.lowerCuts], [4, 0, 0]);
  // The boost never goes below 1, and a state without a raise has nothing to step back to.
  const plain = newGuardState();
  for (let index = 0; index < 1000; index += 1) recordOutcome(plain, { cut: false, lowerWouldCut: false }, THRESHOLD);
  assert.equal(plain.boost, 1);
});

test('saved states are restored defensively, and the old snapshot shape (outcomes + boost) still loads', () => {
  assert.deepEqual(restoreGuardState({ outcomes: [1, 0, 1], boost: 8, lowerCalls: 12, lowerCuts: 1 }), { outcomes: [1, 0, 1], boost: 8, lowerCalls: 12, lowerCuts: 1 });
  assert.deepEqual(restoreGuardState({ outcomes: [0, 1] }, 2), { outcomes: [0, 1], boost: 2, lowerCalls: 0, lowerCuts: 0 });
  assert.deepEqual(restoreGuardState({ boost: -3, lowerCalls: Number.NaN } as never), { outcomes: [], boost: 1, lowerCalls: 0, lowerCuts: 0 });
});

test('a small threshold widens the window so that its share is still over at least 2 / threshold calls', () => {
  const state = newGuardState();
  for (let index = 0; index < 1000; index += 1) recordOutcome(state, { cut: false, lowerWouldCut: undefined }, 0.005);
  assert.equal(state.outcomes.length, 400);
  assert.equal(recordOutcome(state, { cut: true, lowerWouldCut: undefined }, 0.005), undefined);
  assert.equal(recordOutcome(state, { cut: true, lowerWouldCut: undefined }, 0.005), undefined);
  assert.equal(recordOutcome(state, { cut: true, lowerWouldCut: undefined }, 0.005)?.kind, 'raised');
});
