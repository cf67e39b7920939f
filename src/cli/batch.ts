import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { batchPaths, BatchSetupError, createBatchApi, jobOptions } from '../batch/batch-setup.ts';
import { mergeOutput } from '../batch/merge.ts';
import { claimJob, createJob, releaseJob, runJob } from '../batch/orchestrator.ts';
import { openBatchLedger } from '../batch/record-ledger.ts';
import { boundBatchRunnerHeap } from '../batch/runner-memory.ts';
import { isPostgresUrl, openLedger } from '../ledger/open-ledger.ts';
import type { BatchStore, JobRecord } from '../batch/store/batch-store.ts';
import { openDuckDbBatchStore } from '../batch/store/duckdb-batch-store.ts';
import { loadConfig, type LoadedConfig } from '../config/load-config.ts';
import { formatUsd } from '../core/money.ts';
import { PROVIDER_IDS, type ProviderId } from '../core/provider-id.ts';
import { createPricer } from '../pricing/pricer.ts';
import { holderMarkerPath } from '../server/start-gateway.ts';
import { createProgressReporter, progressLine } from './batch-progress.ts';
import { CliError, parseInteger } from './cli-error.ts';

export const BATCH_HELP = `costgate batch run FILE.jsonl --provider openai|anthropic|bedrock [--model M] [--out results.jsonl]
                  [--feature F] [--customer C] [--max-retries N] [--concurrency N] [--ledger PATH] [--config FILE]
costgate batch submit FILE.jsonl --provider P [...]   ingest and hand every chunk to the provider, then exit
costgate batch status [JOB] | results JOB [--out F] [--failed] | cancel JOB | resume JOB
  Runs a JSONL file (OpenAI batch lines or Anthropic {custom_id, params} lines) through the provider's
  batch API at the batch price: split to its limits, paced, polled, retried, merged in input order.`;

const OPTIONS = {
  provider: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  feature: { type: 'string' },
  customer: { type: 'string' },
  'max-retries': { type: 'string' },
  concurrency: { type: 'string' },
  ledger: { type: 'string' },
  config: { type: 'string' },
  failed: { type: 'boolean' },
  format: { type: 'string' },
} as const;

interface Context {
  loaded: LoadedConfig;
  ledgerPath: string;
  store: BatchStore;
}

async function withContext<T>(values: { config?: string | undefined; ledger?: string | undefined }, work: (context: Context) => Promise<T>): Promise<T> {
  const loaded = loadConfig(values.config);
  const ledgerPath = values.ledger ?? loaded.config.ledger.path;
  const { storePath } = batchPaths(loaded.config.batch, ledgerPath, loaded.config.ledger.localDir);
  const store = await openDuckDbBatchStore({ path: storePath, hold: true });
  try {
    return await work({ loaded, ledgerPath, store });
  } finally {
    await store.close();
  }
}

async function drive(context: Context, job: JobRecord, until: 'done' | 'submitted'): Promise<JobRecord> {
  boundBatchRunnerHeap();
  const api = await createBatchApi(job.provider, context.loaded);
  // A Postgres ledger takes appends from any process; a DuckDB file may be held by a running gateway.
  const ledger = isPostgresUrl(context.ledgerPath) ? await openLedger(context.ledgerPath) : await openBatchLedger(context.ledgerPath, holderMarkerPath(context.ledgerPath));
  const progress = createProgressReporter();
  await claimJob(context.store, job.jobId);
  try {
    return await runJob(
      { store: context.store, api, pricer: createPricer({ overrides: context.loaded.config.prices.overrides }), ledger, onProgress: progress.update, log: (line) => process.stderr.write(`\n[batch] ${line}\n`) },
      job.jobId,
      until,
    );
  } finally {
    progress.done();
    await releaseJob(context.store, job.jobId).catch(() => undefined);
    await ledger.close();
  }
}

async function report(context: Context, job: JobRecord): Promise<void> {
  const summary = await context.store.summary(job.jobId);
  const chunks = await context.store.chunks(job.jobId);
  console.log(`${job.state}: ${progressLine(job, summary, chunks)}`);
  if (job.outputPath && job.state === 'done') console.log(`results: ${job.outputPath}`);
  const failed = await context.store.failedLines(job.jobId, 10);
  const failedCount = summary.lines.failed + summary.lines.invalid + summary.lines.cancelled;
  if (failedCount > 0) {
    console.log(`${failedCount} lines failed (their error lines are in the results; \`costgate batch results ${job.jobId} --failed\` lists them):`);
    for (const line of failed) console.log(`  ${line.customId}: ${line.errorType ?? 'error'}: ${line.errorMessage ?? ''}`);
  }
}

function newJobFrom(context: Context, file: string | undefined, values: Record<string, string | boolean | undefined>) {
  if (!file) throw new CliError('give the input file: costgate batch run FILE.jsonl --provider openai');
  if (!existsSync(file)) throw new CliError(`input file not found: ${file}`);
  const provider = values['provider'] as ProviderId | undefined;
  if (!provider || !PROVIDER_IDS.includes(provider)) throw new CliError(`--provider must be one of ${PROVIDER_IDS.join(', ')}`);
  const overrides: Record<string, number> = {};
  const retries = parseInteger(values['max-retries'] as string | undefined, '--max-retries');
  const concurrency = parseInteger(values['concurrency'] as string | undefined, '--concurrency', 1);
  if (retries !== undefined) overrides['maxRetries'] = retries;
  if (concurrency !== undefined) overrides['concurrency'] = concurrency;
  const { workRoot } = batchPaths(context.loaded.config.batch, context.ledgerPath, context.loaded.config.ledger.localDir);
  const defaults: Record<string, string> = {};
  if (typeof values['feature'] === 'string') defaults['feature'] = values['feature'];
  if (typeof values['customer'] === 'string') defaults['customer'] = values['customer'];
  return createJob(context.store, {
    provider,
    model: values['model'] as string | undefined,
    inputPath: resolve(file),
    outputPath: resolve((values['out'] as string | undefined) ?? `${file.replace(/\.jsonl$/, '')}.results.jsonl`),
    workRoot: resolve(workRoot),
    options: jobOptions(context.loaded.config.batch, provider, overrides),
    defaults,
  });
}

async function findJob(context: Context, jobId: string | undefined): Promise<JobRecord> {
  if (!jobId) throw new CliError('give the job id (costgate batch status lists jobs)');
  const job = await context.store.getJob(jobId);
  if (!job) throw new CliError(`no batch job ${jobId}`);
  return job;
}

export async function batchCommand(argv: string[]): Promise<void> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  try {
    await withContext(values, async (context) => {
      switch (action) {
        case 'run':
        case 'submit': {
          const job = await newJobFrom(context, positionals[0], values);
          console.error(`job ${job.jobId}: ${job.provider}, input ${job.inputPath}`);
          const ended = await drive(context, job, action === 'run' ? 'done' : 'submitted');
          if (action === 'submit') console.log(`${job.jobId} submitted; follow it with \`costgate batch status ${job.jobId}\` and finish it with \`costgate batch resume ${job.jobId}\``);
          else await report(context, ended);
          return;
        }
        case 'resume': {
          const job = await findJob(context, positionals[0]);
          await report(context, await drive(context, job, 'done'));
          return;
        }
        case 'cancel': {
          const job = await findJob(context, positionals[0]);
          if (job.state === 'done' || job.state === 'cancelled') throw new CliError(`job ${job.jobId} has already ended (${job.state})`);
          await context.store.updateJob(job.jobId, { cancelRequested: true });
          // With no live runner, this process cancels the provider batches and keeps what finished.
          await report(context, await drive(context, { ...job, cancelRequested: true }, 'done'));
          return;
        }
        case 'status': {
          if (positionals[0]) return report(context, await findJob(context, positionals[0]));
          const jobs = await context.store.listJobs(50);
          if (jobs.length === 0) console.log('no batch jobs');
          for (const job of jobs) {
            const summary = await context.store.summary(job.jobId);
            const saving = summary.baseline - summary.cost;
            console.log(`${job.jobId}  ${job.provider.padEnd(9)} ${job.state.padEnd(9)} ${summary.lines.succeeded}/${job.totalLines} done  $${formatUsd(summary.cost)} (saved $${formatUsd(saving)})  ${new Date(job.createdAt).toISOString()}`);
          }
          return;
        }
        case 'results': {
          const job = await findJob(context, positionals[0]);
          if (values.failed) {
            for (const line of await context.store.failedLines(job.jobId, Number.MAX_SAFE_INTEGER)) {
              console.log(JSON.stringify({ custom_id: line.customId, state: line.state, error: line.errorType, message: line.errorMessage }));
            }
            return;
          }
          const out = values.out ? resolve(values.out) : job.outputPath;
          if (!out) throw new CliError('give --out FILE');
          const written = await mergeOutput(context.store, await createBatchApi(job.provider, context.loaded), job, out);
          console.log(`${written} lines written to ${out}${job.state === 'done' ? '' : ` (job is ${job.state}: unfinished lines are shown as errors)`}`);
          return;
        }
        default:
          throw new CliError(`unknown batch action "${action ?? ''}" (run, submit, status, results, cancel, resume)`);
      }
    });
  } catch (error) {
    if (error instanceof BatchSetupError || /is being run by process|no batch job/.test((error as Error).message)) throw new CliError((error as Error).message);
    throw error;
  }
}
