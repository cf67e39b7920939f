import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { apiKeyId } from '../src/pipeline/attribution/attribution-stage.ts';
import { startStack, type Stack } from './support/stack.ts';

/** Runs the CLI without blocking this process, whose in-process gateway must keep answering. */
function costgate(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/costgate.js', ...args], { encoding: 'utf8', env: { ...process.env, OPENAI_API_KEY: '' }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let stack: Stack;
let directory: string;
before(async () => {
  stack = await startStack();
  directory = mkdtempSync(join(tmpdir(), 'costgate-cli-'));
});
after(async () => {
  await stack.close();
  rmSync(directory, { recursive: true, force: true });
});

test('report --format json, while the gateway holds the ledger, reads it through the admin API', async () => {
  const client = new OpenAI({ apiKey: 'x', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'report me' }] },
    { headers: { 'x-costgate-feature': 'cli-report' } },
  );
  for await (const _chunk of stream) {
    // drain
  }
  await stack.gateway.recorder.flush();
  const [event] = (await stack.gateway.ledger.report({ by: 'feature', filter: { feature: 'cli-report' } })) ?? [];
  assert.ok(event);

  const result = await costgate('report', '--by', 'feature', '--format', 'json', '--ledger', join(stack.directory, 'ledger.duckdb'));
  assert.equal(result.status, 0, result.stderr);
  const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
  const row = rows.find((candidate) => candidate.feature === 'cli-report');
  assert.ok(row);
  assert.deepEqual(Object.keys(row).sort(), [
    'baseline_cost_usd', 'cache_net_usd', 'cache_read_savings_usd', 'cache_read_tokens', 'cache_write_premium_usd', 'cache_write_tokens',
    'cost_usd', 'feature', 'input_tokens', 'output_tokens', 'requests', 'savings_usd', 'unpriced_requests',
  ]);
  assert.equal(row.requests, 1);
  assert.equal(row.input_tokens, event.inputTokens);
  assert.equal(row.cost_usd, Number(event.cost) / 1e12);
  assert.equal(row.savings_usd, 0);
});

test('report --by api_key groups by the hashed client key, never the key itself', async () => {
  const key = `sk-cli-report-${process.pid}`;
  const client = new OpenAI({ apiKey: key, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'whose key' }] }, { headers: { 'x-costgate-feature': 'cli-api-key' } });
  await stack.gateway.recorder.flush();

  const result = await costgate('report', '--by', 'api_key', '--feature', 'cli-api-key', '--format', 'json', '--ledger', join(stack.directory, 'ledger.duckdb'));
  assert.equal(result.status, 0, result.stderr);
  const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(
    rows.map((row) => [row.api_key, row.requests]),
    [[apiKeyId({ authorization: `Bearer ${key}` }), 1]],
  );
  assert.doesNotMatch(result.stdout, new RegExp(key));
});

test('bad arguments and bad config get one clear message and a non-zero exit', async () => {
  const badGroup = await costgate('report', '--by', 'planet');
  assert.equal(badGroup.status, 2);
  assert.match(badGroup.stderr, /--by must be one of feature, customer/);
  assert.equal(badGroup.stderr.trim().split('\n').length, 1);

  const unknownCommand = await costgate('explode');
  assert.equal(unknownCommand.status, 2);
  assert.match(unknownCommand.stderr, /unknown command "explode"/);

  const config = join(directory, 'bad.yaml');
  writeFileSync(config, 'server:\n  port: "eighty"\n');
  const badConfig = await costgate('serve', '--config', config);
  assert.equal(badConfig.status, 2);
  assert.match(badConfig.stderr, /server\.port/);

  const missingLedger = await costgate('report', '--ledger', join(directory, 'none.duckdb'));
  assert.notEqual(missingLedger.status, 0);
  assert.doesNotMatch(missingLedger.stderr, /\n\s+at /, 'no stack trace for a user mistake');
});

test('prices shows the source of a known price and says so plainly for an unknown model', async () => {
  const known = await costgate('prices', 'gpt-4o-mini', '--provider', 'openai');
  assert.equal(known.status, 0, known.stderr);
  const described = JSON.parse(known.stdout) as { source: string; prices: { inputPerMTok: number } };
  assert.match(described.source, /genai-prices@/);
  assert.equal(described.prices.inputPerMTok, 0.15);
  const unknown = await costgate('prices', 'acme-private-llm', '--provider', 'openai');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stdout, /unpriced/);
});
