import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createDailyFileBodyStore } from '../src/pipeline/record-bodies/daily-file-body-store.ts';
import { startGateway } from '../src/server/start-gateway.ts';

// Recognisable fake credentials: each must appear nowhere the gateway writes or logs.
const PROVIDER_SECRETS = {
  OPENAI_API_KEY: 'sk-proj-CanaryProviderOpenAI7f3a9c1e5b2d4a6f8e0c',
  ANTHROPIC_API_KEY: 'sk-ant-api03-CanaryProviderAnthropic0d9e8f7a6b5c4d3e',
  AWS_ACCESS_KEY_ID: 'AKIACANARYPROVIDER01',
  AWS_SECRET_ACCESS_KEY: 'CanaryProviderAwsSecret/0a1b2c3d4e5f6a7b8c9d',
};
const CLIENT_OPENAI_KEY = 'sk-proj-CanaryClientOpenAI5e6f7a8b9c0d1e2f3a4b';
const CLIENT_ANTHROPIC_KEY = 'sk-ant-api03-CanaryClientAnthropic1a2b3c4d5e6f';
const CLIENT_BEDROCK_TOKEN = 'CanaryClientBedrockBearer9f8e7d6c5b4a3210';
/** A key a user pasted into a prompt: content, stored only when bodies are on, and then redacted. */
const PASTED_KEY = 'sk-proj-CanaryPastedInPrompt2b4d6f8a0c1e3a5c7e';
const PROMPT_MARKER = 'PromptMarkerQ8zV3';
const SECRETS = [...Object.values(PROVIDER_SECRETS), CLIENT_OPENAI_KEY, CLIENT_ANTHROPIC_KEY, CLIENT_BEDROCK_TOKEN, PASTED_KEY];

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

interface Traffic {
  requestIds: string[];
  /** Bodies and headers the clients received (answers, errors). */
  received: string[];
  /** Answer texts, to check they were not kept either. */
  answers: string[];
}

/** Every provider, buffered and streamed, plus the error paths (bad JSON, too large, upstream error, broken stream). */
async function sendTraffic(url: string): Promise<Traffic> {
  const traffic: Traffic = { requestIds: [], received: [], answers: [] };
  const prompt = `${PROMPT_MARKER}: my key is ${PASTED_KEY}, mail me at dana.lee@example.com`;
  const openai = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_OPENAI_KEY}` };
  const anthropic = { 'content-type': 'application/json', 'x-api-key': CLIENT_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };
  const bedrock = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_BEDROCK_TOKEN}` };
  const bedrockModel = encodeURIComponent('anthropic.claude-sonnet-4-5-20250929-v1:0');
  const calls: Array<[string, Record<string, string>, string]> = [
    ['/v1/chat/completions', openai, JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] })],
    ['/v1/chat/completions', openai, JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: prompt }] })],
    ['/v1/responses', openai, JSON.stringify({ model: 'gpt-4o-mini', input: prompt })],
    ['/v1/embeddings', openai, JSON.stringify({ model: 'text-embedding-3-small', input: prompt })],
    ['/v1/messages', anthropic, JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: prompt }] })],
    ['/v1/messages', anthropic, JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: prompt }] })],
    [`/model/${bedrockModel}/converse`, bedrock, JSON.stringify({ messages: [{ role: 'user', content: [{ text: prompt }] }] })],
    [`/model/${bedrockModel}/converse-stream`, bedrock, JSON.stringify({ messages: [{ role: 'user', content: [{ text: prompt }] }] })],
    // Errors: upstream 429, a stream broken upstream, a body that is not JSON, one too large, an unknown route.
    ['/v1/chat/completions', openai, JSON.stringify({ model: 'gpt-4o-mini-emu-429', messages: [{ role: 'user', content: prompt }] })],
    ['/v1/messages', anthropic, JSON.stringify({ model: 'claude-sonnet-4-5-emu-broken-stream', max_tokens: 50, stream: true, messages: [{ role: 'user', content: prompt }] })],
    ['/v1/chat/completions', openai, `${PASTED_KEY} {"model": "gpt-4o-mini"`],
    ['/v1/messages', anthropic, `{"model":"x","messages":[{"role":"user","content":"${PASTED_KEY} ${'x'.repeat(70_000)}"}]}`],
    ['/v1/nope', openai, `{"key":"${PASTED_KEY}"}`],
  ];
  for (const [path, headers, body] of calls) {
    const response = await fetch(url + path, { method: 'POST', headers, body });
    const text = await response.text().catch(() => '');
    traffic.received.push(text, JSON.stringify([...response.headers]));
    const requestId = response.headers.get('x-costgate-request-id');
    if (requestId) traffic.requestIds.push(requestId);
    if (response.ok && !body.includes('"stream":true') && !path.endsWith('-stream')) {
      const parsed = JSON.parse(text) as { choices?: Array<{ message?: { content?: string } }>; content?: Array<{ text?: string }>; output?: { message?: { content?: Array<{ text?: string }> } } };
      const answer = parsed.choices?.[0]?.message?.content ?? parsed.content?.[0]?.text ?? parsed.output?.message?.content?.[0]?.text;
      if (answer && answer.length >= 24) traffic.answers.push(answer);
    }
  }
  return traffic;
}

async function runGateway(rawConfig: unknown) {
  const emulator = await startEmulator({ port: 0 });
  const directory = mkdtempSync(join(tmpdir(), 'costgate-secrets-'));
  const environment = {
    ...PROVIDER_SECRETS,
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    ANTHROPIC_BASE_URL: emulator.url,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_REGION: 'us-east-1',
  };
  const config = parseConfig(rawConfig, environment, 'test');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'test' };
  const logs: string[] = [];
  const gateway = await startGateway({ loaded, port: 0, ledgerPath: join(directory, 'ledger.duckdb'), log: (line) => logs.push(line) });
  let traffic: Traffic | undefined;
  let rows = '';
  try {
    traffic = await sendTraffic(gateway.url);
    await gateway.recorder.flush();
    const stored = await gateway.ledger.get(traffic.requestIds);
    assert.ok(stored.length >= 10, `ledger rows for the calls (${stored.length})`);
    const outcomes = await gateway.ledger.outcomes({});
    rows = JSON.stringify([stored, outcomes], (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
  } finally {
    await gateway.close();
    await emulator.close();
  }
  // Everything the gateway wrote, once closed (DuckDB checkpointed, spool drained, body files flushed).
  const files = filesUnder(directory).map((path) => ({ path, text: readFileSync(path).toString('latin1') }));
  return { directory, traffic, rows, logs, files, cleanup: () => rmSync(directory, { recursive: true, force: true }) };
}

test('by default no credential and no prompt or answer text reaches the ledger, the spool, other files or the logs', async () => {
  const run = await runGateway({ server: { maxBodyBytes: 64 * 1024 } });
  try {
    assert.ok(run.files.length > 0);
    assert.ok(run.logs.length > 0, 'the rejected requests were logged');
    // Not even the few characters of the body that a JSON parse error quotes.
    for (const line of run.logs) assert.ok(!line.includes('sk-') && !line.includes(PROMPT_MARKER.slice(0, 6)), `body text in log line ${line}`);
    assert.ok(!existsSync(join(run.directory, 'bodies')), 'no body store unless data.storeBodies');
    const texts = [...run.traffic.answers, PROMPT_MARKER, 'dana.lee@example.com'];
    assert.ok(run.traffic.answers.length >= 3, 'answers to look for');
    for (const value of [...SECRETS, ...texts]) {
      assert.ok(!run.rows.includes(value), `${value} in ledger rows`);
      for (const line of run.logs) assert.ok(!line.includes(value), `${value} in log line ${line}`);
      for (const file of run.files) assert.ok(!file.text.includes(value), `${value} in ${file.path}`);
    }
    // What the gateway answered (its own errors included) carries no credential either.
    for (const secret of [...Object.values(PROVIDER_SECRETS), CLIENT_OPENAI_KEY, CLIENT_ANTHROPIC_KEY, CLIENT_BEDROCK_TOKEN]) {
      for (const received of run.traffic.received) assert.ok(!received.includes(secret), `${secret} sent back to a client`);
    }
  } finally {
    run.cleanup();
  }
});

test('with data.storeBodies the bodies are kept per request id, redacted; credentials still go nowhere', async () => {
  const run = await runGateway({ server: { maxBodyBytes: 64 * 1024 }, data: { storeBodies: true } });
  try {
    for (const value of SECRETS) {
      assert.ok(!run.rows.includes(value), `${value} in ledger rows`);
      for (const line of run.logs) assert.ok(!line.includes(value), `${value} in log line ${line}`);
      for (const file of run.files) assert.ok(!file.text.includes(value), `${value} in ${file.path}`);
    }
    assert.ok(!run.rows.includes(PROMPT_MARKER), 'bodies never go into the ledger itself');
    const store = createDailyFileBodyStore({ directory: join(run.directory, 'bodies'), retentionDays: 30 });
    const records = await store.get(run.traffic.requestIds);
    // Calls that reached the pipeline (not the rejected bad JSON, oversized body or unknown route).
    assert.equal(records.length, 10);
    for (const record of records) {
      const request = JSON.stringify(record.request);
      assert.ok(request.includes(PROMPT_MARKER), `${record.endpoint}: the prompt is kept`);
      assert.ok(request.includes('[REDACTED:api_key]') && request.includes('[REDACTED:email]'), `${record.endpoint}: redacted`);
      assert.ok((record.redactions.api_key ?? 0) >= 1);
      assert.match(record.request?.sha256 ?? '', /^[0-9a-f]{64}$/);
    }
    const byEndpoint = new Map(records.filter((record) => record.status === 200).map((record) => [`${record.endpoint}${record.stream ? ':stream' : ''}`, record]));
    const answered = JSON.stringify(byEndpoint.get('chat.completions')?.response?.json);
    assert.ok(run.traffic.answers.some((answer) => answered.includes(answer)), 'the buffered answer is kept');
    const streamed = byEndpoint.get('messages:stream');
    assert.equal(streamed?.response?.assembled, true);
    assert.ok((streamed?.response?.text ?? '').length > 0, 'a stream is kept as its assembled answer');
    assert.equal(byEndpoint.get('converse-stream:stream')?.response?.assembled, true);
    assert.equal(records.find((record) => record.status === 429)?.response?.json !== undefined, true, 'error bodies are kept too');
  } finally {
    run.cleanup();
  }
});
