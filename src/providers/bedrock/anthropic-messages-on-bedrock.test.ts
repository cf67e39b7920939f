import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { ANTHROPIC_OPERATIONS } from '../anthropic/anthropic-adapter.ts';
import type { ParsedCall } from '../provider.ts';
import { ServerSentEventScanner } from '../server-sent-events.ts';
import { anthropicCallOnBedrock, BedrockInvokeStreamToSse, BEDROCK_ANTHROPIC_VERSION } from './anthropic-messages-on-bedrock.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const events = JSON.parse(readFileSync(new URL('../anthropic/fixtures/stream-events.json', import.meta.url), 'utf8')) as Array<Record<string, unknown>>;

function frame(headers: Record<string, string>, body: unknown): Buffer {
  const encoded: Record<string, { type: 'string'; value: string }> = {};
  for (const [name, value] of Object.entries(headers)) encoded[name] = { type: 'string', value };
  return Buffer.from(codec.encode({ headers: encoded, body: fromUtf8(JSON.stringify(body)) }));
}

function chunk(event: Record<string, unknown>): Buffer {
  return frame({ ':event-type': 'chunk', ':message-type': 'event', ':content-type': 'application/json' }, { bytes: Buffer.from(JSON.stringify(event)).toString('base64') });
}

function anthropicCall(stream: boolean): ParsedCall {
  const body = { model: 'claude-sonnet-4-5', max_tokens: 50, stream, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: 'u1' } };
  return {
    operation: ANTHROPIC_OPERATIONS.messages,
    body,
    rawBody: Buffer.from(JSON.stringify(body)),
    model: 'claude-sonnet-4-5',
    stream,
    headers: { 'x-api-key': 'sk-ant-secret', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'context-1m-2025-08-07, other-beta', 'content-type': 'application/json' },
  };
}

test('a Messages call becomes InvokeModel on the Bedrock model: version in the body, no model or stream field, no Anthropic credential', () => {
  const call = anthropicCallOnBedrock(anthropicCall(false), 'anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.equal(call.operation.provider, 'bedrock');
  assert.equal(call.operation.endpoint, 'invoke');
  assert.equal(call.operation.upstreamPath, '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke');
  assert.equal(call.model, 'anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.equal(call.rawBody, undefined, 'the body is re-serialized');
  assert.deepEqual(call.body, {
    anthropic_version: BEDROCK_ANTHROPIC_VERSION,
    anthropic_beta: ['context-1m-2025-08-07', 'other-beta'],
    max_tokens: 50,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'hi' }],
    metadata: { user_id: 'u1' },
  });
  assert.equal(call.headers['x-api-key'], undefined);
  assert.equal(call.headers['anthropic-version'], undefined);

  const streamed = anthropicCallOnBedrock(anthropicCall(true), 'anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.equal(streamed.operation.endpoint, 'invoke-with-response-stream');
  assert.equal(streamed.stream, true);
  assert.equal(streamed.body?.stream, undefined);
});

test('an InvokeModel stream split at any byte comes out as the same Messages SSE events, Bedrock metrics removed', () => {
  const withMetrics = events.map((event) => (event.type === 'message_stop' ? { ...event, 'amazon-bedrock-invocationMetrics': { inputTokenCount: 25 } } : event));
  const wire = Buffer.concat(withMetrics.map(chunk));
  for (const size of [1, 7, 64, wire.length]) {
    const converter = new BedrockInvokeStreamToSse();
    const scanner = new ServerSentEventScanner();
    const seen: Array<{ event: string | undefined; data: unknown }> = [];
    for (let offset = 0; offset < wire.length; offset += size) {
      for (const event of scanner.push(converter.push(wire.subarray(offset, offset + size)))) seen.push({ event: event.event, data: JSON.parse(event.data) });
    }
    assert.deepEqual(seen.map((event) => event.event), events.map((event) => event.type), `split every ${size} bytes`);
    assert.deepEqual(seen.map((event) => event.data), events);
  }
});

test('an in-stream Bedrock exception becomes an Anthropic error event', () => {
  const converter = new BedrockInvokeStreamToSse();
  const text = converter
    .push(Buffer.concat([chunk(events[0] ?? {}), frame({ ':message-type': 'exception', ':exception-type': 'serviceUnavailableException', ':content-type': 'application/json' }, { message: 'Bedrock is busy' })]))
    .toString('utf8');
  assert.match(text, /^event: message_start\n/);
  assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Bedrock is busy"\}\}\n\n$/);
});
