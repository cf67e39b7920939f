import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageEvent } from '../core/usage-event.ts';
import type { Usage } from '../core/usage.ts';
import { cacheAccounting } from '../pricing/cache-accounting.ts';
import type { Pricer } from '../pricing/pricer.ts';
import type { BatchApi, BatchResult } from '../providers/batch-api.ts';
import { failpoint } from './failpoint.ts';
import { requestsPath } from './ingest.ts';
import { type BatchLedger, lineEvent } from './record-ledger.ts';
import type { BatchStore, ChunkLine, ChunkRecord, JobRecord, LineOutcome, UnrecordedLine } from './store/batch-store.ts';

/**
 * Runs an on-demand chunk: a model group with fewer lines than the provider's batch minimum
 * (Bedrock: 100 records per job), each line sent as one ordinary call at the on-demand price.
 *
 * An on-demand call has no token the provider keeps, so a call cut short by a crash cannot be looked
 * up; it may have been answered and billed. Each line is therefore marked in the store before its
 * call and gets its result after it; on resume, a line marked without a result is never sent again
 * but failed as `interrupted_on_demand`. The answers are written as the provider's batch result
 * records, so the merged output and the store treat them as batch results. Ledger rows are written
 * here, before the chunk counts as collected, as on-demand rows (no batch lever).
 */

const INTERRUPTED = { type: 'interrupted_on_demand', message: 'the process stopped while this request was being sent on demand; it was not sent again, since it may have been answered and billed' };
const CANCELLED = { type: 'canceled', message: 'the job was cancelled before this request was sent' };
const PAGE = 5000;

function onDemandOutcome(pricer: Pricer, job: JobRecord, chunk: ChunkRecord, line: ChunkLine, result: BatchResult, placed: { outFile: string; outOffset: number; outLength: number }, sentAt: number, latencyMs: number): LineOutcome {
  const usage = result.ok ? result.usage : undefined;
  const input = usage ? { provider: job.provider, model: chunk.model, usage, at: new Date(sentAt), batch: false } : undefined;
  const price = input ? pricer.cost(input) : undefined;
  const cache = input && price ? cacheAccounting(pricer, input, price.cost) : undefined;
  return {
    lineNo: line.lineNo,
    state: result.ok ? 'succeeded' : 'failed',
    ...placed,
    status: result.status,
    errorType: result.errorType,
    errorMessage: result.errorMessage,
    servedModel: result.servedModel ?? (result.ok ? chunk.model : undefined),
    usageJson: usage ? JSON.stringify(usage) : undefined,
    stopReason: result.stopReason,
    cost: price?.cost,
    baseline: price?.cost,
    priceVersion: result.ok ? price?.priceVersion : 'not-billed',
    cacheWritePremium: cache?.writePremium,
    cacheReadSaving: cache?.readSaving,
    latencyMs,
    timeMs: sentAt,
  };
}

function unanswered(line: ChunkLine, reason: { type: string; message: string }, timeMs: number): LineOutcome {
  return {
    lineNo: line.lineNo,
    state: 'failed',
    outFile: '',
    outOffset: 0,
    outLength: 0,
    status: 0,
    errorType: reason.type,
    errorMessage: reason.message,
    servedModel: undefined,
    usageJson: undefined,
    stopReason: undefined,
    cost: undefined,
    baseline: undefined,
    priceVersion: 'not-billed',
    cacheWritePremium: undefined,
    cacheReadSaving: undefined,
    latencyMs: 0,
    timeMs,
  };
}

/** The batch row made an on-demand row: the gateway's endpoint name, no batch lever, nothing saved. */
export function onDemandEvent(job: JobRecord, line: UnrecordedLine): UsageEvent {
  const event = lineEvent(job, line);
  delete event.levers;
  delete event.batchId;
  return { ...event, endpoint: line.endpoint, baselineCost: event.cost };
}

async function recordOnDemand(store: BatchStore, job: JobRecord, chunk: ChunkRecord, ledger: BatchLedger): Promise<void> {
  let after = chunk.recordedThrough;
  if (after < 0) return;
  for (;;) {
    const lines = await store.unrecorded(job.jobId, chunk.chunkId, after, PAGE);
    if (lines.length > 0) {
      await ledger.append(lines.map((line) => onDemandEvent(job, line)));
      failpoint('on-demand-ledger-appended');
      after = lines.at(-1)?.lineNo ?? after;
    }
    const done = lines.length < PAGE;
    await store.markRecorded(job.jobId, chunk.chunkId, done ? -1 : after);
    if (done) return;
  }
}

function readRequest(fd: number, line: ChunkLine): string {
  const buffer = Buffer.allocUnsafe(line.requestLength);
  readSync(fd, buffer, 0, line.requestLength, line.requestOffset);
  return buffer.toString('utf8');
}

export async function runOnDemandChunk(store: BatchStore, api: BatchApi, pricer: Pricer, ledger: BatchLedger, job: JobRecord, chunk: ChunkRecord): Promise<void> {
  const invoke = api.invoke?.bind(api);
  const lines = await store.chunkLines(job.jobId, chunk.chunkId);
  const { marked, answered } = await store.sendingProgress(job.jobId, chunk.chunkId);
  const now = Date.now();
  // Marked before a crash and never answered: perhaps answered upstream, so failed rather than repeated.
  const interrupted = lines.filter((line) => marked.has(line.lineNo) && !answered.has(line.lineNo));
  await store.appendResults(job.jobId, chunk.chunkId, interrupted.map((line) => unanswered(line, INTERRUPTED, now)));
  const unsent = lines.filter((line) => !marked.has(line.lineNo) && !answered.has(line.lineNo));
  if (!invoke || job.cancelRequested) {
    const reason = invoke ? CANCELLED : { type: 'below_minimum_records', message: `the ${job.provider} adapter cannot send requests on demand` };
    await store.appendResults(job.jobId, chunk.chunkId, unsent.map((line) => unanswered(line, reason, now)));
  } else {
    const outFile = join(job.workDir, 'results', `${chunk.chunkId}.jsonl`);
    const out = openSync(outFile, 'a');
    const source = openSync(requestsPath(job), 'r');
    // Appended after whatever an interrupted run left: stored outcomes point at their own bytes.
    let offset = fstatSync(out).size;
    const queue = [...unsent];
    const worker = async (): Promise<void> => {
      for (let line = queue.shift(); line; line = queue.shift()) {
        const body = readRequest(source, line);
        await store.markSending(job.jobId, chunk.chunkId, line.lineNo);
        failpoint('on-demand-intent-recorded');
        // The call takes seconds: let `costgate batch status` or `cancel` at the store meanwhile.
        await store.release();
        const sentAt = Date.now();
        let result: BatchResult;
        try {
          result = await invoke(line.customId, chunk.model, chunk.endpoint, body);
        } catch (error) {
          // The request may have reached the provider: reported, never sent again.
          result = { customId: line.customId, ok: false, status: 0, usage: undefined, servedModel: undefined, stopReason: undefined, errorType: 'network_error', errorMessage: (error as Error).message, retryable: false, line: api.errorLine(line.customId, 'network_error', (error as Error).message) };
        }
        failpoint('on-demand-sent');
        const text = `${JSON.stringify({ ...result.line, [api.idField]: line.customId })}\n`;
        const length = Buffer.byteLength(text);
        const at = offset;
        offset += length;
        writeSync(out, text);
        fsyncSync(out);
        const placed = { outFile, outOffset: at, outLength: length - 1 };
        await store.appendResults(job.jobId, chunk.chunkId, [onDemandOutcome(pricer, job, chunk, line, result, placed, sentAt, Date.now() - sentAt)]);
        failpoint('on-demand-result-recorded');
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(job.options.concurrency, unsent.length)) }, worker));
    } finally {
      closeSync(out);
      closeSync(source);
    }
  }
  await recordOnDemand(store, job, chunk, ledger);
  failpoint('on-demand-recorded');
  // Every line has its result by now; nothing is left for `missing` to fill.
  await store.finishResults(job.jobId, chunk.chunkId, { errorType: INTERRUPTED.type, errorMessage: INTERRUPTED.message, maxRetries: -1, timeMs: now });
  failpoint('on-demand-collected');
}
