import { closeSync, existsSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchApi, BatchChunkFile } from '../providers/batch-api.ts';
import { failpoint } from './failpoint.ts';
import { requestsPath } from './ingest.ts';
import type { BatchStore, ChunkRecord, JobRecord } from './store/batch-store.ts';

/**
 * The provider calls for one chunk, each bracketed by store writes: the intent (state and time)
 * is committed before the call and the outcome after it. A kill between the two leaves the intent,
 * and the next step looks the outcome up at the provider (by the chunk's token) before calling again.
 */

export function chunkPath(job: JobRecord, chunk: ChunkRecord): string {
  return join(job.workDir, 'chunks', `${chunk.chunkId}.jsonl`);
}

/** The provider's own custom id for a line: the chunk token, so results and crashes can be traced. */
export function lineCustomId(chunk: ChunkRecord, lineNo: number): string {
  return `${chunk.token}-${lineNo}`;
}

/** Writes the chunk's input file from the ingested request bodies (deterministic, so it can be redone). */
export async function buildChunkFile(store: BatchStore, api: BatchApi, job: JobRecord, chunk: ChunkRecord): Promise<BatchChunkFile> {
  const path = chunkPath(job, chunk);
  const lines = await store.chunkLines(job.jobId, chunk.chunkId);
  const source = openSync(requestsPath(job), 'r');
  const partial = `${path}.partial`;
  const target = openSync(partial, 'w');
  let bytes = 0;
  try {
    let pending: string[] = [];
    let pendingBytes = 0;
    for (const line of lines) {
      const buffer = Buffer.allocUnsafe(line.requestLength);
      readSync(source, buffer, 0, line.requestLength, line.requestOffset);
      const text = `${api.inputLine(lineCustomId(chunk, line.lineNo), chunk.endpoint, buffer.toString('utf8'))}\n`;
      pending.push(text);
      pendingBytes += text.length;
      if (pendingBytes > 4_000_000) {
        bytes += writeSync(target, pending.join(''));
        pending = [];
        pendingBytes = 0;
      }
    }
    bytes += writeSync(target, pending.join(''));
  } finally {
    closeSync(source);
    closeSync(target);
  }
  renameSync(partial, path);
  return { path, bytes, lines: lines.length, model: chunk.model, endpoint: chunk.endpoint };
}

async function chunkFile(store: BatchStore, api: BatchApi, job: JobRecord, chunk: ChunkRecord): Promise<BatchChunkFile> {
  const path = chunkPath(job, chunk);
  if (!existsSync(path)) return buildChunkFile(store, api, job, chunk);
  return { path, bytes: statSync(path).size, lines: chunk.lines, model: chunk.model, endpoint: chunk.endpoint };
}

async function update(store: BatchStore, chunk: ChunkRecord, patch: Partial<ChunkRecord>): Promise<void> {
  await store.updateChunk(chunk.jobId, chunk.chunkId, patch);
  Object.assign(chunk, patch);
}

/** Moves a chunk through upload and create as far as it can go now. */
export async function submitChunk(store: BatchStore, api: BatchApi, job: JobRecord, chunk: ChunkRecord, claimed: ReadonlySet<string>): Promise<void> {
  const now = (): number => Date.now();
  let file: BatchChunkFile | undefined;
  if (chunk.state === 'planned') {
    file = await buildChunkFile(store, api, job, chunk);
    failpoint('upload-intent');
    await update(store, chunk, { state: 'uploading', intentAt: now() });
    failpoint('upload-intent-recorded');
  }
  if (chunk.state === 'uploading') {
    file ??= await chunkFile(store, api, job, chunk);
    const fileRef = (await api.findUpload(chunk.token)) ?? (await api.upload(chunk.token, file));
    failpoint('uploaded');
    await update(store, chunk, { state: 'uploaded', fileRef });
    failpoint('upload-recorded');
  }
  let fresh = false;
  if (chunk.state === 'uploaded') {
    await update(store, chunk, { state: 'creating', intentAt: now() });
    failpoint('create-intent-recorded');
    fresh = true;
  }
  if (chunk.state !== 'creating') return;
  file ??= await chunkFile(store, api, job, chunk);
  if (!fresh) {
    // A create may have reached the provider before the process died: find it rather than repeat it.
    const found = await api.findCreated(chunk.token, file, chunk.intentAt ?? 0, claimed);
    failpoint('create-looked-up');
    if (found && 'batchId' in found) {
      await update(store, chunk, { state: 'submitted', batchId: found.batchId, submittedAt: chunk.intentAt ?? now(), nextAttemptAt: now(), pollIntervalMs: job.options.pollIntervalMs });
      failpoint('create-found-recorded');
      return;
    }
    if (found) {
      // Look-alikes still running; wait until their results tell which one is ours.
      await update(store, chunk, { nextAttemptAt: now() + job.options.maxPollIntervalMs, message: `waiting to identify one of ${found.ambiguous.join(', ')}` });
      return;
    }
  }
  const outcome = await api.create(chunk.token, chunk.fileRef ?? file.path, file);
  failpoint('created');
  if ('batchId' in outcome) {
    await update(store, chunk, { state: 'submitted', batchId: outcome.batchId, submittedAt: now(), nextAttemptAt: now() + job.options.pollIntervalMs, pollIntervalMs: job.options.pollIntervalMs, message: undefined });
  } else if ('retryAfterMs' in outcome) {
    // The provider answered no (429, 5xx): nothing was created, so going back to 'uploaded' is safe.
    await update(store, chunk, { state: 'uploaded', nextAttemptAt: now() + outcome.retryAfterMs, message: `create refused for now: ${outcome.message}` });
  } else {
    await update(store, chunk, { state: 'ended', outcome: 'failed', endedAt: now(), message: `create rejected: ${outcome.rejected}` });
  }
  failpoint('create-recorded');
}

/** One status call; on the way to the end the interval backs off (x1.5 up to the maximum). */
export async function pollChunk(store: BatchStore, api: BatchApi, job: JobRecord, chunk: ChunkRecord): Promise<void> {
  if (!chunk.batchId) return;
  const status = await api.status(chunk.batchId);
  failpoint('polled');
  const now = Date.now();
  const counts = { providerStatus: status.status, succeeded: status.counts.succeeded, failed: status.counts.failed };
  if (status.ended) {
    await update(store, chunk, { ...counts, state: 'ended', outcome: status.outcome, endedAt: now, message: status.message });
  } else {
    const interval = Math.min(job.options.maxPollIntervalMs, Math.max(job.options.pollIntervalMs, Math.round(chunk.pollIntervalMs * 1.5)));
    await update(store, chunk, { ...counts, nextAttemptAt: now + interval, pollIntervalMs: interval });
  }
  failpoint('poll-recorded');
}
