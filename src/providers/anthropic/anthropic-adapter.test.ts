import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describeAdapterConformance } from '../conformance/adapter-conformance.ts';
import { ANTHROPIC_OPERATIONS, createAnthropicAdapter } from './anthropic-adapter.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const events = JSON.parse(fixture('stream-events.json').toString()) as Array<{ type: string }>;

describeAdapterConformance('anthropic', () => ({
  adapter: createAnthropicAdapter({ baseURL: 'https://api.anthropic.com', apiKey: 'sk-ant-gateway' }),
  operation: ANTHROPIC_OPERATIONS.messages,
  requestBody: { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], future_field: [1, 2] },
  clientCredentialHeader: 'x-api-key',
  assertGatewayCredential: (headers) => assert.equal(headers['x-api-key'], 'sk-ant-gateway'),
  // Additive: 50 uncached + 5,000 written + 10,000 read.
  response: { body: fixture('message-cache-split.json'), inputTotal: 15_050, outputTotal: 500 },
  stream: {
    operation: ANTHROPIC_OPERATIONS.messages,
    bytes: Buffer.from(events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('')),
    // message_start: 25 + 3,000 written + 12,000 read; the last message_delta: 15 output tokens.
    inputTotal: 15_025,
    outputTotal: 15,
    stopReason: 'end_turn',
  },
  error: {
    status: 529,
    headers: {},
    body: Buffer.from(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })),
    errorType: 'overloaded_error',
  },
  assertErrorShape(body) {
    const shaped = body as { type: string; error: { type: string; message: string } };
    assert.equal(shaped.type, 'error');
    assert.equal(typeof shaped.error.type, 'string');
    assert.equal(typeof shaped.error.message, 'string');
  },
}));
