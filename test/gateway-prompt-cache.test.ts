import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { parseConfig, resolveUpstreams } from '../src/config/load-config.ts';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { startGateway, type RunningGateway } from '../src/server/start-gateway.ts';
import { picodollars } from './support/stack.ts';

// The gateway's planner reads the emulator's clock, so cache TTLs and reuse intervals can be jumped over.
let emulator: RunningEmulator;
let gateway: RunningGateway;
let directory: string;
let anthropic: Anthropic;
let bedrock: BedrockRuntimeClient;
let bedrockRequestId = '';

before(async () => {
  emulator = await startEmulator({ port: 0 });
  directory = mkdtempSync(join(tmpdir(), 'costgate-prompt-cache-e2e-'));
  const environment = {
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: 'sk-ant-gateway',
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    OPENAI_API_KEY: 'sk-gateway',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDGATEWAY',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
  };
  const config = parseConfig({ promptCache: { default: { mode: 'auto' }, features: { watched: { mode: 'observe' } }, snapshotIntervalMs: 50 } }, environment, 'test');
  gateway = await startGateway({
    loaded: { config, upstreams: resolveUpstreams(config, environment), source: 'test' },
    port: 0,
    ledgerPath: join(directory, 'ledger.duckdb'),
    clock: () => emulator.clock.now(),
  });
  anthropic = new Anthropic({ apiKey: 'client', baseURL: gateway.url, maxRetries: 0 });
  bedrock = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: gateway.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
  bedrock.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-costgate-feature'] = 'bedrock-feature';
      const result = await next(args);
      bedrockRequestId = String((result.response as { headers: Record<string, string> }).headers['x-costgate-request-id'] ?? '');
      return result;
    },
    { step: 'finalizeRequest', name: 'feature' },
  );
});

after(async () => {
  bedrock.destroy();
  await gateway.close();
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

const SYSTEM = Array.from({ length: 220 }, (_, index) => `Guideline ${index}: verify the account before changing the plan.`).join('\n');
// $/MTok as picodollars per token.
const SONNET = { input: 3, write5m: 3.75, write1h: 6, read: 0.3 };
const BEDROCK_SONNET = { input: 3.3, write5m: 4.125, write1h: 6.6, read: 0.33 };

async function row(requestId: string): Promise<UsageEvent> {
  await gateway.recorder.flush();
  const [found] = await gateway.ledger.get([requestId]);
  assert.ok(found, `ledger row ${requestId}`);
  return found;
}

/** Lever saving by hand: reads at (input - read), writes at -(write - input); no client markers here. */
function expectedSaving(event: UsageEvent, prices: typeof SONNET): bigint {
  const input = event.usage.input;
  return (
    picodollars([[input.cacheRead ?? 0, prices.input - prices.read]]) -
    picodollars([
      [input.cacheWrite5m ?? 0, prices.write5m - prices.input],
      [input.cacheWrite1h ?? 0, prices.write1h - prices.input],
    ])
  );
}

function lever(event: UsageEvent) {
  return event.levers?.find((effect) => effect.lever === 'prompt_cache');
}

test('Anthropic Messages: write premium, then read savings, on the ledger row against the call without breakpoints', async () => {
  const ask = async (question: string, feature = 'support') => {
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 20, system: SYSTEM, messages: [{ role: 'user', content: question }] }, { headers: { 'x-costgate-feature': feature } })
      .withResponse();
    return { usage: data.usage, event: await row(response.headers.get('x-costgate-request-id') ?? '') };
  };
  const first = await ask('first');
  assert.equal(lever(first.event), undefined, 'first sight: no evidence, no breakpoint');
  emulator.clock.advance(15_000);
  const second = await ask('second');
  assert.ok((second.usage.cache_creation_input_tokens ?? 0) > 0, 'the planner made the provider write the prefix');
  const writeLever = lever(second.event);
  assert.equal(writeLever?.saving, expectedSaving(second.event, SONNET));
  assert.ok((writeLever?.saving ?? 0n) < 0n, 'a first write costs its premium');
  assert.equal(second.event.baselineCost, (second.event.cost ?? 0n) + (writeLever?.saving ?? 0n));
  emulator.clock.advance(15_000);
  const third = await ask('third');
  assert.ok((third.usage.cache_read_input_tokens ?? 0) > 0);
  assert.equal(lever(third.event)?.saving, expectedSaving(third.event, SONNET));
  assert.ok((lever(third.event)?.saving ?? 0n) > 0n);
  assert.equal(lever(third.event)?.estimated, false);
});

test('observe mode changes nothing upstream: no cache writes, a zero-saving plan on the row', async () => {
  const results = [];
  for (const question of ['a', 'b', 'c']) {
    const { data, response } = await anthropic.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 20, system: `${SYSTEM}\nwatched`, messages: [{ role: 'user', content: question }] }, { headers: { 'x-costgate-feature': 'watched' } })
      .withResponse();
    results.push({ usage: data.usage, event: await row(response.headers.get('x-costgate-request-id') ?? '') });
    emulator.clock.advance(10_000);
  }
  for (const { usage } of results) assert.equal((usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0), 0);
  const planned = lever(results[2]?.event as UsageEvent);
  assert.equal(planned?.saving, 0n);
  assert.equal(planned?.detail?.mode, 'observe');
  assert.ok(Array.isArray(planned?.detail?.breakpoints));
});

test('Bedrock Converse and InvokeModel: cachePoint / cache_control placed, 1h chosen for 20-minute reuse, priced at Bedrock rates', async () => {
  const converse = async (question: string) => {
    const output = await bedrock.send(
      new ConverseCommand({
        modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        system: [{ text: SYSTEM }],
        messages: [{ role: 'user', content: [{ text: question }] }],
        inferenceConfig: { maxTokens: 20 },
      }),
    );
    return { usage: output.usage, event: await row(bedrockRequestId) };
  };
  const seen = [];
  for (let call = 0; call < 5; call += 1) {
    seen.push(await converse(`question ${call}`));
    emulator.clock.advance(20 * 60_000);
  }
  const ttls = seen.flatMap(({ event }) => ((lever(event)?.detail?.breakpoints ?? []) as Array<{ ttl: string }>).map((breakpoint) => breakpoint.ttl));
  assert.ok(ttls.includes('1h'), `TTLs chosen: ${ttls.join(',')}`);
  assert.ok(!ttls.includes('5m'), '5-minute entries would have expired between calls');
  const read = seen.find(({ usage }) => (usage?.cacheReadInputTokens ?? 0) > 0);
  assert.ok(read, 'a 1h entry was read 20 minutes later');
  for (const { event } of seen) if (lever(event)?.detail?.mode === 'auto') assert.equal(lever(event)?.saving, expectedSaving(event, BEDROCK_SONNET));

  const invoke = async (question: string) => {
    const body = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 20, system: `${SYSTEM}\ninvoke`, messages: [{ role: 'user', content: question }] };
    await bedrock.send(new InvokeModelCommand({ modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', contentType: 'application/json', body: JSON.stringify(body) }));
    return row(bedrockRequestId);
  };
  await invoke('x');
  emulator.clock.advance(5_000);
  const written = await invoke('y');
  assert.ok((written.usage.input.cacheWrite5m ?? 0) + (written.usage.input.cacheWrite1h ?? 0) > 0);
  assert.equal(lever(written)?.saving, expectedSaving(written, BEDROCK_SONNET));
});

test('costgate audit prefixes reports a timestamp at the top of a system prompt', async () => {
  for (let call = 0; call < 4; call += 1) {
    await anthropic.messages.create(
      { model: 'claude-sonnet-4-5', max_tokens: 5, system: `Current time: ${new Date(emulator.clock.now()).toISOString()}\n${SYSTEM}`, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-costgate-feature': 'clocked' } },
    );
    emulator.clock.advance(7_000);
  }
  await new Promise((resolve) => setTimeout(resolve, 150));
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['bin/costgate.js', 'audit', 'prefixes', '--ledger', join(directory, 'ledger.duckdb')], { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
  assert.match(output, /clocked\s+anthropic\/claude-sonnet-4-5\s+100% of 3\s+timestamp/);
  assert.match(output, /<timestamp: dddd-dd-ddTdd:dd:dd\.dddZ>/);
  assert.doesNotMatch(output, /\d{4}-\d{2}-\d{2}T/, 'the value itself is not shown');
});
