import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPlatt, fitPlatt } from './calibration.ts';
import { fitLogistic, logit, sigmoid } from './logistic-regression.ts';
import { assignFolds, createRandom, loadRouterModel, rocAuc, trainRouterModel, type TrainingExample } from './router-model.ts';
import { createFeaturizer, fitFeatures, type SparseRow } from './text-features.ts';

const row = (pairs: Array<[number, number]>): SparseRow => ({ indices: Int32Array.from(pairs.map(([index]) => index)), values: Float32Array.from(pairs.map(([, value]) => value)) });

test('logistic regression reaches the maximum-likelihood answer: per-group positive rates', () => {
  // Feature 0 marks group B. Group A: 1 positive in 4; group B: 3 in 4.
  const rows = [...Array.from({ length: 4 }, () => row([])), ...Array.from({ length: 4 }, () => row([[0, 1]]))];
  const labels = [1, 0, 0, 0, 1, 1, 1, 0];
  const model = fitLogistic(rows, labels, 1, { lambda: 1e-9, maxIterations: 500, tolerance: 1e-10 });
  assert.ok(Math.abs(sigmoid(logit(model, row([]))) - 0.25) < 1e-3);
  assert.ok(Math.abs(sigmoid(logit(model, row([[0, 1]]))) - 0.75) < 1e-3);
});

test('logistic regression takes soft labels and shrinks weights as lambda grows', () => {
  const rows = Array.from({ length: 50 }, () => row([]));
  const constant = fitLogistic(rows, Array.from({ length: 50 }, () => 0.3), 1, { lambda: 0.01 });
  assert.ok(Math.abs(sigmoid(constant.bias) - 0.3) < 1e-6);
  const signalRows = Array.from({ length: 40 }, (_, index) => row([[0, index % 2 === 0 ? 1 : -1]]));
  const signalLabels = Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? 0.9 : 0.1));
  const loose = fitLogistic(signalRows, signalLabels, 1, { lambda: 1e-4 });
  const tight = fitLogistic(signalRows, signalLabels, 1, { lambda: 1 });
  assert.ok((loose.weights[0] ?? 0) > (tight.weights[0] ?? 0));
  assert.ok((tight.weights[0] ?? 0) > 0);
});

test('Platt scaling recovers a known squash of the logits', () => {
  const logits = Array.from({ length: 2000 }, (_, index) => -4 + (8 * index) / 1999);
  const labels = logits.map((z) => sigmoid(2 * z + 1));
  const scaling = fitPlatt(logits, labels);
  assert.ok(Math.abs(scaling.a - 2) < 0.1, `a = ${scaling.a}`);
  assert.ok(Math.abs(scaling.b - 1) < 0.1, `b = ${scaling.b}`);
  assert.ok(Math.abs(applyPlatt(scaling, 0) - sigmoid(1)) < 0.02);
});

test('ROC AUC, folds and the seeded random are what they claim', () => {
  // Positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of 4 pairs ordered right.
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(rocAuc([0.1, 0.2], [1, 1]), null);
  const folds = assignFolds(10, 3, 7);
  const sizes = [0, 1, 2].map((fold) => folds.filter((value) => value === fold).length);
  assert.deepEqual(sizes, [4, 3, 3]);
  assert.deepEqual(Array.from(assignFolds(10, 3, 7)), Array.from(folds));
  const random = createRandom(1);
  const again = createRandom(1);
  assert.equal(random(), again());
});

test('features: TF-IDF blocks are unit length, statistics standardised, identical text gives identical rows', () => {
  const texts = ['the cat sat on the mat', 'the dog sat on the log', 'a proof of the prime number theorem', 'cat and dog'];
  const featurizer = createFeaturizer(fitFeatures(texts, { wordBits: 12, charBits: 12 }));
  const first = featurizer.transform(texts[0] as string);
  const second = featurizer.transform(texts[0] as string);
  assert.deepEqual(Array.from(first.indices), Array.from(second.indices));
  assert.deepEqual(Array.from(first.values), Array.from(second.values));
  const wordSize = 1 << 12;
  let wordNorm = 0;
  first.indices.forEach((index, position) => {
    if (index < wordSize) wordNorm += (first.values[position] ?? 0) ** 2;
  });
  assert.ok(Math.abs(wordNorm - 1) < 1e-5);
});

test('a trained router learns a real signal, survives a JSON round trip, and estimates costs', () => {
  const random = createRandom(3);
  const topics = { hard: ['integral', 'theorem', 'proof', 'derivative', 'lemma'], easy: ['hello', 'thanks', 'weather', 'lunch', 'greeting'] };
  const examples: TrainingExample[] = [];
  for (let index = 0; index < 240; index += 1) {
    const hard = index % 2 === 0;
    const words = hard ? topics.hard : topics.easy;
    const prompt = Array.from({ length: 6 }, () => words[Math.floor(random() * words.length)]).join(' ');
    // The weak model fails most hard prompts; noise keeps it from being separable.
    const weakGood = hard ? (random() < 0.2 ? 1 : 0) : random() < 0.9 ? 1 : 0;
    examples.push({ prompt, outcomes: { weak: weakGood, strong: 1 }, costs: { weak: 0.001, strong: 0.01 + prompt.length * 1e-5 } });
  }
  const train = examples.slice(0, 180);
  const test = examples.slice(180);
  const file = trainRouterModel(train, ['weak', 'strong'], { features: { wordBits: 12, charBits: 12 } });
  const router = loadRouterModel(JSON.parse(JSON.stringify(file)));
  const predictions = test.map((example) => router.predict(example.prompt).weak ?? 0);
  const auc = rocAuc(predictions, test.map((example) => example.outcomes.weak ?? 0));
  assert.ok(auc !== null && auc > 0.8, `held-out AUC ${auc}`);
  const original = loadRouterModel(file);
  assert.ok(Math.abs((original.predict(test[0]?.prompt ?? '').weak ?? 0) - (predictions[0] ?? 0)) < 1e-6);
  assert.ok(file.models.weak && file.models.weak.heldOutAuc !== null && file.models.weak.heldOutAuc > 0.8);
  const estimate = router.estimatedCost('strong', 'x'.repeat(100)) ?? 0;
  assert.ok(Math.abs(estimate - (0.01 + 100 * 1e-5)) < 1e-6, `estimated ${estimate}`);
});
