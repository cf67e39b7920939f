import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RoutingExample } from '../analytics/routing/routing-dataset.ts';
import { loadRouterModel, trainRouterModel } from '../pipeline/router/model/router-model.ts';
import { embedExamples } from './router-data.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-router-embed-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** A four-word GloVe table: two "maths" words along one axis, two "chat" words along another. */
function tinyGlove(): string {
  const words = ['integral', 'theorem', 'hello', 'thanks'];
  const vectors = Int8Array.from([127, 0, 0, 120, 10, 0, 0, 127, 0, 5, 120, 0]);
  writeFileSync(join(folder, 'vocab.txt'), `${words.join('\n')}\n`);
  writeFileSync(join(folder, 'vectors.int8.bin'), Buffer.from(vectors.buffer));
  const scales = Buffer.alloc(16);
  for (let row = 0; row < 4; row += 1) scales.writeFloatLE(1, row * 4);
  writeFileSync(join(folder, 'scales.f32le.bin'), scales);
  return folder;
}

test('the embedding variant: prompts embedded with a local embedder, the vector becomes features', async () => {
  const examples: RoutingExample[] = [];
  for (let index = 0; index < 40; index += 1) {
    const hard = index % 2 === 0;
    // Word choice alone (not shared n-grams) separates the classes once embedded.
    examples.push({ prompt: hard ? (index % 4 === 0 ? 'integral' : 'theorem') : index % 4 === 1 ? 'hello' : 'thanks', outcomes: { weak: hard ? 0 : 1, strong: 1 } });
  }
  examples.push({ prompt: 'zzz unknown', outcomes: { weak: 1, strong: 1 } });
  const id = await embedExamples(examples, `glove:${tinyGlove()}`);
  assert.match(id, /^glove:4x3$/);
  assert.equal(examples.at(-1)?.embedding?.length, 3);
  assert.deepEqual(Array.from(examples.at(-1)?.embedding ?? []), [0, 0, 0]);
  const file = trainRouterModel(examples, ['weak', 'strong'], { embeddingModel: id, features: { wordBits: 10, charBits: 10 } });
  assert.equal(file.embeddingModel, id);
  assert.equal(file.features.embeddingDimensions, 3);
  const router = loadRouterModel(file);
  const hard = examples[0] as RoutingExample;
  const easy = examples[1] as RoutingExample;
  assert.ok((router.predict(hard.prompt, hard.embedding).weak ?? 1) < (router.predict(easy.prompt, easy.embedding).weak ?? 0));
  assert.throws(() => router.predict('integral'), /embedding/);
});
