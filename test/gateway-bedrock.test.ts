import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { ledgerRows, picodollars, startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let client: BedrockRuntimeClient;
const requestIds: string[] = [];

before(async () => {
  stack = await startStack();
  client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: stack.url,
    credentials: { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' },
    maxAttempts: 1,
  });
  // The SDK hides response headers; capture the gateway's request id to find the ledger row.
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const headers = (result.response as { headers?: Record<string, string> }).headers ?? {};
      requestIds.push(headers['x-costgate-request-id'] ?? '');
      return result;
    },
    { step: 'deserialize', name: 'captureRequestId' },
  );
});
after(() => stack.close());

const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
// Sonnet 4.5 called by its in-region id is billed at the regional rate, 10% over the global
// endpoint: $3.30 input, $4.125 5m write, $0.33 read, $16.50 output per million.
const SONNET = { input: 3.3, write5m: 4.125, read: 0.33, output: 16.5 };
const SYSTEM_TEXT = Array.from({ length: 200 }, (_, index) => `Clause ${index}: summarize without legal advice.`).join('\n');

async function lastRow() {
  const [row] = await ledgerRows(stack, [requestIds.at(-1) ?? '']);
  assert.ok(row, 'ledger row for the last call');
  return row;
}

test('Converse with a cachePoint: additive cache accounting', async () => {
  const input = {
    modelId: MODEL,
    system: [{ text: SYSTEM_TEXT }, { cachePoint: { type: 'default' as const } }],
    messages: [{ role: 'user' as const, content: [{ text: 'summarize' }] }],
    inferenceConfig: { maxTokens: 100 },
    requestMetadata: { feature: 'summaries', customer: 'initech' },
  };
  await client.send(new ConverseCommand(input));
  const response = await client.send(new ConverseCommand(input));
  const usage = response.usage;
  assert.ok(usage && (usage.cacheReadInputTokens ?? 0) > 0);
  const row = await lastRow();
  assert.equal(row.usage.input.total, (usage.inputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0));
  assert.equal(
    row.cost,
    picodollars([
      [usage.inputTokens ?? 0, SONNET.input],
      [usage.cacheWriteInputTokens ?? 0, SONNET.write5m],
      [usage.cacheReadInputTokens ?? 0, SONNET.read],
      [usage.outputTokens ?? 0, SONNET.output],
    ]),
  );
  assert.equal(row.provider, 'bedrock');
  assert.equal(row.requestedModel, MODEL);
  assert.deepEqual([row.attribution.feature, row.attribution.customer], ['summaries', 'initech']);
});

test('ConverseStream: the event stream reaches the SDK intact and usage comes from metadata', async () => {
  const response = await client.send(
    new ConverseStreamCommand({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'stream a summary' }] }] }),
  );
  let text = '';
  let outputTokens = 0;
  for await (const event of response.stream ?? []) {
    text += event.contentBlockDelta?.delta?.text ?? '';
    if (event.metadata?.usage) outputTokens = event.metadata.usage.outputTokens ?? 0;
  }
  assert.ok(text.length > 0 && outputTokens > 0);
  const row = await lastRow();
  assert.equal(row.stream, true);
  assert.equal(row.endpoint, 'converse-stream');
  assert.equal(row.usage.output.total, outputTokens);
  assert.ok(row.cost !== undefined && row.cost > 0n);
});

test('InvokeModel with an Anthropic body, and its response stream', async () => {
  const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
  const response = await client.send(new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json' }));
  const parsed = JSON.parse(new TextDecoder().decode(response.body)) as { usage: { input_tokens: number; output_tokens: number } };
  let row = await lastRow();
  assert.equal(row.cost, picodollars([[parsed.usage.input_tokens, SONNET.input], [parsed.usage.output_tokens, SONNET.output]]));

  const streamed = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body, contentType: 'application/json' }));
  let events = 0;
  for await (const event of streamed.body ?? []) if (event.chunk?.bytes) events += 1;
  assert.ok(events > 2);
  row = await lastRow();
  assert.equal(row.endpoint, 'invoke-with-response-stream');
  assert.equal(row.usage.input.total, parsed.usage.input_tokens);
  assert.ok((row.usage.output.total ?? 0) > 0);
});
