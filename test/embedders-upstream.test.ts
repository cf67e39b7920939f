import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { UpstreamClient } from '../src/pipeline/forward/upstream-client.ts';
import { OpenAIEmbedder, TitanEmbedder } from '../src/pipeline/semantic-cache/remote-embedders.ts';
import { dot } from '../src/pipeline/semantic-cache/vector-index.ts';
import { createBedrockAdapter } from '../src/providers/bedrock/bedrock-adapter.ts';
import { createOpenAIAdapter } from '../src/providers/openai/openai-adapter.ts';

let emulator: RunningEmulator;
const upstream = new UpstreamClient();
before(async () => {
  emulator = await startEmulator({ port: 0 });
});
after(async () => {
  await upstream.close();
  await emulator.close();
});

test('Titan Text Embeddings V2 through the Bedrock adapter: signed InvokeModel, one call per text, usage for the ledger', async () => {
  const adapter = createBedrockAdapter({ region: 'us-east-1', endpoint: emulator.url, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
  const embedder = new TitanEmbedder({ adapter, upstream, model: 'amazon.titan-embed-text-v2:0', dimensions: 256, timeoutMs: 5_000 });
  const { vectors, calls } = await embedder.embed(['refund policy', 'refund policy', 'shipping times']);
  assert.equal(vectors.length, 3);
  assert.equal(vectors[0]?.length, 256);
  assert.ok(Math.abs(dot(vectors[0] as Float32Array, vectors[1] as Float32Array) - 1) < 1e-5);
  assert.equal(calls.length, 3);
  assert.deepEqual([calls[0]?.provider, calls[0]?.endpoint, calls[0]?.status], ['bedrock', 'invoke', 200]);
  assert.ok((calls[0]?.usage?.input.total ?? 0) > 0);
});

test('OpenAI embeddings through the OpenAI adapter: one batched call, base64 vectors decoded in order', async () => {
  const adapter = createOpenAIAdapter({ baseURL: `${emulator.url}/v1`, apiKey: 'sk-gateway' });
  const embedder = new OpenAIEmbedder({ adapter, upstream, model: 'text-embedding-3-small', dimensions: 64, timeoutMs: 5_000 });
  const { vectors, calls } = await embedder.embed(['first', 'second', 'first']);
  assert.equal(calls.length, 1);
  assert.equal(vectors[0]?.length, 64);
  assert.ok(Math.abs(dot(vectors[0] as Float32Array, vectors[2] as Float32Array) - 1) < 1e-5);
  assert.ok(dot(vectors[0] as Float32Array, vectors[1] as Float32Array) < 0.99);
  assert.equal(calls[0]?.usage?.input.total !== undefined, true);
});
