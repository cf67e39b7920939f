import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutputStatistics, type CapSettings } from './output-statistics.ts';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return state / 4294967296;
  };
}

function logNormal(random: () => number, median: number, sigma: number): number {
  return Math.max(1, Math.round(median * Math.exp(sigma * Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random()))));
}

function pareto(random: () => number, minimum: number, alpha: number): number {
  return Math.round(minimum / (1 - random()) ** (1 / alpha));
}

const SETTINGS: CapSettings = { percentile: 0.99, headroom: 1.25, floor: 1, minSamples: 100, targetTruncation: 0.0025 };

function exceedance(cap: number, draw: () => number, count: number): number {
  let above = 0;
  for (let index = 0; index < count; index += 1) if (draw() > cap) above += 1;
  return above / count;
}

test('a learned cap cuts at most the target share of ordinary answers, light tail or heavy; p99 x headroom alone does not', () => {
  const random = seeded(11);
  const shapes: Array<[string, () => number]> = [
    ['log-normal sigma 0.5', () => logNormal(random, 180, 0.5)],
    ['log-normal sigma 0.9', () => logNormal(random, 120, 0.9)],
    ['log-normal sigma 1.3', () => logNormal(random, 60, 1.3)],
    ['pareto alpha 2.5', () => pareto(random, 40, 2.5)],
  ];
  for (const [name, draw] of shapes) {
    const statistics = new OutputStatistics();
    for (let index = 0; index < 4000; index += 1) statistics.observe('f', { visible: draw(), reasoning: undefined, model: 'm', uncapped: true, unclamped: true, reasoningSetting: 'default' });
    const cap = statistics.visibleCap('f', SETTINGS) ?? 0;
    const share = exceedance(cap, draw, 40_000);
    assert.ok(share <= 0.0035, `${name}: cap ${cap} cuts ${(share * 100).toFixed(3)}%`);
    if (name === 'log-normal sigma 0.9' || name === 'log-normal sigma 1.3') {
      const old = statistics.visibleCap('f', { ...SETTINGS, targetTruncation: 0.01 }) ?? 0;
      assert.ok(exceedance(old, draw, 40_000) > 0.004, `${name}: p99 x 1.25 (${old}) cuts more than the target`);
    }
  }
});

test('rare runaways do not move the cap; the guard boost scales it and its step-back value is half', () => {
  const random = seeded(5);
  const statistics = new OutputStatistics();
  for (let index = 0; index < 1000; index += 1) {
    const runaway = index % 250 === 17;
    statistics.observe('f', { visible: runaway ? 20_000 : logNormal(random, 200, 0.5), reasoning: undefined, model: 'm', uncapped: true, unclamped: true, reasoningSetting: 'default' });
  }
  const cap = statistics.answerCap('f', SETTINGS);
  assert.ok(cap && cap.value < 2000, `cap ${cap?.value}`);
  assert.equal(cap.lower, undefined);
  for (let index = 0; index < 3; index += 1) statistics.judge('f', 'answer', { cut: true, lowerWouldCut: undefined }, 0.01, 0);
  const raised = statistics.answerCap('f', SETTINGS);
  assert.ok(raised && Math.abs(raised.value - 2 * cap.value) <= 1 && Math.abs((raised.lower ?? 0) - cap.value) <= 1);
  assert.equal(statistics.alerts()[0]?.kind, 'raised');
});

test('answers a cap stopped in a loop are counted as runaways, not as lengths', () => {
  const random = seeded(3);
  const statistics = new OutputStatistics();
  for (let index = 0; index < 1000; index += 1) {
    const runaway = index % 20 === 0;
    statistics.observe('f', { visible: runaway ? 4096 : logNormal(random, 120, 0.6), reasoning: undefined, model: 'm', uncapped: true, unclamped: true, reasoningSetting: 'default', runaway });
  }
  assert.equal(statistics.runaways('f'), 50);
  const cap = statistics.visibleCap('f', SETTINGS) ?? 0;
  assert.ok(cap < 1200, `5% runaways do not reach the cap: ${cap}`);
  assert.equal(statistics.expectedVisibleAbove('f', 2000), undefined, 'nor the counterfactual of a cut answer');
});

test('learned thinking budgets come only from calls that enabled thinking, never below 1024, and survive a snapshot', () => {
  const random = seeded(9);
  const statistics = new OutputStatistics();
  for (let index = 0; index < 300; index += 1) {
    statistics.observe('agent', { visible: 100, reasoning: logNormal(random, 2000, 0.3), model: 'claude', uncapped: true, unclamped: true, reasoningSetting: 'thinking:16000', thinkingBudget: 16000 });
    // Calls without thinking report 0 reasoning: they must not drag the budget down.
    statistics.observe('agent', { visible: 100, reasoning: 0, model: 'claude', uncapped: true, unclamped: true, reasoningSetting: 'default' });
  }
  const budget = statistics.thinkingBudget('agent', 'claude', SETTINGS);
  assert.ok(budget && budget.value > 2000 * Math.exp(0.3 * 2.33) && budget.value < 8000, `budget ${budget?.value}`);
  assert.equal(statistics.thinkingBudget('agent', 'other-model', SETTINGS), undefined);
  const tiny = new OutputStatistics();
  for (let index = 0; index < 200; index += 1) tiny.observe('f', { visible: 5, reasoning: 50, model: 'claude', uncapped: true, unclamped: true, reasoningSetting: 'thinking:2048', thinkingBudget: 2048 });
  assert.equal(tiny.thinkingBudget('f', 'claude', SETTINGS)?.value, 1024);

  for (let index = 0; index < 3; index += 1) statistics.judge('agent', 'thinking', { cut: true, lowerWouldCut: undefined }, 0.01, index);
  const restored = OutputStatistics.fromSnapshot(JSON.parse(JSON.stringify(statistics.snapshot())));
  assert.deepEqual(restored.thinkingBudget('agent', 'claude', SETTINGS), statistics.thinkingBudget('agent', 'claude', SETTINGS));
  assert.equal(restored.thinkingBudget('agent', 'claude', SETTINGS)?.lower, budget.value);
  assert.deepEqual(restored.alerts().map((event) => [event.cap, event.kind]), [['thinking', 'raised']]);
});

test('a snapshot from before guards could step back loads its boost and alerts', () => {
  const restored = OutputStatistics.fromSnapshot({
    version: 1,
    features: { chat: { visible: { zero: 0, buckets: { '300': 120 } }, unshapedVisible: { zero: 0, buckets: {} }, reasoning: {}, unshapedReasoning: {}, outcomes: [1, 0], boost: 4 } },
    alerts: [{ feature: 'chat', at: 1, count: 2, calls: 100, share: 0.02, boostFrom: 2, boostTo: 4 } as never],
  });
  assert.equal(restored.boost('chat'), 4);
  assert.deepEqual(restored.alerts().map((event) => [event.cap, event.kind]), [['answer', 'raised']]);
});
