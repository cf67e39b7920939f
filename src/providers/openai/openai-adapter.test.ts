import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { describeAdapterConformance } from '../conformance/adapter-conformance.ts';
import { createOpenAIAdapter, OPENAI_OPERATIONS } from './openai-adapter.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const chunks = JSON.parse(fixture('chat-stream-chunks.json').toString()) as unknown[];

describeAdapterConformance('openai', () => ({
  adapter: createOpenAIAdapter({ baseURL: 'https://api.openai.com/v1', apiKey: 'sk-gateway' }),
  operation: OPENAI_OPERATIONS.chat,
  requestBody: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream_options: { include_usage: true }, future_field: { x: 1 } },
  clientCredentialHeader: 'authorization',
  assertGatewayCredential: (headers) => assert.equal(headers.authorization, 'Bearer sk-gateway'),
  // 2006 prompt tokens include the 1,920 cached ones.
  response: { body: fixture('chat-completion-cached.json'), inputTotal: 2006, outputTotal: 300 },
  stream: {
    operation: OPENAI_OPERATIONS.chat,
    bytes: Buffer.from(`${chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')}data: [DONE]\n\n`),
    inputTotal: 1500,
    outputTotal: 3,
    stopReason: 'stop',
  },
  error: {
    status: 429,
    headers: { 'retry-after': '1' },
    body: Buffer.from(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } })),
    errorType: 'requests',
  },
  assertErrorShape(body) {
    const error = (body as { error: Record<string, unknown> }).error;
    assert.equal(typeof error.message, 'string');
    assert.equal(typeof error.type, 'string');
    assert.ok('param' in error && 'code' in error);
  },
}));

test('a stream without include_usage gets it spliced in front of the client\'s own bytes', async () => {
  const adapter = createOpenAIAdapter({ baseURL: 'https://api.openai.com/v1', apiKey: undefined });
  const rawBody = Buffer.from('{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"héllo"}],"x_future":1}');
  const call = {
    operation: OPENAI_OPERATIONS.chat,
    body: JSON.parse(rawBody.toString()) as Record<string, unknown>,
    rawBody,
    model: 'gpt-4o-mini',
    stream: true,
    headers: { authorization: 'Bearer client' },
  };
  const upstream = await adapter.prepareUpstream(call, false);
  assert.equal(upstream.body?.toString(), `{"stream_options":{"include_usage":true},${rawBody.toString().slice(1)}`);
  assert.equal(upstream.headers.authorization, 'Bearer client', 'without a gateway key the client\'s own key is forwarded');
  assert.deepEqual((JSON.parse(upstream.body?.toString() ?? '') as { stream_options: unknown }).stream_options, { include_usage: true });

  const withOptions = Buffer.from('{"model":"m","stream":true,"stream_options":{"include_obfuscation":false},"messages":[]}');
  const merged = await adapter.prepareUpstream({ ...call, body: JSON.parse(withOptions.toString()) as Record<string, unknown>, rawBody: withOptions }, false);
  assert.deepEqual((JSON.parse(merged.body?.toString() ?? '') as { stream_options: unknown }).stream_options, { include_obfuscation: false, include_usage: true });
});
