import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GloveEmbedder } from './glove-embedder.ts';
import { OnnxEmbedder } from './onnx-embedder.ts';
import { writeTinyGlove } from './testing/tiny-glove.ts';
import { dot } from './vector-index.ts';

test('GloVe stand-in: averaged, unit length, order-blind, undefined without a known word', async () => {
  const embedder = new GloveEmbedder(writeTinyGlove());
  assert.equal(embedder.id, 'glove:53x24');
  const { vectors, calls } = await embedder.embed(['what is the refund policy', 'the refund policy is what', 'zzz qqq']);
  const [first, reordered, unknown] = vectors;
  assert.ok(first && reordered);
  assert.ok(Math.abs(dot(first, first) - 1) < 1e-5);
  assert.ok(Math.abs(dot(first, reordered) - 1) < 1e-5);
  assert.equal(unknown, undefined);
  assert.deepEqual(calls, []);
});

test('ONNX embedder: loads the model lazily once, mean-pools and normalizes', async () => {
  let loads = 0;
  const requested: unknown[] = [];
  const embedder = new OnnxEmbedder('./models/minilm', async () => {
    loads += 1;
    return {
      env: { allowRemoteModels: false },
      pipeline: async (_task, model, options) => {
        requested.push([model, options]);
        return async (texts) => ({ data: Float32Array.from(texts.flatMap((_text, index) => [3, 4 * (index + 1)])), dims: [texts.length, 2] });
      },
    };
  });
  assert.equal(loads, 0, 'nothing loads at construction');
  const { vectors } = await embedder.embed(['a', 'b']);
  await embedder.embed(['c']);
  assert.equal(loads, 1);
  assert.deepEqual(requested, [['./models/minilm', { local_files_only: true }]]);
  assert.ok(Math.abs((vectors[0]?.[0] ?? 0) - 0.6) < 1e-6 && Math.abs((vectors[0]?.[1] ?? 0) - 0.8) < 1e-6);
});

test('ONNX embedder without the optional package names the package to install', async () => {
  const embedder = new OnnxEmbedder('Xenova/all-MiniLM-L6-v2', () => Promise.reject(new Error('Cannot find package')));
  await assert.rejects(embedder.embed(['x']), /npm install @huggingface\/transformers/);
});
