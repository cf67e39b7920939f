import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BedrockRuntimeClient,
  type ContentBlock,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type SystemContentBlock,
  type TokenUsage,
  type Tool,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { decodeEvents, encodeChunk, encodeEvent, encodeEventWithCodec } from './event-stream.ts';
import { type RunningEmulator, startEmulator } from './index.ts';
import { textOfTokens } from './test-support.ts';
import { countTokens } from './tokens.ts';

const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
let emulator: RunningEmulator;
let client: BedrockRuntimeClient;

before(async () => {
  emulator = await startEmulator();
  client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
});
after(async () => {
  client.destroy();
  await emulator.close();
});

const hello = (text = 'Hi'): ConverseCommandInput['messages'] => [{ role: 'user', content: [{ text }] }];

describe('Converse', () => {
  test('returns a deterministic reply with Bedrock usage and metrics', async () => {
    const first = await client.send(new ConverseCommand({ modelId: SONNET, messages: hello() }));
    const second = await client.send(new ConverseCommand({ modelId: SONNET, messages: hello() }));
    const text = first.output?.message?.content?.[0]?.text ?? '';
    assert.equal(countTokens(text), 24);
    assert.equal(second.output?.message?.content?.[0]?.text, text);
    assert.equal(first.stopReason, 'end_turn');
    assert.deepEqual(first.usage, { inputTokens: 1, outputTokens: 24, totalTokens: 25 });
    assert.equal(first.metrics?.latencyMs, 0);
  });

  test('inferenceConfig.maxTokens cuts the reply with stopReason max_tokens', async () => {
    const result = await client.send(
      new ConverseCommand({ modelId: SONNET, messages: hello(), inferenceConfig: { maxTokens: 4 } }),
    );
    assert.equal(result.stopReason, 'max_tokens');
    assert.equal(result.usage?.outputTokens, 4);
  });

  test('cachePoint blocks write then read; inputTokens excludes the cache; 1h details come first', async () => {
    const tools: Tool[] = [
      {
        toolSpec: {
          name: 'lookup',
          description: textOfTokens(1200, 'Lookup'),
          inputSchema: { json: { type: 'object', properties: {} } },
        },
      },
      { cachePoint: { type: 'default', ttl: '1h' } },
    ];
    const system: SystemContentBlock[] = [{ text: textOfTokens(1300, 'Rules') }, { cachePoint: { type: 'default' } }];
    const input: ConverseCommandInput = { modelId: SONNET, messages: hello(), system, toolConfig: { tools } };
    const first = (await client.send(new ConverseCommand(input))).usage as TokenUsage;
    const toolTokens = (first.cacheWriteInputTokens ?? 0) - 1300;
    assert.ok(toolTokens > 1200);
    assert.equal(first.inputTokens, 1);
    assert.equal(first.cacheReadInputTokens, 0);
    assert.deepEqual(first.cacheDetails, [
      { ttl: '1h', inputTokens: toolTokens },
      { ttl: '5m', inputTokens: 1300 },
    ]);
    assert.equal(first.totalTokens, 1 + toolTokens + 1300 + 24);

    const second = (await client.send(new ConverseCommand(input))).usage as TokenUsage;
    assert.equal(second.cacheReadInputTokens, toolTokens + 1300);
    assert.equal(second.cacheWriteInputTokens, 0);
    assert.equal(second.cacheDetails, undefined);
    assert.equal(second.inputTokens, 1);
  });

  test('below the Bedrock minimum (haiku-4-5: 4096) the cache counters stay 0', async () => {
    const system: SystemContentBlock[] = [{ text: textOfTokens(2000, 'Brief') }, { cachePoint: { type: 'default' } }];
    const modelId = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
    for (let call = 0; call < 2; call += 1) {
      const usage = (await client.send(new ConverseCommand({ modelId, messages: hello(), system }))).usage;
      assert.deepEqual([usage?.inputTokens, usage?.cacheReadInputTokens, usage?.cacheWriteInputTokens], [2001, 0, 0]);
    }
  });

  test('a cachePoint with nothing before it is a ValidationException', async () => {
    const content: ContentBlock[] = [{ cachePoint: { type: 'default' } }, { text: 'x' }];
    await assert.rejects(
      client.send(new ConverseCommand({ modelId: SONNET, messages: [{ role: 'user', content }] })),
      (error: unknown) => error instanceof ValidationException && error.$metadata.httpStatusCode === 400,
    );
  });
});

describe('ConverseStream', () => {
  test('streams messageStart, deltas, messageStop and metadata with usage', async () => {
    const system: SystemContentBlock[] = [{ text: textOfTokens(1100, 'Stream') }, { cachePoint: { type: 'default' } }];
    const events: string[] = [];
    let text = '';
    let usage: TokenUsage | undefined;
    let stopReason: string | undefined;
    const result = await client.send(new ConverseStreamCommand({ modelId: SONNET, messages: hello(), system }));
    for await (const event of result.stream ?? []) {
      events.push(Object.keys(event)[0] ?? '');
      text += event.contentBlockDelta?.delta?.text ?? '';
      if (event.messageStop !== undefined) stopReason = event.messageStop.stopReason;
      if (event.metadata !== undefined) usage = event.metadata.usage;
    }
    const distinct = events.filter((type, index) => type !== events[index - 1]);
    assert.deepEqual(distinct, ['messageStart', 'contentBlockDelta', 'contentBlockStop', 'messageStop', 'metadata']);
    assert.equal(countTokens(text), 24);
    assert.equal(stopReason, 'end_turn');
    assert.deepEqual(usage, {
      inputTokens: 1,
      outputTokens: 24,
      totalTokens: 1125,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 1100,
      cacheDetails: [{ ttl: '5m', inputTokens: 1100 }],
    });
  });
});

describe('InvokeModel', () => {
  const anthropicBody = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Hi' }],
      ...extra,
    });

  test('an Anthropic body returns an Anthropic Message, caching by cache_control', async () => {
    const system = [{ type: 'text', text: textOfTokens(1500, 'Invoke'), cache_control: { type: 'ephemeral' } }];
    const call = async () => {
      const result = await client.send(new InvokeModelCommand({ modelId: SONNET, body: anthropicBody({ system }) }));
      return JSON.parse(new TextDecoder().decode(result.body)) as {
        model: string;
        type: string;
        content: Array<{ text: string }>;
        usage: Record<string, number>;
      };
    };
    const first = await call();
    assert.equal(first.type, 'message');
    assert.equal(first.model, SONNET, 'the URL-encoded model id arrives decoded');
    assert.equal(countTokens(first.content[0]?.text ?? ''), 24);
    assert.equal(first.usage['cache_creation_input_tokens'], 1500);
    const second = await call();
    assert.equal(second.usage['cache_read_input_tokens'], 1500);
    assert.equal(second.usage['input_tokens'], 1);
  });

  test('a body without anthropic_version is a ValidationException', async () => {
    const body = JSON.stringify({ max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] });
    await assert.rejects(
      client.send(new InvokeModelCommand({ modelId: SONNET, body })),
      (error: unknown) => error instanceof ValidationException,
    );
  });

  test('Titan text embeddings v2', async () => {
    const result = await client.send(
      new InvokeModelCommand({
        modelId: 'amazon.titan-embed-text-v2:0',
        body: JSON.stringify({ inputText: 'embed this text', dimensions: 256, normalize: true }),
      }),
    );
    const parsed = JSON.parse(new TextDecoder().decode(result.body)) as { embedding: number[]; inputTextTokenCount: number };
    assert.equal(parsed.embedding.length, 256);
    assert.equal(parsed.inputTextTokenCount, countTokens('embed this text'));
  });

  test('InvokeModelWithResponseStream wraps Anthropic stream events in chunk frames', async () => {
    const result = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: SONNET, body: anthropicBody({ max_tokens: 6 }) }),
    );
    const events: Array<Record<string, unknown>> = [];
    for await (const part of result.body ?? []) {
      const bytes = part.chunk?.bytes;
      if (bytes !== undefined) events.push(JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>);
    }
    assert.equal(events[0]?.['type'], 'message_start');
    const delta = events.find((event) => event['type'] === 'message_delta') as { delta: { stop_reason: string }; usage: { output_tokens: number } };
    assert.equal(delta.delta.stop_reason, 'max_tokens');
    assert.equal(delta.usage.output_tokens, 6);
    const last = events.at(-1);
    assert.equal(last?.['type'], 'message_stop');
    assert.deepEqual(last?.['amazon-bedrock-invocationMetrics'], {
      inputTokenCount: 1,
      outputTokenCount: 6,
      cacheReadInputTokenCount: 0,
      cacheWriteInputTokenCount: 0,
      invocationLatency: 0,
      firstByteLatency: 0,
    });
  });
});

test('InvokeModel rejects top-level (automatic) cache_control, which Bedrock does not support', async () => {
  const body = JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 5,
    cache_control: { type: 'ephemeral' },
    messages: [{ role: 'user', content: 'Hi' }],
  });
  await assert.rejects(
    client.send(new InvokeModelCommand({ modelId: SONNET, body })),
    (error: unknown) => error instanceof ValidationException,
  );
});

test('event-stream frames match the AWS codec byte for byte and decode back', () => {
  const payload = { delta: { text: ' héllo "quoted"' }, contentBlockIndex: 0 };
  const frame = encodeEvent('contentBlockDelta', payload);
  assert.deepEqual(Buffer.from(frame), Buffer.from(encodeEventWithCodec('contentBlockDelta', payload)));
  const chunk = encodeChunk({ type: 'message_stop' });
  assert.deepEqual(decodeEvents(Buffer.concat([frame, chunk])), [
    { eventType: 'contentBlockDelta', payload },
    { eventType: 'chunk', payload: { bytes: Buffer.from('{"type":"message_stop"}').toString('base64') } },
  ]);
});
