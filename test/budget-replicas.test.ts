import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import OpenAI from 'openai';
import { startEmulator } from '../src/emulator/index.ts';
import { FileKeyStore } from '../src/keys/file-key-store.ts';
import { issueKey } from '../src/keys/virtual-key.ts';
import { parseUsd } from '../src/keys/key-request.ts';
import { dayPeriod } from '../src/pipeline/budgets/budget-periods.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../src/pipeline/shared-state/testing/redis-test-support.ts';

const REPLICAS = 3;
const WORKERS_PER_REPLICA = 3;
const BUDGET_USD = '0.002';

function startReplica(environment: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'support', 'budget-replica.ts')], {
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`replica exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ url: (JSON.parse(line) as { url: string }).url, child }));
  });
}

async function stopReplica(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

test(`${REPLICAS} gateway processes sharing Redis hold one key to its budget under concurrency`, async (context) => {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-replicas-'));
  const prefix = uniquePrefix();
  const redis = connectTestRedis(prefix);
  const emulator = await startEmulator({ port: 0 });
  const children: ChildProcess[] = [];
  try {
    const keysPath = join(directory, 'keys.json');
    const { secret, key } = issueKey({ name: 'shared budget', limits: { dailyBudget: parseUsd(BUDGET_USD, 'budget') } });
    await new FileKeyStore(keysPath).create(key);
    const replicas = await Promise.all(
      Array.from({ length: REPLICAS }, (_, index) => {
        const ledgerDir = join(directory, `replica-${index}`);
        mkdirSync(ledgerDir);
        return startReplica({ EMULATOR_URL: emulator.url, KEYS_PATH: keysPath, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, LEDGER_DIR: ledgerDir, COSTGATE_ADMIN_KEY: 'replica-admin' });
      }),
    );
    children.push(...replicas.map((replica) => replica.child));

    let settled = 0;
    let successes = 0;
    let refusals = 0;
    let largestWorstCase = 0;
    // Output caps vary per call, so the worst case reserved is often far above what a call costs.
    const worker = async (url: string, seed: number) => {
      const client = new OpenAI({ apiKey: secret, baseURL: `${url}/v1`, maxRetries: 0 });
      for (let call = 0; ; call += 1) {
        const maxTokens = 40 + ((seed * 31 + call * 17) % 160);
        try {
          const { response } = await client.chat.completions
            .create({ model: 'gpt-4o-mini', max_tokens: maxTokens, messages: [{ role: 'user', content: `Write about budgets, take ${seed}.${call}` }] })
            .withResponse();
          settled += Number(response.headers.get('x-costgate-cost-usd'));
          successes += 1;
        } catch (error) {
          if (!(error instanceof OpenAI.RateLimitError)) throw error;
          const worst = Number(/may cost up to \$([0-9.]+)/.exec(error.message)?.[1]);
          assert.ok(worst > 0, `a budget refusal: ${error.message}`);
          largestWorstCase = Math.max(largestWorstCase, worst);
          refusals += 1;
          return;
        }
      }
    };
    await Promise.all(replicas.flatMap((replica, index) => Array.from({ length: WORKERS_PER_REPLICA }, (_, worker_) => worker(replica.url, index * 10 + worker_))));

    const budget = Number(BUDGET_USD);
    context.diagnostic(`${successes} calls passed, ${refusals} refused; settled $${settled.toFixed(9)} of $${budget}; largest worst case $${largestWorstCase}`);
    // Every request below was answered by one of three processes; all were counted against one key.
    assert.ok(successes > 10, `${successes} calls passed`);
    assert.equal(refusals, REPLICAS * WORKERS_PER_REPLICA);
    // Overspend: at most one in-flight request per replica (here none, as worst cases hold).
    assert.ok(settled <= budget + REPLICAS * largestWorstCase, `settled $${settled} of $${budget}`);
    assert.ok(settled <= budget + 1e-12, `worst-case reservations keep spend under the budget: $${settled}`);
    // No refusal while budget remained beyond what the calls in flight could still take.
    const inFlight = REPLICAS * WORKERS_PER_REPLICA;
    assert.ok(budget - settled < inFlight * largestWorstCase, `left $${budget - settled} with ${inFlight} x $${largestWorstCase} in flight`);
    // The shared counter agrees with what the calls cost (each rounded up to a nanodollar).
    const counter = Number(await redis.client.get(`${prefix}budget:{${key.id}}:spent:${dayPeriod(Date.now()).period}`)) / 1e9;
    assert.ok(Math.abs(counter - settled) <= successes * 1e-9 + 1e-12, `counter $${counter} vs settled $${settled}`);
  } finally {
    await Promise.all(children.map(stopReplica));
    await emulator.close();
    await deleteKeys(redis, prefix);
    await redis.close();
    rmSync(directory, { recursive: true, force: true });
  }
});
