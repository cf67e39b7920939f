import { join } from 'node:path';
import type { BatchConfig } from '../config/batch-config.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import type { ProviderId } from '../core/provider-id.ts';
import { ledgerLocalDir } from '../ledger/open-ledger.ts';
import type { BatchApi } from '../providers/batch-api.ts';
import type { JobOptions } from './store/batch-store.ts';

/** Where batch state lives and how each provider's batch API is reached, from the config. */

/** `localDir` is ledger.localDir: a Postgres ledger URL has no folder to keep these beside. */
export function batchPaths(config: BatchConfig, ledgerPath: string, localDir?: string): { storePath: string; workRoot: string } {
  const folder = ledgerLocalDir(ledgerPath, localDir);
  return { storePath: config.storePath ?? join(folder, 'batch.duckdb'), workRoot: config.workDir ?? join(folder, 'batch') };
}

export function jobOptions(config: BatchConfig, provider: ProviderId, overrides: Partial<JobOptions> = {}): JobOptions {
  return {
    maxRetries: config.maxRetries,
    concurrency: config.concurrency,
    maxEnqueuedTokens: config.maxEnqueuedTokens,
    pollIntervalMs: config.pollIntervalMs,
    maxPollIntervalMs: config.maxPollIntervalMs,
    limits: config.limits[provider],
    belowMinimum: config.bedrock?.belowMinimum ?? 'on-demand',
    ...overrides,
  };
}

export class BatchSetupError extends Error {
  override name = 'BatchSetupError';
}

/**
 * The job's provider module only is loaded: a batch process stays small (the Bedrock one brings
 * the AWS SDK, ~25 MB that an OpenAI job has no use for).
 */
export async function createBatchApi(provider: ProviderId, loaded: LoadedConfig): Promise<BatchApi> {
  const { upstreams, config } = loaded;
  switch (provider) {
    case 'openai':
      return (await import('../providers/openai/openai-batch-api.ts')).createOpenAIBatchApi(upstreams.openai);
    case 'anthropic':
      return (await import('../providers/anthropic/anthropic-batch-api.ts')).createAnthropicBatchApi(upstreams.anthropic);
    case 'bedrock': {
      const bedrock = config.batch.bedrock;
      if (!bedrock) {
        throw new BatchSetupError('Bedrock batch needs batch.bedrock.bucket and batch.bedrock.roleArn in costgate.yaml (an S3 bucket and a service role Bedrock can use to read and write it)');
      }
      const { createBedrockBatchApi } = await import('../providers/bedrock/bedrock-batch-api.ts');
      return createBedrockBatchApi({
        region: bedrock.region ?? upstreams.bedrock.region,
        credentials: upstreams.bedrock.credentials,
        bucket: bedrock.bucket,
        prefix: bedrock.prefix,
        roleArn: bedrock.roleArn,
        endpoint: bedrock.endpoint,
        s3Endpoint: bedrock.s3Endpoint,
        timeoutHours: bedrock.timeoutHours,
        runtimeEndpoint: upstreams.bedrock.endpoint,
        runtimeRegion: upstreams.bedrock.region,
      });
    }
  }
}
