import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, resolveUpstreams } from '../src/config/load-config.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { formatUsd } from '../src/core/money.ts';
import { startGateway } from '../src/server/start-gateway.ts';
import { percentile } from './statistics.ts';
import { setting } from './env-setting.ts';

/**
 * `npm run bench:resilience`: Anthropic Messages traffic at a fixed concurrency while the emulator
 * answers 529 (overloaded) to every Anthropic call for a few seconds in the middle of the run,
 * switched on through its fault endpoint. The same run is made through three gateways: resilience
 * off (the client sees what the upstream said), retries and breaker at their defaults, and those
 * plus a fallback to the same Claude model on Bedrock. Per run: calls answered, errors the client
 * saw (overall and while the storm lasted), latency, upstream requests, and ledger rows by provider.
 *
 * Knobs (environment): BENCH_CONCURRENCY (16), BENCH_RUN_MS (6000), BENCH_STORM_MS (2000),
 * BENCH_STORM_STATUS (529; 429 and 500 also work), BENCH_UPSTREAM_LATENCY_MS (40).
 */

const settings = {
  concurrency: setting('BENCH_CONCURRENCY', 16),
  runMs: setting('BENCH_RUN_MS', 6000),
  stormMs: setting('BENCH_STORM_MS', 2000),
  stormStatus: setting('BENCH_STORM_STATUS', 529),
  upstreamLatencyMs: setting('BENCH_UPSTREAM_LATENCY_MS', 40),
};

const BEDROCK_SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';

const VARIANTS: Array<{ name: string; resilience: unknown }> = [
  { name: 'off', resilience: { retries: { maxAttempts: 1 }, circuitBreaker: { enabled: false } } },
  { name: 'retries+breaker', resilience: {} },
  {
    name: 'retries+breaker+fallback',
    resilience: { fallbacks: { default: { 'claude-sonnet-4-5': [{ provider: 'bedrock', model: BEDROCK_SONNET }] } } },
  },
];

interface CallResult {
  startedAt: number;
  ms: number;
  status: number;
}

async function runVariant(emulator: RunningEmulator, resilience: unknown) {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-bench-resilience-'));
  const environment = {
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_REGION: 'us-east-1',
  };
  const config = parseConfig({ resilience }, environment, 'bench');
  const gateway = await startGateway({ loaded: { config, upstreams: resolveUpstreams(config, environment), source: 'bench' }, port: 0, ledgerPath: join(directory, 'ledger.duckdb'), log: () => {} });
  const requestsBefore = emulator.requests;
  const results: CallResult[] = [];
  const started = performance.now();
  const stormStart = started + (settings.runMs - settings.stormMs) / 2;
  let stormOn = false;
  const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Summarise the order status for the customer.' }] });

  async function worker(): Promise<void> {
    while (performance.now() - started < settings.runMs) {
      if (!stormOn && performance.now() >= stormStart) {
        stormOn = true;
        await fetch(`${emulator.url}/emulator/faults`, { method: 'POST', body: JSON.stringify({ status: settings.stormStatus, provider: 'anthropic', durationMs: settings.stormMs }) });
      }
      const callStart = performance.now();
      const response = await fetch(`${gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'client' }, body });
      await response.arrayBuffer();
      results.push({ startedAt: callStart - started, ms: performance.now() - callStart, status: response.status });
    }
  }
  await Promise.all(Array.from({ length: settings.concurrency }, worker));
  await gateway.recorder.flush();
  const byProvider = await gateway.ledger.report({ by: 'provider' });
  const upstreamRequests = emulator.requests - requestsBefore;
  await gateway.close();
  await fetch(`${emulator.url}/emulator/faults`, { method: 'DELETE' });
  rmSync(directory, { recursive: true, force: true });
  return { results, upstreamRequests, byProvider, stormFrom: stormStart - started, stormTo: stormStart - started + settings.stormMs };
}

function summarize(name: string, run: Awaited<ReturnType<typeof runVariant>>): void {
  const { results } = run;
  const failed = results.filter((result) => result.status !== 200);
  // Calls sent while the storm was on.
  const inStorm = results.filter((result) => result.startedAt >= run.stormFrom && result.startedAt < run.stormTo);
  const inStormFailed = inStorm.filter((result) => result.status !== 200);
  const latencies = results.map((result) => result.ms).sort((a, b) => a - b);
  const statuses = new Map<number, number>();
  for (const result of failed) statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
  console.log(`\n${name}`);
  console.log(`  calls ${results.length}, answered ${results.length - failed.length} (${((100 * (results.length - failed.length)) / results.length).toFixed(1)}%), client-visible errors ${failed.length} ${JSON.stringify(Object.fromEntries(statuses))}`);
  console.log(`  sent during the storm ${inStorm.length}: errors ${inStormFailed.length} (${inStorm.length ? ((100 * inStormFailed.length) / inStorm.length).toFixed(1) : '0'}%)`);
  console.log(`  latency ms p50 ${percentile(latencies, 0.5).toFixed(1)}, p90 ${percentile(latencies, 0.9).toFixed(1)}, p99 ${percentile(latencies, 0.99).toFixed(1)}, max ${(latencies.at(-1) ?? 0).toFixed(1)}`);
  console.log(`  upstream requests ${run.upstreamRequests} (${(run.upstreamRequests / results.length).toFixed(2)} per call)`);
  for (const row of run.byProvider) {
    console.log(`  ledger ${row.key}: ${row.requests} rows, ${formatUsd(row.cost)}`);
  }
}

const emulator = await startEmulator({ latencyMs: settings.upstreamLatencyMs });
console.log(
  `bench:resilience — concurrency ${settings.concurrency}, ${settings.runMs} ms per run, ${settings.stormStatus} storm on Anthropic for ${settings.stormMs} ms in the middle, upstream latency ${settings.upstreamLatencyMs} ms`,
);
try {
  for (const variant of VARIANTS) summarize(variant.name, await runVariant(emulator, variant.resilience));
} finally {
  await emulator.close();
}
