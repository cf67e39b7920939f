import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Usage } from '../core/usage.ts';
import { cacheAccounting } from '../pricing/cache-accounting.ts';
import type { Pricer } from '../pricing/pricer.ts';
import type { BatchApi } from '../providers/batch-api.ts';
import { chunkPath } from './chunk-steps.ts';
import { failpoint } from './failpoint.ts';
import type { BatchStore, ChunkRecord, JobRecord, LineOutcome } from './store/batch-store.ts';

/**
 * Collects an ended chunk: streams its results to `results/<chunk>.jsonl` in the output format
 * (the provider's result line with the caller's custom_id), prices each line at the batch rate and
 * at the on-demand rate, and stores the outcomes in slices as they stream in, so a chunk of 50,000
 * results never sits in memory whole. Lines that failed in a way worth retrying go back to
 * pending for a new batch while attempts remain. The chunk counts as collected only once every
 * slice is stored; downloading again after a crash starts its results over (they are read from
 * the provider, never consumed).
 */

export interface LinePrice {
  cost: bigint | undefined;
  baseline: bigint | undefined;
  priceVersion: string | undefined;
  cacheWritePremium: bigint | undefined;
  cacheReadSaving: bigint | undefined;
}

export function priceLine(pricer: Pricer, job: JobRecord, model: string, usage: Usage | undefined, at: number): LinePrice {
  if (!usage) return { cost: undefined, baseline: undefined, priceVersion: undefined, cacheWritePremium: undefined, cacheReadSaving: undefined };
  const input = { provider: job.provider, model, usage, at: new Date(at), batch: true };
  const batch = pricer.cost(input);
  const onDemand = pricer.cost({ ...input, batch: false });
  const cache = batch ? cacheAccounting(pricer, input, batch.cost) : undefined;
  return { cost: batch?.cost, baseline: onDemand?.cost, priceVersion: batch?.priceVersion, cacheWritePremium: cache?.writePremium, cacheReadSaving: cache?.readSaving };
}

const MISSING: Record<string, { type: string; message: string }> = {
  failed: { type: 'batch_failed', message: 'the provider failed the batch' },
  expired: { type: 'expired', message: 'the request did not run before the batch window ended' },
  cancelled: { type: 'canceled', message: 'the batch was cancelled before this request ran' },
};

/** Outcomes stored per store call: bounds both this process's memory and DuckDB's transaction. */
const SLICE = 5000;

export async function collectChunk(store: BatchStore, api: BatchApi, pricer: Pricer, job: JobRecord, chunk: ChunkRecord): Promise<void> {
  const lines = await store.chunkLines(job.jobId, chunk.chunkId);
  const byCustomId = new Map(lines.map((line) => [`${chunk.token}-${line.lineNo}`, line]));
  const outFile = join(job.workDir, 'results', `${chunk.chunkId}.jsonl`);
  const maxRetries = job.cancelRequested ? -1 : job.options.maxRetries;
  const submittedAt = chunk.submittedAt ?? Date.now();
  const latencyMs = Math.max(0, (chunk.endedAt ?? Date.now()) - submittedAt);
  let outcomes: LineOutcome[] = [];
  await store.beginResults(job.jobId, chunk.chunkId);
  if (chunk.batchId) {
    const status = await api.status(chunk.batchId);
    const fd = openSync(outFile, 'w');
    let offset = 0;
    let pending: string[] = [];
    let pendingBytes = 0;
    const flush = (): void => {
      if (pending.length > 0) writeSync(fd, pending.join(''));
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const result of api.results(chunk.batchId, status)) {
        const line = byCustomId.get(result.customId);
        // Another job's line, or one already seen: not ours to record twice.
        if (!line) continue;
        byCustomId.delete(result.customId);
        const text = `${JSON.stringify({ ...result.line, [api.idField]: line.customId })}\n`;
        const length = Buffer.byteLength(text);
        pending.push(text);
        pendingBytes += length;
        if (pendingBytes > 4_000_000) flush();
        const model = job.provider === 'bedrock' ? chunk.model : (result.servedModel ?? chunk.model);
        const price = result.ok ? priceLine(pricer, job, model, result.usage, submittedAt) : undefined;
        outcomes.push({
          lineNo: line.lineNo,
          state: result.ok ? 'succeeded' : result.retryable && line.attempts <= maxRetries ? 'pending' : 'failed',
          outFile,
          outOffset: offset,
          outLength: length - 1,
          status: result.status,
          errorType: result.errorType,
          errorMessage: result.errorMessage,
          servedModel: result.servedModel ?? (result.ok ? chunk.model : undefined),
          usageJson: result.usage ? JSON.stringify(result.usage) : undefined,
          stopReason: result.stopReason,
          cost: price?.cost,
          baseline: price?.baseline,
          priceVersion: price ? price.priceVersion : 'not-billed',
          cacheWritePremium: price?.cacheWritePremium,
          cacheReadSaving: price?.cacheReadSaving,
          latencyMs,
          timeMs: submittedAt,
        });
        offset += length;
        if (outcomes.length >= SLICE) {
          // The result file holds what the stored outcomes point at before they are stored.
          flush();
          await store.appendResults(job.jobId, chunk.chunkId, outcomes);
          outcomes = [];
        }
      }
      flush();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  await store.appendResults(job.jobId, chunk.chunkId, outcomes);
  failpoint('results-downloaded');
  const missing = MISSING[chunk.outcome ?? ''] ?? { type: 'missing_result', message: 'the provider returned no result for this request' };
  const message = chunk.message ? `${missing.message} (${chunk.message})` : missing.message;
  await store.finishResults(job.jobId, chunk.chunkId, { errorType: missing.type, errorMessage: message, maxRetries, timeMs: submittedAt });
  failpoint('results-recorded');
  rmSync(chunkPath(job, chunk), { force: true });
}
