import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { routerConfigSchema } from '../../config/router-config.ts';
import { trainRouterModel, type TrainingExample } from './model/router-model.ts';
import { classify, createPolicyResolver } from './router-policy.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-router-policy-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function routerFile(name: string, embedding = false): string {
  const examples: TrainingExample[] = Array.from({ length: 30 }, (_, index) => ({
    prompt: index % 2 ? `hard proof ${index}` : `easy hello ${index}`,
    outcomes: { small: index % 2 ? 0 : 1, large: 1 },
    ...(embedding ? { embedding: [index % 2, 1 - (index % 2)] } : {}),
  }));
  const path = join(folder, name);
  writeFileSync(path, JSON.stringify(trainRouterModel(examples, ['small', 'large'], { features: { wordBits: 10, charBits: 10 } })));
  return path;
}

test('policies merge the default with the feature; off or tierless policies route nothing', () => {
  const config = routerConfigSchema.parse({
    enabled: true,
    default: { strategy: 'cascade', tiers: ['a', 'b'] },
    features: { quiet: { strategy: 'off' }, strict: { cascade: { threshold: 0.8 } } },
  });
  const resolve = createPolicyResolver(config, folder);
  assert.equal(resolve('quiet'), undefined);
  assert.equal(resolve('strict')?.cascade.threshold, 0.8);
  assert.deepEqual(resolve('anything')?.tiers, ['a', 'b']);
  assert.equal(resolve(undefined)?.cascade.threshold, 0.5);
  assert.equal(resolve('anything')?.capturePrompts, true);
});

test('classifier policies fail at startup on a missing file, an unknown tier model or an embedding router', () => {
  const classifier = (file: string, tiers = ['small', 'large'], models = {}) =>
    routerConfigSchema.parse({ enabled: true, features: { f: { strategy: 'classifier', tiers, classifier: { file, models } } } });
  assert.throws(() => createPolicyResolver(classifier(join(folder, 'missing.json')), folder), /cannot read the classifier file/);
  const file = routerFile('router.json');
  assert.throws(() => createPolicyResolver(classifier(file, ['small', 'gpt-4o']), folder), /no model "gpt-4o"/);
  assert.ok(createPolicyResolver(classifier(file, ['small', 'gpt-4o'], { 'gpt-4o': 'large' }), folder)('f'));
  assert.throws(() => createPolicyResolver(classifier(routerFile('embedded.json', true)), folder), /trained with prompt embeddings/);
  assert.throws(() => createPolicyResolver(routerConfigSchema.parse({ enabled: true, features: { f: { strategy: 'classifier', tiers: ['a', 'b'] } } }), folder), /needs classifier.file/);
});

test('classify picks the cheapest tier within the quality target of the strongest', () => {
  const config = routerConfigSchema.parse({ enabled: true, features: { f: { strategy: 'classifier', tiers: ['small', 'large'], classifier: { file: 'router.json', qualityTarget: 0.9 } } } });
  const policy = createPolicyResolver(config, folder)('f');
  assert.ok(policy);
  const easy = classify(policy, 'easy hello 4');
  const hard = classify(policy, 'hard proof 3');
  assert.equal(easy.index, 0);
  assert.equal(hard.index, 1);
  assert.ok((hard.probabilities.small ?? 1) < 0.9 * (hard.probabilities.large ?? 0));
});
