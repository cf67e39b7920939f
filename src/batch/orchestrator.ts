import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderId } from '../core/provider-id.ts';
import type { Pricer } from '../pricing/pricer.ts';
import type { BatchApi } from '../providers/batch-api.ts';
import { pollChunk, submitChunk } from './chunk-steps.ts';
import { collectChunk } from './collect.ts';
import { failpoint } from './failpoint.ts';
import { ingest } from './ingest.ts';
import { mergeOutput } from './merge.ts';
import { runOnDemandChunk } from './on-demand.ts';
import { type BatchLedger, recordLedger } from './record-ledger.ts';
import type { BatchStore, ChunkRecord, JobDefaults, JobOptions, JobRecord, JobSummary } from './store/batch-store.ts';

/**
 * Drives a job to its end: ingest, plan chunks, submit them under the concurrency and
 * enqueued-token limits, poll with backoff, collect, retry what failed, record the ledger, merge.
 * All progress lives in the store; the loop re-reads it each round, so `resume` after a crash is
 * the same loop started again.
 */

export interface BatchRuntime {
  store: BatchStore;
  api: BatchApi;
  pricer: Pricer;
  ledger: BatchLedger;
  onProgress?: (job: JobRecord, summary: JobSummary, chunks: readonly ChunkRecord[]) => void;
  log?: (line: string) => void;
}

export interface NewJob {
  provider: ProviderId;
  model: string | undefined;
  inputPath: string;
  outputPath: string | undefined;
  workRoot: string;
  options: JobOptions;
  defaults: JobDefaults;
}

export function newJobId(): string {
  return `b${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export async function createJob(store: BatchStore, spec: NewJob): Promise<JobRecord> {
  const jobId = newJobId();
  const job: JobRecord = {
    jobId,
    createdAt: Date.now(),
    provider: spec.provider,
    model: spec.model,
    inputPath: spec.inputPath,
    outputPath: spec.outputPath,
    workDir: `${spec.workRoot}/${jobId}`,
    state: 'ingesting',
    options: spec.options,
    defaults: spec.defaults,
    cancelRequested: false,
    runnerPid: undefined,
    error: undefined,
    totalLines: 0,
    invalidLines: 0,
    duplicateLines: 0,
  };
  await store.createJob(job);
  failpoint('job-created');
  return job;
}

const ACTIVE = new Set(['creating', 'submitted']);
const BEFORE_PROVIDER = new Set(['planned', 'uploading', 'uploaded', 'creating']);

/** Whether one more chunk may go to the provider now without passing the concurrency or token limits. */
function canSubmit(job: JobRecord, chunk: ChunkRecord, chunks: readonly ChunkRecord[]): boolean {
  if (chunk.state === 'creating' || chunk.state === 'uploading') return true; // finishing a call already begun
  const active = chunks.filter((other) => ACTIVE.has(other.state));
  if (active.length >= job.options.concurrency) return false;
  const sameModel = active.filter((other) => other.model === chunk.model);
  const enqueued = sameModel.reduce((sum, other) => sum + other.estTokens, 0);
  return sameModel.length === 0 || enqueued + chunk.estTokens <= job.options.maxEnqueuedTokens;
}

function planOptions(job: JobRecord, api: BatchApi) {
  return {
    limits: job.options.limits,
    wrapperBytes: api.wrapperBytes,
    maxTokens: job.options.maxEnqueuedTokens,
    // The provider envelope around each body: custom id, method, url.
    lineOverhead: api.inputLine(`${job.jobId}c000000-0000000`, '/v1/chat/completions', '').length,
    maxRetries: job.options.maxRetries,
    token: (chunkId: number) => `${job.jobId}c${chunkId}`,
    belowMinimum: api.invoke && job.options.belowMinimum !== 'fail' ? ('on-demand' as const) : ('fail' as const),
  };
}

async function finish(runtime: BatchRuntime, job: JobRecord): Promise<JobRecord> {
  const { store, api, ledger } = runtime;
  await recordLedger(store, job, ledger);
  if (job.outputPath) {
    await mergeOutput(store, api, job, job.outputPath);
    failpoint('merged');
  }
  const state = job.cancelRequested ? 'cancelled' : 'done';
  await store.updateJob(job.jobId, { state, runnerPid: undefined });
  failpoint('finished');
  return { ...job, state, runnerPid: undefined };
}

/**
 * Runs the job until it ends (`until: 'done'`) or until every chunk has been handed to the provider
 * (`until: 'submitted'`, for `costgate batch submit`).
 */
export async function runJob(runtime: BatchRuntime, jobId: string, until: 'done' | 'submitted' = 'done'): Promise<JobRecord> {
  const { store, api, pricer, ledger } = runtime;
  for (;;) {
    const job = await store.getJob(jobId);
    if (!job) throw new Error(`no batch job ${jobId}`);
    if (job.state === 'done' || job.state === 'cancelled' || job.state === 'failed') return job;
    if (job.state === 'ingesting') {
      await ingest(store, job);
      continue;
    }
    if (job.state === 'merging') return finish(runtime, job);

    await recordLedger(store, job, ledger);
    if (!job.cancelRequested) await store.planChunks(jobId, planOptions(job, api));
    const chunks = await store.chunks(jobId);
    const claimed = new Set(chunks.flatMap((chunk) => (chunk.batchId ? [chunk.batchId] : [])));
    const now = Date.now();
    let progressed = false;
    for (const chunk of chunks) {
      try {
        if (chunk.onDemand) {
          if (chunk.state !== 'collected') {
            await runOnDemandChunk(store, api, pricer, ledger, job, chunk);
            chunk.state = 'collected';
            progressed = true;
          }
          continue;
        }
        if (BEFORE_PROVIDER.has(chunk.state)) {
          if (job.cancelRequested && chunk.state !== 'creating') {
            // Never reached the provider: its lines are cancelled without a call.
            await store.updateChunk(jobId, chunk.chunkId, { state: 'ended', outcome: 'cancelled', endedAt: now });
            chunk.state = 'ended';
            chunk.outcome = 'cancelled';
            progressed = true;
          } else if (chunk.nextAttemptAt <= now && canSubmit(job, chunk, chunks)) {
            await submitChunk(store, api, job, chunk, claimed);
            if (chunk.batchId) claimed.add(chunk.batchId);
            progressed = true;
          }
        } else if (chunk.state === 'submitted') {
          if (job.cancelRequested && chunk.message !== 'cancel requested' && chunk.batchId) {
            await api.cancel(chunk.batchId);
            failpoint('cancel-sent');
            await store.updateChunk(jobId, chunk.chunkId, { message: 'cancel requested', nextAttemptAt: now });
            chunk.message = 'cancel requested';
            chunk.nextAttemptAt = now;
          }
          if (chunk.nextAttemptAt <= now) {
            await pollChunk(store, api, job, chunk);
            progressed = true;
          }
        }
        if (chunk.state === 'ended') {
          await collectChunk(store, api, pricer, job, chunk);
          chunk.state = 'collected';
          await recordLedger(store, job, ledger);
          progressed = true;
        }
      } catch (error) {
        // A provider or network failure delays this chunk; the job goes on and retries it later.
        runtime.log?.(`chunk ${chunk.chunkId}: ${(error as Error).message}`);
        const retryAt = Date.now() + job.options.pollIntervalMs * 4;
        await store.updateChunk(jobId, chunk.chunkId, { nextAttemptAt: retryAt, message: (error as Error).message.slice(0, 500) });
        chunk.nextAttemptAt = retryAt;
      }
    }

    const summary = await store.summary(jobId);
    runtime.onProgress?.(job, summary, chunks);
    const open = chunks.some((chunk) => chunk.state !== 'collected');
    if (!open && summary.lines.pending === 0 && summary.lines.queued === 0) {
      if (job.cancelRequested) await store.cancelRemaining(jobId);
      await store.updateJob(jobId, { state: 'merging' });
      failpoint('merging');
      continue;
    }
    if (until === 'submitted' && !chunks.some((chunk) => BEFORE_PROVIDER.has(chunk.state)) && summary.lines.pending === 0) return job;
    if (!progressed) {
      const waiting = chunks.filter((chunk) => chunk.state !== 'collected').map((chunk) => chunk.nextAttemptAt);
      const next = Math.min(...waiting, Date.now() + 2000);
      const pause = Math.min(2000, Math.max(10, next - Date.now()));
      // Waiting on the provider: let `costgate batch status` or `cancel` at the store meanwhile.
      if (pause >= 250) await store.release();
      await sleep(pause);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims the job for this process; another live process running it is an error, a dead one is taken over. */
export async function claimJob(store: BatchStore, jobId: string): Promise<JobRecord> {
  const job = await store.getJob(jobId);
  if (!job) throw new Error(`no batch job ${jobId}`);
  if (job.runnerPid !== undefined && job.runnerPid !== process.pid && alive(job.runnerPid)) {
    throw new Error(`job ${jobId} is being run by process ${job.runnerPid}`);
  }
  await store.updateJob(jobId, { runnerPid: process.pid });
  return job;
}

export async function releaseJob(store: BatchStore, jobId: string): Promise<void> {
  const job = await store.getJob(jobId);
  if (job?.runnerPid === process.pid) await store.updateJob(jobId, { runnerPid: undefined });
}
