import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUsd } from '../src/core/money.ts';
import { parseUsd } from '../src/keys/key-request.ts';
import { checkLedger, countStored, createSchema, deleteRedisPrefix, keySpend, redisSpendCounters, dropSchema, POSTGRES_URL, spooledRequestIds, spoolLeftovers } from './load-faults-ledger.ts';
import { emulatorProcess, freePort, gatewayProcess, type CliProcess } from './load-faults-processes.ts';
import { budgetTable, budgetVerdict, causeTable, faultTable, kindTable, ledgerTable, windowTable, type FaultWindow } from './load-faults-report.ts';
import { restoreServices, servicesUp, startPostgres, startRedis, stopPostgres, stopRedis } from './load-faults-services.ts';
import { Traffic, type KeyName } from './load-faults-traffic.ts';
import { setting as checkedSetting } from './env-setting.ts';

/**
 * `npm run bench:load`: two gateway replicas sharing the machine's Redis and a Postgres ledger,
 * the emulator upstream, sustained mixed traffic (OpenAI and Anthropic, JSON and streamed, two
 * virtual keys, one with a small budget) for BENCH_DURATION_MS, while faults are injected:
 *   t=10s  replica B killed with SIGKILL, started again at t=15s on the same port (replays its spool)
 *   t=25s  the machine's Redis restarted: shut down (nosave, its data lost) and started again
 *   t=40s  the machine's Postgres stopped for 15 s
 *   t=60s  a 10 s 429 storm (OpenAI and Anthropic, BENCH_429_RATE of calls)
 *   t=75s  a 10 s 529 storm on Anthropic (every call; Bedrock is the configured fallback)
 * Then the replicas are stopped gracefully (they flush), and the ledger is compared with what the
 * clients got: one row per successful call (missing, duplicated), spend of the capped key against
 * its budget (bound: one in-flight call per replica), latency per fault window.
 *
 * It stops and starts the machine's services: a benchmark only, never a test. Both are restored
 * in a finally block and on SIGINT.
 *
 * Knobs (environment): BENCH_DURATION_MS (90000), BENCH_CONCURRENCY (24), BENCH_UPSTREAM_LATENCY_MS (40),
 * BENCH_CAPPED_SHARE (0.2), BENCH_CAPPED_RUNS_OUT_AT_S (70: the capped key's budget is sized from
 * a BENCH_WARMUP_MS (5000) warm-up to run out then; the warm-up, on a cold process, sees about half
 * the steady call rate, so in practice it runs out near t=33 s, after the Redis restart where counters
 * are rebuilt from the ledger),
 * BENCH_CAPPED_BUDGET_USD (a fixed budget instead), BENCH_MAX_TOKENS (64), BENCH_REDIS_DOWN_MS (0: started again as soon as it has exited),
 * BENCH_429_RATE (0.5), BENCH_FAILURE_PAUSE_MS (100: a worker's pause after a refused or failed call),
 * BENCH_FAULTS (kill,redis,postgres,429,529), BENCH_FAIL_MODE (closed|open),
 * BENCH_KEEP=1 keeps the schema and Redis keys.
 */

const setting = (name: string, fallback: number): number => checkedSetting(name, fallback, { allowZero: true });

const FAULT_NAMES = ['kill', 'redis', 'postgres', '429', '529'] as const;
type FaultName = (typeof FAULT_NAMES)[number];

const settings = {
  durationMs: setting('BENCH_DURATION_MS', 90_000),
  concurrency: setting('BENCH_CONCURRENCY', 24),
  upstreamLatencyMs: setting('BENCH_UPSTREAM_LATENCY_MS', 40),
  cappedShare: setting('BENCH_CAPPED_SHARE', 0.2),
  cappedBudgetUsd: process.env.BENCH_CAPPED_BUDGET_USD,
  cappedRunsOutAtS: setting('BENCH_CAPPED_RUNS_OUT_AT_S', 70),
  warmupMs: setting('BENCH_WARMUP_MS', 5000),
  maxTokens: setting('BENCH_MAX_TOKENS', 64),
  redisDownMs: setting('BENCH_REDIS_DOWN_MS', 0),
  rate429: setting('BENCH_429_RATE', 0.5),
  failurePauseMs: setting('BENCH_FAILURE_PAUSE_MS', 100),
  failMode: process.env.BENCH_FAIL_MODE === 'open' ? 'open' : 'closed',
  faults: new Set((process.env.BENCH_FAULTS ?? FAULT_NAMES.join(',')).split(',').filter((name): name is FaultName => (FAULT_NAMES as readonly string[]).includes(name))),
  keep: process.env.BENCH_KEEP === '1',
};

const BEDROCK_SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const ADMIN_KEY = 'bench-load-admin';
const log = (line: string) => console.error(`[bench:load] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const schema = `cg_load_${runId}`;
const redisPrefix = `cgload:${runId}:`;
const directory = mkdtempSync(join(tmpdir(), 'costgate-bench-load-'));
const processes: CliProcess[] = [];
let servicesTouched = false;
/** Set when the load ends or fails: a fault still waiting for its time must not start then. */
let faultsClosed = false;
let killedSpool: { ids: string[]; storedAtKill: number } | undefined;

/** When each fault is over (ms since the start); one that would end after the run is not started. */
const FAULT_ENDS: Record<FaultName, number> = { kill: 15_000, redis: 25_000 + settings.redisDownMs, postgres: 55_000, '429': 70_000, '529': 85_000 };
const faultRuns = (name: FaultName) => settings.faults.has(name) && FAULT_ENDS[name] <= settings.durationMs;

async function cleanUp(): Promise<void> {
  for (const child of processes) child.forceKill();
  if (servicesTouched) await restoreServices(log);
  if (settings.keep) {
    log(`kept schema ${schema} and Redis prefix ${redisPrefix}`);
  } else {
    await dropSchema(schema).catch((error: unknown) => log(`could not drop schema ${schema}: ${(error as Error).message}`));
    await deleteRedisPrefix(redisPrefix).catch((error: unknown) => log(`could not delete Redis keys ${redisPrefix}*: ${(error as Error).message}`));
  }
  await Promise.all(processes.map((child) => child.closeLog()));
  log(`logs and local files: ${directory}`);
}

process.once('SIGINT', () => {
  log('SIGINT: restoring services and stopping processes');
  void cleanUp().finally(() => process.exit(130));
});

function gatewayConfig(): string {
  const path = join(directory, 'costgate.json');
  // JSON is YAML, which is what --config reads.
  const config = {
    ledger: { path: `${POSTGRES_URL}?schema=${schema}`, localDir: join(directory, 'local'), flushIntervalMs: 1000 },
    redis: { url: 'redis://127.0.0.1:6379', keyPrefix: redisPrefix },
    // Keys live in the ledger's own database and schema (the shared-mode default).
    keys: { enabled: true },
    budgets: { failMode: settings.failMode },
    resilience: { fallbacks: { default: { 'claude-sonnet-4-5': [{ provider: 'bedrock', model: BEDROCK_SONNET }] } } },
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

async function createKey(gatewayUrl: string, name: string, monthlyBudgetUsd: string): Promise<{ id: string; secret: string }> {
  const response = await fetch(`${gatewayUrl}/costgate/admin/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ name, monthlyBudgetUsd }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`creating key ${name}: HTTP ${response.status} ${text}`);
  const created = JSON.parse(text) as { key: { id: string }; secret: string };
  return { id: created.key.id, secret: created.secret };
}

async function injectStorm(emulatorUrl: string, rule: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${emulatorUrl}/emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  if (!response.ok) throw new Error(`emulator refused fault ${JSON.stringify(rule)}: ${response.status} ${await response.text()}`);
}

/** Runs each enabled fault at its time (relative to `runStart`) and records when it really began and ended. */
async function runFaults(runStart: number, gatewayB: CliProcess, emulatorUrl: string, windows: FaultWindow[]): Promise<void> {
  const at = async (ms: number) => {
    await sleep(runStart + ms - performance.now());
    if (faultsClosed) throw new Error('the load ended before this fault');
  };
  const elapsed = () => performance.now() - runStart;
  const tasks: Array<Promise<void>> = [];
  if (faultRuns('kill')) {
    tasks.push((async () => {
      await at(10_000);
      const from = elapsed();
      await gatewayB.kill();
      const ids = spooledRequestIds(join(directory, 'local'), gatewayB.port);
      killedSpool = { ids, storedAtKill: await countStored(schema, ids) };
      await at(15_000);
      const startMs = await gatewayB.start();
      windows.push({ name: 'replica B down (kill -9)', from, to: elapsed(), note: `SIGKILL at ${(from / 1000).toFixed(1)} s; restart began at 15.0 s, serving after ${(startMs / 1000).toFixed(1)} s` });
    })());
  }
  if (faultRuns('redis')) {
    tasks.push((async () => {
      await at(25_000);
      const from = elapsed();
      servicesTouched = true;
      await stopRedis();
      await sleep(settings.redisDownMs);
      await startRedis();
      windows.push({ name: 'Redis restart', from, to: elapsed(), note: `shutdown nosave (state lost), down ${settings.redisDownMs / 1000} s, answering again at ${(elapsed() / 1000).toFixed(1)} s` });
    })());
  }
  if (faultRuns('postgres')) {
    tasks.push((async () => {
      await at(40_000);
      const from = elapsed();
      servicesTouched = true;
      await stopPostgres();
      const stopped = elapsed();
      await at(55_000);
      await startPostgres();
      windows.push({ name: 'Postgres stopped', from, to: elapsed(), note: `stopped by ${(stopped / 1000).toFixed(1)} s, start at 55.0 s, accepting at ${(elapsed() / 1000).toFixed(1)} s` });
    })());
  }
  if (faultRuns('429')) {
    tasks.push((async () => {
      await at(60_000);
      const from = elapsed();
      for (const provider of ['openai', 'anthropic']) await injectStorm(emulatorUrl, { status: 429, provider, durationMs: 10_000, rate: settings.rate429, retryAfterMs: 1000 });
      windows.push({ name: '429 storm', from, to: from + 10_000, note: `OpenAI and Anthropic, ${Math.round(settings.rate429 * 100)}% of calls, retry-after 1 s` });
    })());
  }
  if (faultRuns('529')) {
    tasks.push((async () => {
      await at(75_000);
      const from = elapsed();
      await injectStorm(emulatorUrl, { status: 529, provider: 'anthropic', durationMs: 10_000 });
      windows.push({ name: '529 storm', from, to: from + 10_000, note: 'every Anthropic call; fallback to Claude on Bedrock' });
    })());
  }
  await Promise.all(tasks);
}

function skippedFaults(): string[] {
  const skipped: string[] = [];
  for (const name of FAULT_NAMES) {
    if (!settings.faults.has(name)) skipped.push(`${name} (left out by BENCH_FAULTS)`);
    else if (FAULT_ENDS[name] > settings.durationMs) skipped.push(`${name} (after the end of a ${settings.durationMs / 1000} s run)`);
  }
  return skipped;
}

async function main(): Promise<void> {
  const up = await servicesUp();
  if (!up.redis || !up.postgres) throw new Error(`the machine's Redis (${up.redis ? 'up' : 'down'}) and Postgres (${up.postgres ? 'up' : 'down'}) must both be running`);
  await createSchema(schema);
  const [emulatorPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
  const emulator = emulatorProcess(emulatorPort, settings.upstreamLatencyMs, join(directory, 'emulator.log'));
  processes.push(emulator);
  await emulator.start();
  const environment = {
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    OPENAI_API_KEY: 'sk-bench-load',
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: 'sk-ant-bench-load',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDBENCHLOAD',
    AWS_SECRET_ACCESS_KEY: 'bench-load-secret',
    AWS_REGION: 'us-east-1',
    COSTGATE_ADMIN_KEY: ADMIN_KEY,
  };
  const configPath = gatewayConfig();
  const gatewayA = gatewayProcess('replica A', portA, configPath, environment, join(directory, 'gateway-a.log'));
  const gatewayB = gatewayProcess('replica B', portB, configPath, environment, join(directory, 'gateway-b.log'));
  processes.push(gatewayA, gatewayB);
  // One after the other: the first runs the ledger migrations and creates the key table.
  const firstStartMs = [await gatewayA.start(), await gatewayB.start()];

  const replicas = [{ name: 'A', url: gatewayA.url }, { name: 'B', url: gatewayB.url }];
  const mainKey = await createKey(gatewayA.url, 'load-main', '1000');
  // Warm-up on the main key: it also measures the call rate and the mean cost the capped budget is sized from.
  const warmup = new Traffic({ replicas, secrets: { main: mainKey.secret, capped: mainKey.secret }, cappedShare: 0, concurrency: settings.concurrency, durationMs: settings.warmupMs, maxTokens: settings.maxTokens, failurePauseMs: settings.failurePauseMs });
  await warmup.run(performance.now());
  await warmup.close();
  await sleep(2500); // two flush intervals, so the warm-up's rows are in the ledger
  const warm = await keySpend(schema, mainKey.id);
  const warmOk = warmup.records.filter((call) => call.outcome === 'ok').length;
  const meanCost = warm.rows > 0 ? warm.spend / BigInt(warm.rows) : 0n;
  const budget = settings.cappedBudgetUsd !== undefined
    ? parseUsd(settings.cappedBudgetUsd, 'BENCH_CAPPED_BUDGET_USD')
    : (meanCost * BigInt(Math.round((warmOk / (settings.warmupMs / 1000)) * settings.cappedShare * settings.cappedRunsOutAtS * 1000))) / 1000n;
  const cappedKey = await createKey(gatewayA.url, 'load-capped', formatUsd(budget));
  const secrets: Record<KeyName, string> = { main: mainKey.secret, capped: cappedKey.secret };

  console.log(
    `bench:load — 2 replicas (Postgres ledger schema ${schema}, Redis prefix ${redisPrefix}, budgets fail ${settings.failMode}), emulator upstream ${settings.upstreamLatencyMs} ms, ` +
      `${settings.concurrency} workers for ${settings.durationMs / 1000} s, OpenAI/Anthropic x JSON/stream round robin, ${Math.round(settings.cappedShare * 100)}% on a key with a $${formatUsd(budget)} budget (${settings.cappedBudgetUsd !== undefined ? 'BENCH_CAPPED_BUDGET_USD' : `sized from a ${settings.warmupMs / 1000} s warm-up, ${warmOk} calls at a mean $${formatUsd(meanCost)}, to run out near t=${settings.cappedRunsOutAtS} s`}), max_tokens ${settings.maxTokens}; replicas started (idle machine) in ${firstStartMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' and ')}`,
  );
  const traffic = new Traffic({ replicas, secrets, cappedShare: settings.cappedShare, concurrency: settings.concurrency, durationMs: settings.durationMs, maxTokens: settings.maxTokens, failurePauseMs: settings.failurePauseMs });
  const windows: FaultWindow[] = [];
  const runStart = performance.now();
  try {
    await Promise.all([traffic.run(runStart), runFaults(runStart, gatewayB, emulator.url, windows)]);
  } finally {
    faultsClosed = true;
    await traffic.close();
    await restoreServices(log);
  }
  const loadMs = performance.now() - runStart;

  // Graceful stops: each replica drains and flushes what it holds (B's includes its replayed spool).
  const stopStart = performance.now();
  const exitCodes = [await gatewayA.stop(), await gatewayB.stop()];
  const stopMs = performance.now() - stopStart;
  const spool = spoolLeftovers(join(directory, 'local'));
  const check = await checkLedger(schema, [...warmup.records, ...traffic.records], killedSpool);
  const facts = { keyId: cappedKey.id, budget, replicas: 2, counter: await redisSpendCounters(redisPrefix, cappedKey.id) };
  const verdict = budgetVerdict(check, facts);
  windows.sort((a, b) => a.from - b.from);

  const records = traffic.records;
  const ok = records.filter((call) => call.outcome === 'ok').length;
  const refused = records.filter((call) => call.outcome === 'refused').length;
  const failed = records.filter((call) => call.outcome === 'failed').length;
  const failover = records.filter((call) => call.outcome === 'ok' && call.replicas.length > 1).length;
  const okLatencies = records.filter((call) => call.outcome === 'ok').map((call) => call.latencyMs).sort((a, b) => a - b);
  const p = (share: number) => (okLatencies.length ? okLatencies[Math.min(okLatencies.length - 1, Math.ceil(share * okLatencies.length) - 1)] ?? 0 : 0);

  console.log(`\nload ran ${(loadMs / 1000).toFixed(1)} s; replicas stopped gracefully in ${(stopMs / 1000).toFixed(1)} s (exit codes A ${exitCodes[0]}, B ${exitCodes[1]})\n`);
  console.log(faultTable(windows, skippedFaults()));
  console.log(`\nrequests sent ${records.length}, answered ${ok} ok (${failover} of them after failover to the other replica), refused ${refused} (capped key over budget), failed ${failed}\n`);
  console.log(causeTable(records));
  console.log('');
  console.log(windowTable(records, windows));
  console.log('');
  console.log(kindTable(records));
  console.log('');
  console.log(ledgerTable(check, spool));
  console.log('');
  console.log(budgetTable(check, facts, verdict, mainKey.id, records));
  const lost = check.missing;
  console.log(
    `\nSUMMARY sent ${records.length}, ok ${ok} (failover ${failover}), refused ${refused}, failed ${failed}; ledger rows for successes ${check.successes - lost}/${check.successes} incl. ${warmOk} warm-up ` +
      `(lost ${lost}, duplicated ${check.duplicated}); overspend ${verdict.overspend} pUSD vs bound ${verdict.bound} pUSD (${verdict.withinBound ? 'within' : 'OVER'}); ` +
      `p50 ${p(0.5).toFixed(0)} ms, p99 ${p(0.99).toFixed(0)} ms` + (skippedFaults().length ? `; not exercised: ${skippedFaults().join(', ')}` : ''),
  );
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
