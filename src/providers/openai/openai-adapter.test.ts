import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
