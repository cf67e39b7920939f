import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ledgerRows, startStack } from './support/stack.ts';

const OPENAI_KEY = 'sk-proj-client-7f3a9c1e5b2d4a6f8e0c';
const ANTHROPIC_KEY = 'sk-ant-client-0d9e8f7a6b5c4d3e2f1a';
const hash = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 12);

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('calls are recorded per hashed API key; the key itself never reaches the ledger', async () => {
  const stack = await startStack();
  let directoryFiles: string[] = [];
  try {
    const openai = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: stack.url, maxRetries: 0 });
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `q${index}` }] }).withResponse();
      ids.push(completion.response.headers.get('x-costgate-request-id') ?? '');
    }
    const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    ids.push(message.response.headers.get('x-costgate-request-id') ?? '');

    const rows = await ledgerRows(stack, ids);
    assert.equal(rows.length, 4);
    for (const row of rows) {
      const expected = row.provider === 'openai' ? hash(OPENAI_KEY) : hash(ANTHROPIC_KEY);
      assert.equal(row.attribution.apiKeyId, expected);
      const serialized = JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
      assert.ok(!serialized.includes(OPENAI_KEY) && !serialized.includes(ANTHROPIC_KEY), 'no raw key in the row');
    }

    // The anomaly detector's hourly series per API key.
    const series = await stack.gateway.ledger.hourlySeries({ dimension: 'api_key' });
    const requestsByKey = new Map<string | null, number>();
    for (const point of series) requestsByKey.set(point.key, (requestsByKey.get(point.key) ?? 0) + point.requests);
    assert.equal(requestsByKey.get(hash(OPENAI_KEY)), 3);
    assert.equal(requestsByKey.get(hash(ANTHROPIC_KEY)), 1);
  } finally {
    await stack.gateway.close();
    await stack.emulator.close();
    directoryFiles = filesUnder(stack.directory);
  }
  // Nor does it reach any file the gateway wrote (the DuckDB file, its WAL, the spool).
  assert.ok(directoryFiles.length > 0);
  for (const path of directoryFiles) {
    const bytes = readFileSync(path).toString('latin1');
    assert.ok(!bytes.includes(OPENAI_KEY) && !bytes.includes(ANTHROPIC_KEY), `raw key found in ${path}`);
  }
  await stack.close().catch(() => {});
});
