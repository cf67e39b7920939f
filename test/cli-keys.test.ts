import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, startKeyStack, type KeyStack } from './support/key-stack.ts';

function costgate(args: string[], environment: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/costgate.js', ...args], { encoding: 'utf8', env: { ...process.env, ...environment }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let stack: KeyStack;
let directory: string;
before(async () => {
  stack = await startKeyStack();
  directory = mkdtempSync(join(tmpdir(), 'costgate-cli-keys-'));
});
after(async () => {
  await stack.close();
  rmSync(directory, { recursive: true, force: true });
});

test('keys create, list and revoke through a running gateway; the printed secret works until revoked', async () => {
  const created = await costgate(['keys', 'create', '--name', 'cli team', '--team', 'ml', '--models', 'gpt-4o-mini', '--daily-usd', '2.50', '--rpm', '100', '--gateway', stack.url, '--format', 'json'], { COSTGATE_ADMIN_KEY: ADMIN_KEY });
  assert.equal(created.status, 0, created.stderr);
  const { key, secret } = JSON.parse(created.stdout) as { key: { id: string; limits: { dailyBudget: string } }; secret: string };
  assert.equal(key.limits.dailyBudget, '2500000000000');
  const client = new OpenAI({ apiKey: secret, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  await client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });

  const listed = await costgate(['keys', 'list', '--gateway', stack.url], { COSTGATE_ADMIN_KEY: ADMIN_KEY });
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`${key.id}  cli team  team=ml  gpt-4o-mini  100 req/min, \\$2\\.5/day  active`));
  assert.ok(!listed.stdout.includes(secret));

  const denied = await costgate(['keys', 'list', '--gateway', stack.url], { COSTGATE_ADMIN_KEY: 'wrong' });
  assert.equal(denied.status, 2);
  assert.match(denied.stderr, /admin key required/);

  const revoked = await costgate(['keys', 'revoke', key.id, '--gateway', stack.url], { COSTGATE_ADMIN_KEY: ADMIN_KEY });
  assert.equal(revoked.status, 0, revoked.stderr);
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => error instanceof OpenAI.AuthenticationError);
});

test('without a running gateway, keys go to the configured key file', async () => {
  const config = join(directory, 'costgate.yaml');
  writeFileSync(config, `ledger:\n  path: ${join(directory, 'ledger.duckdb')}\nkeys:\n  enabled: true\n`);
  const created = await costgate(['keys', 'create', '--name', 'offline', '--config', config]);
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stdout, /secret \(shown once, store it now\): cg-/);
  const listed = await costgate(['keys', 'list', '--config', config, '--format', 'json']);
  assert.deepEqual((JSON.parse(listed.stdout) as Array<{ name: string }>).map((key) => key.name), ['offline']);
  const bad = await costgate(['keys', 'create', '--name', 'x', '--daily-usd', 'ten', '--config', config]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /dailyBudgetUsd must be a non-negative dollar amount/);
});
