import { join } from 'node:path';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb/duckdb-ledger.ts';
import { analyticsUnsupported } from '../src/ledger/analytics.ts';
import type { Ledger } from '../src/ledger/ledger.ts';
import { createUsageRecorder } from '../src/ledger/usage-recorder.ts';
import { createDefaultPipeline } from '../src/pipeline/default-pipeline.ts';
import { UpstreamClient } from '../src/pipeline/forward/upstream-client.ts';
import type { UsageSink } from '../src/pipeline/record-usage/record-usage-stage.ts';
import { createPricer } from '../src/pricing/pricer.ts';
import { createGatewayServer } from '../src/server/gateway-server.ts';
import { createAdapters, startGateway } from '../src/server/start-gateway.ts';
import { serveTarget, type ServedTarget } from './target-process.ts';

/**
 * Child process: costgate with the default pipeline.
 * Arguments: the emulator's URL, the ledger file, and the usage mode:
 * - `duckdb` (the benchmark): startGateway as shipped, spool + DuckDB ledger;
 * - `spool` (diagnosis): the same recorder and spool, but a ledger that only counts rows;
 * - `off` (diagnosis): usage events built and priced, then dropped.
 * The diagnostic modes wire the gateway by hand like startGateway does, to split the overhead.
 */
export type UsageMode = 'duckdb' | 'spool' | 'off';

function countingLedger(): Ledger {
  let rows = 0;
  const refuse = () => Promise.reject(new Error('the counting ledger keeps no rows to query'));
  return {
    async append(events) {
      rows += events.length;
    },
    report: refuse,
    unpricedModels: refuse,
    outputStatistics: refuse,
    recordOutcomes: async () => {},
    outcomes: refuse,
    get: refuse,
    count: async () => rows,
    close: async () => {},
    ...analyticsUnsupported('the counting ledger keeps no rows to query'),
  };
}

async function startShipped(loaded: LoadedConfig, ledgerPath: string): Promise<ServedTarget> {
  const gateway = await startGateway({
    loaded,
    port: 0,
    ledgerPath,
    log: (line) => process.stderr.write(`costgate: ${line}\n`),
  });
  return {
    url: gateway.url,
    // Usage rows queued during a window are committed inside it, so the ledger's cost is charged there.
    settle: () => gateway.recorder.flush(),
    async close() {
      await gateway.close();
      // Reopened after close, which flushed everything, to prove every call reached the ledger.
      const ledger = await openDuckDbLedger({ path: ledgerPath, mustExist: true });
      try {
        return { ledgerRows: await ledger.count() };
      } finally {
        await ledger.close();
      }
    },
  };
}

async function startDiagnostic(loaded: LoadedConfig, ledgerPath: string, mode: 'spool' | 'off'): Promise<ServedTarget> {
  const ledger = countingLedger();
  const recorder =
    mode === 'spool'
      ? await createUsageRecorder({ ledger, spoolDir: join(ledgerPath, '..', 'spool'), flushIntervalMs: loaded.config.ledger.flushIntervalMs })
      : undefined;
  let dropped = 0;
  const usage: UsageSink = recorder ?? { record: () => void (dropped += 1) };
  const upstream = new UpstreamClient();
  const server = createGatewayServer({
    adapters: createAdapters(loaded),
    pipeline: createDefaultPipeline({
      config: loaded.config,
      pricer: createPricer({ overrides: loaded.config.prices.overrides }),
      usage,
      upstream,
      dataDir: join(ledgerPath, '..'),
    }),
    maxBodyBytes: loaded.config.server.maxBodyBytes,
  });
  const url = await server.listen(0, '127.0.0.1');
  return {
    url,
    settle: async () => recorder?.flush(),
    async close() {
      await server.close();
      await upstream.close();
      await recorder?.close();
      return { ledgerRows: recorder ? await ledger.count() : dropped };
    },
  };
}

serveTarget(async () => {
  const [emulatorUrl, ledgerPath, mode = 'duckdb'] = process.argv.slice(2);
  if (!emulatorUrl || !ledgerPath || !['duckdb', 'spool', 'off'].includes(mode)) {
    throw new Error('usage: run-gateway.ts <emulator url> <ledger file> [duckdb|spool|off]');
  }
  const environment = { OPENAI_BASE_URL: `${emulatorUrl}/v1`, OPENAI_API_KEY: 'sk-bench' };
  const config = parseConfig({}, environment, 'bench');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'bench' };
  return mode === 'duckdb' ? startShipped(loaded, ledgerPath) : startDiagnostic(loaded, ledgerPath, mode as 'spool' | 'off');
});
