import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuantileSketch } from './quantile-sketch.ts';

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return state / 4294967296;
  };
}

test('quantiles are within the bucket width of the exact ones, and never below them', () => {
  const random = seeded(7);
  const values = Array.from({ length: 5000 }, () => Math.round(Math.exp(4 + 1.2 * Math.sqrt(-2 * Math.log(random() || 1e-9)) * Math.cos(2 * Math.PI * random()))));
  const sketch = new QuantileSketch({ halfLifeWeight: 1e9 });
  for (const value of values) sketch.add(value);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.95, 0.99]) {
    const exact = sorted[Math.ceil(q * sorted.length) - 1] ?? 0;
    const estimate = sketch.quantile(q) ?? 0;
    assert.ok(estimate >= exact, `q${q}: ${estimate} >= ${exact}`);
    assert.ok(estimate <= exact * 1.021 + 1, `q${q}: ${estimate} within 2% of ${exact}`);
  }
});

test('zeros, empty sketches and the tail mean', () => {
  const sketch = new QuantileSketch();
  assert.equal(sketch.quantile(0.5), undefined);
  for (let index = 0; index < 90; index += 1) sketch.add(0);
  for (let index = 0; index < 10; index += 1) sketch.add(1000);
  assert.equal(sketch.quantile(0.5), 0);
  assert.ok(Math.abs((sketch.quantile(0.95) ?? 0) - 1000) <= 20);
  assert.ok(Math.abs((sketch.meanAbove(500) ?? 0) - 1000) <= 20);
  assert.equal(sketch.meanAbove(5000), undefined);
  assert.ok(Math.abs(sketch.shareAbove(500) - 0.1) < 1e-9);
});

test('forgetting: after a shift, the sketch follows the new distribution', () => {
  const sketch = new QuantileSketch({ halfLifeWeight: 500 });
  for (let index = 0; index < 2000; index += 1) sketch.add(100);
  for (let index = 0; index < 2000; index += 1) sketch.add(1000);
  const median = sketch.quantile(0.5) ?? 0;
  assert.ok(median >= 980 && median <= 1020, `median ${median}`);
  assert.ok(sketch.weight <= 500);
});

test('round-trips through JSON', () => {
  const sketch = new QuantileSketch();
  for (let value = 1; value <= 300; value += 1) sketch.add(value);
  const copy = QuantileSketch.fromJSON(JSON.parse(JSON.stringify(sketch)) as ReturnType<QuantileSketch['toJSON']>);
  assert.equal(copy.quantile(0.99), sketch.quantile(0.99));
  assert.equal(Math.round(copy.weight), 300);
});
