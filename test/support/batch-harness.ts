import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchPaths, createBatchApi, jobOptions } from '../../src/batch/batch-setup.ts';
import { createJob, runJob } from '../../src/batch/orchestrator.ts';
import { openBatchLedger } from '../../src/batch/record-ledger.ts';
import type { JobRecord } from '../../src/batch/store/batch-store.ts';
import { openDuckDbBatchStore } from '../../src/batch/store/duckdb-batch-store.ts';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../../src/config/load-config.ts';
import type { ProviderId } from '../../src/core/provider-id.ts';
import { createPricer } from '../../src/pricing/pricer.ts';

/** A throwaway folder, a config pointing every provider (and S3) at the emulator, and a job runner. */
export interface BatchHarness {
  directory: string;
  loaded: LoadedConfig;
  ledgerPath: string;
  write(name: string, lines: readonly unknown[]): string;
  /** Runs a new job on `input`, or resumes the job already in the store (after a kill). */
  run(provider: ProviderId, input: string, extra?: { model?: string; maxRetries?: number; feature?: string; resume?: boolean }): Promise<JobRecord>;
  close(): void;
}

export function emulatorEnvironment(url: string): Record<string, string> {
  return {
    OPENAI_BASE_URL: `${url}/v1`,
    OPENAI_API_KEY: 'sk-test',
    ANTHROPIC_BASE_URL: url,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_REGION: 'us-east-1',
  };
}

export function batchTestConfig(url: string, directory: string, minRecords = 2, concurrency?: number): Record<string, unknown> {
  return {
    ledger: { path: join(directory, 'ledger.duckdb') },
    // On-demand calls (groups under Bedrock's minimum) go to the emulator's runtime endpoint.
    providers: { bedrock: { endpoint: url } },
    batch: {
      ...(concurrency === undefined ? {} : { concurrency }),
      pollIntervalMs: 20,
      maxPollIntervalMs: 100,
      limits: { openai: { maxRequests: 4 }, anthropic: { maxRequests: 4 }, bedrock: { maxRequests: 4, minRequests: minRecords } },
      bedrock: { bucket: 'batch-bucket', roleArn: 'arn:aws:iam::123456789012:role/BedrockBatch', endpoint: url, s3Endpoint: url },
    },
  };
}

export function createBatchHarness(url: string, minRecords = 2, existing?: string, concurrency?: number): BatchHarness {
  const directory = existing ?? mkdtempSync(join(tmpdir(), 'costgate-batch-'));
  const config = parseConfig(batchTestConfig(url, directory, minRecords, concurrency), emulatorEnvironment(url), 'test');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, emulatorEnvironment(url)), source: 'test' };
  const ledgerPath = config.ledger.path;
  return {
    directory,
    loaded,
    ledgerPath,
    write(name, lines) {
      const path = join(directory, name);
      writeFileSync(path, `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`);
      return path;
    },
    async run(provider, input, extra = {}) {
      const { storePath, workRoot } = batchPaths(config.batch, ledgerPath);
      const store = await openDuckDbBatchStore({ path: storePath, hold: true });
      const ledger = await openBatchLedger(ledgerPath, `${ledgerPath}.gateway.json`);
      try {
        const [previous] = extra.resume ? await store.listJobs(1) : [];
        const job =
          previous ??
          (await createJob(store, {
          provider,
          model: extra.model,
          inputPath: input,
          outputPath: `${input}.out`,
          workRoot,
          options: jobOptions(config.batch, provider, extra.maxRetries === undefined ? {} : { maxRetries: extra.maxRetries }),
          defaults: extra.feature ? { feature: extra.feature } : {},
        }));
        return await runJob({ store, api: await createBatchApi(provider, loaded), pricer: createPricer(), ledger, log: (line) => process.stderr.write(`[batch] ${line}\n`) }, job.jobId);
      } finally {
        await ledger.close();
        await store.close();
      }
    },
    close() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
