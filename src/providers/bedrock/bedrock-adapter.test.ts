import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describeAdapterConformance } from '../conformance/adapter-conformance.ts';
import { bedrockOperation, createBedrockAdapter } from './bedrock-adapter.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const MODEL = encodeURIComponent('anthropic.claude-sonnet-4-5-20250929-v1:0');

/** Frames each Converse stream event as AWS event-stream messages, as Bedrock sends them. */
function converseStream(): Buffer {
  const events = JSON.parse(fixture('converse-stream-events.json').toString()) as Array<Record<string, unknown>>;
  return Buffer.concat(
    events.map((event) => {
      const [type, payload] = Object.entries(event)[0] as [string, unknown];
      return codec.encode({
        headers: {
          ':event-type': { type: 'string', value: type },
          ':content-type': { type: 'string', value: 'application/json' },
          ':message-type': { type: 'string', value: 'event' },
        },
        body: fromUtf8(JSON.stringify(payload)),
      });
    }),
  );
}

describeAdapterConformance('bedrock', () => ({
  adapter: createBedrockAdapter({
    region: 'us-east-1',
    endpoint: 'https://bedrock-runtime.us-east-1.amazonaws.com',
    credentials: { accessKeyId: 'AKIDGATEWAY', secretAccessKey: 'secret' },
  }),
  operation: bedrockOperation('converse', MODEL),
  requestBody: { messages: [{ role: 'user', content: [{ text: 'hi' }] }], futureField: true },
  clientCredentialHeader: 'authorization',
  assertGatewayCredential(headers) {
    assert.match(headers.authorization ?? '', /^AWS4-HMAC-SHA256 Credential=AKIDGATEWAY\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
    assert.ok(headers['x-amz-date']);
  },
  // Additive: 100 uncached + 2,000 written + 5,000 read.
  response: { body: fixture('converse-cache-details.json'), inputTotal: 7100, outputTotal: 400 },
  stream: {
    operation: bedrockOperation('converse-stream', MODEL),
    bytes: converseStream(),
    inputTotal: 42 + 8192 + 1024,
    outputTotal: 7,
    stopReason: 'end_turn',
  },
  error: {
    status: 429,
    headers: { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' },
    body: Buffer.from(JSON.stringify({ message: 'Too many requests' })),
    errorType: 'ThrottlingException',
  },
  assertErrorShape(body, headers) {
    assert.equal(typeof (body as { message: string }).message, 'string');
    assert.match(headers['x-amzn-errortype'] ?? '', /Exception$/);
  },
}));
