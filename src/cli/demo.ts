import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatReport } from '../analytics/reports/format-report.ts';
import { loadConfig, resolveUpstreams, type LoadedConfig } from '../config/load-config.ts';
import { startEmulator } from '../emulator/index.ts';
import { isPostgresUrl } from '../ledger/open-ledger.ts';
import { defaultSpoolDir, startGateway } from '../server/start-gateway.ts';
import { parseInteger } from './cli-error.ts';
import { demoWorkload } from './demo-workload.ts';
import { waitForShutdown } from './serve.ts';

export const DEMO_HELP = `costgate demo [--port 4141] [--ledger .costgate/demo.duckdb] [--keep-running]
  Starts the provider emulator as the upstream and the gateway in front of it, replays a small mixed
  workload (features, customers, chat and RAG, three providers) and prints the cost report.
  With --keep-running the gateway stays up on the emulator so you can point an SDK at it.`;

const DEMO_LEDGER = '.costgate/demo.duckdb';

export interface DemoOptions {
  port?: number;
  ledgerPath?: string;
  keepRunning?: boolean;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const log = (line: string) => console.error(`[costgate demo] ${line}`);
  const emulator = await startEmulator({ port: 0 });
  const environment = {
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    ANTHROPIC_BASE_URL: emulator.url,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    // The gateway signs Bedrock calls with its own credentials; the emulator accepts any.
    AWS_ACCESS_KEY_ID: 'demo',
    AWS_SECRET_ACCESS_KEY: 'demo',
    AWS_REGION: 'us-east-1',
  };
  const base = loadConfig(undefined, {});
  const loaded: LoadedConfig = { ...base, upstreams: resolveUpstreams(base.config, environment), source: 'demo' };
  const ledgerPath = options.ledgerPath ?? DEMO_LEDGER;
  if (!options.ledgerPath) {
    // The default demo ledger shows one run, not the sum of every demo ever run.
    for (const path of [ledgerPath, `${ledgerPath}.wal`, defaultSpoolDir(ledgerPath)]) rmSync(path, { recursive: true, force: true });
  }
  if (!isPostgresUrl(ledgerPath)) mkdirSync(dirname(ledgerPath), { recursive: true });
  const gateway = await startGateway({
    loaded,
    port: options.port ?? (options.keepRunning ? 4141 : 0),
    ledgerPath,
    log,
  });
  log(`emulator upstream at ${emulator.url}; gateway at ${gateway.url}; ledger ${ledgerPath}`);

  const workload = demoWorkload();
  let failed = 0;
  for (const request of workload) {
    const response = await fetch(gateway.url + request.path, { method: 'POST', headers: request.headers, body: JSON.stringify(request.body) });
    await response.arrayBuffer();
    if (!response.ok) failed += 1;
  }
  log(`replayed ${workload.length} calls (${failed} failed)`);
  await gateway.recorder.flush();

  const byFeature = await gateway.ledger.report({ by: 'feature' });
  const byCustomer = await gateway.ledger.report({ by: 'customer' });
  console.log('\nCost by feature');
  console.log(formatReport(byFeature, 'feature', 'table'));
  console.log('Cost by customer');
  console.log(formatReport(byCustomer, 'customer', 'table'));
  console.log(`More: npx costgate report --ledger ${ledgerPath} --by model   (or --format json|csv)`);

  const close = async () => {
    await gateway.close();
    await emulator.close();
  };
  if (!options.keepRunning) {
    await close();
    return;
  }
  console.log(`\nDemo gateway still running at ${gateway.url} with the emulator as upstream. Try:`);
  console.log(`  curl ${gateway.url}/v1/chat/completions -H 'content-type: application/json' -H 'x-costgate-feature: try-it' \\`);
  console.log(`    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'`);
  console.log('Ctrl-C to stop.');
  await waitForShutdown(close, log);
}

export async function demoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, ledger: { type: 'string' }, 'keep-running': { type: 'boolean' } },
    strict: true,
  });
  const port = parseInteger(values.port, '--port');
  await runDemo({
    ...(port !== undefined ? { port } : {}),
    ...(values.ledger ? { ledgerPath: values.ledger } : {}),
    keepRunning: values['keep-running'] ?? false,
  });
}
