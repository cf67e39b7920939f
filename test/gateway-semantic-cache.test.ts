import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

// Semantic cache on for "faq", with the gateway's own OpenAI provider (the emulator) as embedder.
const CONFIG = {
  responseCache: {
    features: { faq: { semantic: 'on' }, titan: { semantic: 'shadow' } },
    semantic: { embedder: { type: 'openai', model: 'text-embedding-3-small' } },
  },
};

let stack: Stack;
before(async () => {
  stack = await startStack(CONFIG);
});
after(() => stack.close());

test('each embedding call is a ledger row of its own, attributed to the call, with a negative response_cache saving', async () => {
  const client = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'What are your opening hours?' }] };
  const headers = { 'x-costgate-feature': 'faq', 'x-costgate-customer': 'acme' };
  const first = await client.chat.completions.create(request, { headers }).withResponse();
  const second = await client.chat.completions.create(request, { headers }).withResponse();
  const ids = [first, second].map((reply) => reply.response.headers.get('x-costgate-request-id') ?? '');
  // Answer checks run after the response; give them a moment to write their rows.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const rows = await ledgerRows(stack, [...ids, `${ids[0]}:embedding`, `${ids[1]}:embedding`]);
  const byId = new Map(rows.map((row) => [row.requestId, row]));
  const call = byId.get(ids[1] as string);
  const embedding = byId.get(`${ids[1]}:embedding`);
  assert.ok(call && embedding, 'both the call and its embedding are in the ledger');
  assert.equal(call.cacheStatus, 'miss', 'nothing is served before the threshold is learned');
  const detail = call.levers?.find((effect) => effect.lever === 'response_cache')?.detail;
  assert.equal(detail?.similarity, 1, 'the same question found itself');
  assert.equal(detail?.decision, 'explore');
  assert.deepEqual(detail?.embeddingRequestIds, [`${ids[1]}:embedding`]);
  assert.equal(embedding.provider, 'openai');
  assert.equal(embedding.endpoint, 'embeddings');
  assert.equal(embedding.requestedModel, 'text-embedding-3-small');
  assert.deepEqual([embedding.attribution.feature, embedding.attribution.customer], ['faq', 'acme']);
  assert.ok(embedding.cost !== undefined && embedding.cost > 0n);
  assert.equal(embedding.baselineCost, 0n);
  assert.equal(embedding.levers?.[0]?.saving, -embedding.cost);
});

test('Bedrock Converse in shadow mode: never served, recorded as miss or shadow', async () => {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: stack.url,
    credentials: { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' },
    maxAttempts: 1,
  });
  const before = stack.emulator.requests;
  for (let round = 0; round < 3; round += 1) {
    const response = await client.send(
      new ConverseCommand({
        modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        messages: [{ role: 'user', content: [{ text: 'How long does shipping take?' }] }],
        requestMetadata: { feature: 'titan' },
      }),
    );
    assert.ok(response.output?.message?.content?.[0]?.text);
  }
  // Three conversations and three embeddings (plus any answer checks) all reached the upstream.
  assert.ok(stack.emulator.requests >= before + 6);
});
