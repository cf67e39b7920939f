import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Boundary, modeValues } from './openai-explicit-plan.ts';
import { DEFAULT_RATIOS, type Plan } from './plan-breakpoints.ts';
import type { ReuseEstimate } from './prefix-statistics.ts';

const known = (p: number): ReuseEstimate => ({ within5m: p, within30m: p, within1h: p, ownGaps: 5, classEvidence: 10 });
const unknown: ReuseEstimate = { within5m: 0, within30m: 0, within1h: 0, ownGaps: 0, classEvidence: 1 };
const plan = (...indexes: number[]): Plan => ({
  placements: indexes.map((index) => ({ index, ttl: '30m', kind: 'system', segmentTokens: 0, live: false, within5m: 0.95, within30m: 0.95, within1h: 0.95, expectedTokens: 0 })),
  expectedTokens: 0,
  readTokens: 0,
  expectedPicodollars: 0,
});

// A 3,000-token system prompt (block 0) and a 1,000-token question (block 1).
const cumulative = [3000, 4000];

test('a question that never comes back: explicit mode with the system prompt marked beats writing it every call', () => {
  const boundaries: Boundary[] = [
    { index: 0, estimate: known(0.95), markable: true },
    { index: 1, estimate: known(0), markable: true },
  ];
  const values = modeValues(boundaries, plan(0), cumulative, 1024, DEFAULT_RATIOS);
  // explicit: 3000 * (0.95 * 0.9 - 0.05 * 0.25); implicit adds 1000 * -0.25.
  assert.ok(Math.abs(values.explicit - 3000 * (0.95 * 0.9 - 0.05 * 0.25)) < 1e-6);
  assert.ok(Math.abs(values.implicit - (values.explicit - 250)) < 1e-6);
  assert.equal(values.evidence, true);
});

test('without evidence about the question, implicit caching (the provider default) is kept', () => {
  const boundaries: Boundary[] = [
    { index: 0, estimate: known(0.95), markable: true },
    { index: 1, estimate: unknown, markable: true },
  ];
  assert.equal(modeValues(boundaries, plan(0), cumulative, 1024, DEFAULT_RATIOS).evidence, false);
});

test('a reused prefix no breakpoint can end (Responses instructions) is worth more under implicit caching', () => {
  const boundaries: Boundary[] = [
    { index: 0, estimate: known(0.95), markable: false },
    { index: 1, estimate: known(0), markable: false },
  ];
  const values = modeValues(boundaries, plan(), cumulative, 1024, DEFAULT_RATIOS);
  assert.equal(values.explicit, 0);
  assert.ok(values.implicit > 2000);
});
