import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CacheRules, CacheTtl } from '../../providers/cache-layout.ts';
import { type Candidate, DEFAULT_RATIOS, type PlanInput, planBreakpoints, steadyValue } from './plan-breakpoints.ts';
import type { ReuseEstimate } from './prefix-statistics.ts';

const ANTHROPIC: CacheRules = { minimumTokens: 1024, minimumRule: 'cumulative', ttls: ['5m', '1h'], maxBreakpoints: 4, lookbackBlocks: 20 };

const estimate = (within5m: number, within1h: number, within30m = within5m): ReuseEstimate => ({ within5m, within30m, within1h, ownGaps: 10, classEvidence: 10 });
const candidate = (index: number, reuse: ReuseEstimate, kind: Candidate['kind'] = 'system'): Candidate => ({ index, kind, key: `k${index}`, estimate: reuse });

function input(overrides: Partial<PlanInput> & { candidates: Candidate[] }): PlanInput {
  return {
    cumulative: Array.from({ length: 40 }, (_, index) => (index + 1) * 2000),
    client: new Map(),
    live: new Map(),
    rules: ANTHROPIC,
    ratios: DEFAULT_RATIOS,
    ...overrides,
  };
}

test('the TTL follows the reuse interval: frequent -> 5m, 5-60 minutes -> 1h, never -> no breakpoint', () => {
  const frequent = planBreakpoints(input({ candidates: [candidate(3, estimate(0.97, 0.98))] }));
  assert.deepEqual(frequent.placements.map((placement) => placement.ttl), ['5m']);
  const hourly = planBreakpoints(input({ candidates: [candidate(3, estimate(0.05, 0.9))] }));
  assert.deepEqual(hourly.placements.map((placement) => placement.ttl), ['1h']);
  const never = planBreakpoints(input({ candidates: [candidate(3, estimate(0.1, 0.2))] }));
  assert.equal(never.placements.length, 0);
  // 5m pays once p5 > 0.25 / (0.9 + 0.25) = 0.217; 1h once p1h > 1 / 1.9 = 0.526.
  assert.equal(planBreakpoints(input({ candidates: [candidate(3, estimate(0.2, 0.2))] })).placements.length, 0);
  assert.equal(planBreakpoints(input({ candidates: [candidate(3, estimate(0.24, 0.24))] })).placements[0]?.ttl, '5m');
  assert.equal(planBreakpoints(input({ candidates: [candidate(3, estimate(0, 0.55))] })).placements[0]?.ttl, '1h');
});

test('expected value is recorded in tokens and picodollars', () => {
  const plan = planBreakpoints(input({ candidates: [candidate(0, estimate(0.5, 0.5))], ratios: { ...DEFAULT_RATIOS, inputPicodollarsPerToken: 3_000_000 } }));
  // 2000 tokens * (0.5 * 0.9 - 0.5 * 0.25) = 650 tokens, at $3/MTok.
  assert.equal(Math.round(plan.expectedTokens), 650);
  assert.equal(plan.expectedPicodollars, 650 * 3_000_000);
});

test('never more than 4 breakpoints in all; client markers count and are kept', () => {
  // Each longer prefix comes back less often, so each boundary is worth its own breakpoint.
  const many = [1, 3, 5, 7, 9, 11].map((index, order) => candidate(index, estimate(0.99 - order * 0.1, 0.99 - order * 0.1), 'document'));
  assert.equal(planBreakpoints(input({ candidates: many })).placements.length, 4);
  const client = new Map<number, CacheTtl>([[0, '5m'], [2, '5m'], [4, '5m']]);
  const withClient = planBreakpoints(input({ candidates: many, client }));
  assert.equal(withClient.placements.length, 1);
  assert.ok(withClient.placements.every((placement) => !client.has(placement.index)));
  const full = new Map<number, CacheTtl>([[0, '5m'], [2, '5m'], [4, '5m'], [6, '5m']]);
  assert.equal(planBreakpoints(input({ candidates: many, client: full })).placements.length, 0);
});

test('1h entries never follow a 5m one: after a client 5m marker only 5m is added', () => {
  const client = new Map<number, CacheTtl>([[1, '5m']]);
  const plan = planBreakpoints(input({ candidates: [candidate(5, estimate(0.3, 0.95))], client }));
  assert.ok(plan.placements.every((placement) => placement.ttl === '5m'));
  // And a 1h pick before a client 1h marker is fine.
  const before = planBreakpoints(input({ candidates: [candidate(1, estimate(0.1, 0.95))], client: new Map([[5, '1h']]) }));
  assert.deepEqual(before.placements.map((placement) => placement.ttl), ['1h']);
});

test('per-model minimums: cumulative on Anthropic, spacing between checkpoints on Bedrock', () => {
  const cumulative = [600, 900, 1500, 2200, 3000];
  const reuse = estimate(0.99, 0.99);
  const anthropic = planBreakpoints(input({ cumulative, candidates: [candidate(1, reuse), candidate(2, reuse), candidate(3, reuse, 'document')] }));
  assert.ok(anthropic.placements.every((placement) => (cumulative[placement.index] ?? 0) >= 1024));
  assert.ok(!anthropic.placements.some((placement) => placement.index === 1), 'a 900-token prefix is below the minimum');
  const bedrock = { ...ANTHROPIC, minimumRule: 'spacing' as const };
  const plan = planBreakpoints(input({ cumulative, rules: bedrock, candidates: [candidate(2, reuse), candidate(3, reuse, 'document'), candidate(4, reuse, 'tail')] }));
  const indexes = plan.placements.map((placement) => placement.index);
  let previous = 0;
  for (const index of indexes) {
    assert.ok((cumulative[index] ?? 0) - previous >= 1024, `checkpoint ${index} is ${(cumulative[index] ?? 0) - previous} tokens after the one before`);
    previous = cumulative[index] ?? 0;
  }
  assert.ok(indexes.length >= 1);
});

test('20-block lookback: a live entry further back than 20 blocks gets its own (reading) breakpoint', () => {
  const cumulative = Array.from({ length: 40 }, (_, index) => 2000 + index * 100);
  const tail = candidate(35, estimate(0.9, 0.9), 'tail');
  const live = new Map<number, CacheTtl>([[10, '5m']]);
  const far = planBreakpoints(input({ cumulative, candidates: [candidate(10, estimate(0.9, 0.9), 'live'), tail], live }));
  assert.deepEqual(far.placements.map((placement) => [placement.index, placement.live]), [[10, true], [35, false]]);
  // Within reach, the tail's own lookback finds the entry: no marker is spent on it.
  const near = planBreakpoints(input({ cumulative, candidates: [candidate(20, estimate(0.9, 0.9), 'live'), { ...tail, index: 30 }], live: new Map([[20, '5m']]) }));
  assert.deepEqual(near.placements.map((placement) => placement.index), [30]);
  assert.ok(near.readTokens > 0);
});

test('a marker on a live entry keeps its TTL', () => {
  const plan = planBreakpoints(input({ candidates: [candidate(30, estimate(0.99, 0.99), 'live')], live: new Map([[30, '1h']]) }));
  assert.deepEqual(plan.placements.map((placement) => placement.ttl), ['1h']);
});

const OPENAI: CacheRules = { minimumTokens: 1024, minimumRule: 'cumulative', ttls: ['30m'], maxBreakpoints: 4, lookbackBlocks: 1 };

test('OpenAI explicit: 30-minute TTL from the 30-minute reuse rate, and a live entry is read only through a marker on it', () => {
  // Reuse every 10-20 minutes: no 5m entry would survive, a 30m one does.
  const plan = planBreakpoints(input({ rules: OPENAI, candidates: [candidate(3, estimate(0, 0.95, 0.9))] }));
  assert.deepEqual(plan.placements.map((placement) => placement.ttl), ['30m']);
  assert.ok(steadyValue(estimate(0, 0.95, 0.9), '30m', DEFAULT_RATIOS) > 0);
  assert.ok(steadyValue(estimate(0.9, 0.95, 0.1), '30m', DEFAULT_RATIOS) > 0, 'a 30m entry is read at least as often as a 5m one');
  // Entry alive at block 5; a breakpoint at block 6 does not reach it (no lookback), one on block 5 does.
  const live = new Map<number, CacheTtl>([[5, '30m']]);
  const reading = planBreakpoints(input({ rules: OPENAI, live, candidates: [candidate(5, estimate(0.5, 0.5), 'live'), candidate(6, estimate(0.1, 0.1, 0.1), 'tail')] }));
  assert.deepEqual(reading.placements.map((placement) => [placement.index, placement.live]), [[5, true]]);
  assert.equal(reading.readTokens, 12_000);
  const anthropic = planBreakpoints(input({ live: new Map([[5, '5m']]), candidates: [candidate(6, estimate(0.9, 0.9), 'tail')] }));
  assert.equal(anthropic.readTokens, 12_000, 'Anthropic looks back 20 blocks from the breakpoint');
});
