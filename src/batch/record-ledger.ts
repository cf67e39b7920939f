import { existsSync, readFileSync } from 'node:fs';
import type { LeverEffect } from '../core/lever.ts';
import type { UsageEvent } from '../core/usage-event.ts';
import { emptyUsage, type Usage } from '../core/usage.ts';
import { openDuckDbLedger } from '../ledger/duckdb/duckdb-ledger.ts';
import { usageEventToJson } from '../ledger/spool/usage-event-json.ts';
import { failpoint } from './failpoint.ts';
import type { BatchStore, JobRecord, UnrecordedLine } from './store/batch-store.ts';

/**
 * Every finished line becomes one ledger row: at the batch price, with the on-demand price as its
 * baseline and the difference as the `batch` lever's saving. Request ids are derived from the job
 * and line (`batch-<job>-<line>`), and Ledger.append ignores ids it already has, so recording
 * again after a crash adds nothing twice. Duplicates (identical requests sent once) are rows of
 * their own: no tokens, no cost, the whole on-demand price saved.
 */

export interface BatchLedger {
  append(events: readonly UsageEvent[]): Promise<void>;
  close(): Promise<void>;
}

const PAGE = 5000;

/**
 * The DuckDB budget of each ledger append (see openBatchLedger). A 5,000-row page needs a few MB
 * of it; the rest caps the checkpoint that merges the pages' row groups (a 50,000-row page would
 * not fit: DuckDB fails it with an out-of-memory error).
 */
const LEDGER_WRITE_MEMORY = '64MB';

export function batchEndpoint(endpoint: string): string {
  return `batch:${endpoint.replace(/^\/v1\//, '').replaceAll('/', '.')}`;
}

export function lineEvent(job: JobRecord, line: UnrecordedLine): UsageEvent {
  const tags = JSON.parse(line.tagsJson) as Record<string, string>;
  const usage: Usage = line.duplicateOf === undefined && line.usageJson ? (JSON.parse(line.usageJson) as Usage) : emptyUsage();
  const succeeded = line.state === 'succeeded';
  const cost = succeeded ? line.cost : 0n;
  const baseline = succeeded ? line.baseline : 0n;
  const event: UsageEvent = {
    requestId: `batch-${job.jobId}-${line.lineNo}`,
    time: line.timeMs || job.createdAt,
    provider: job.provider,
    endpoint: batchEndpoint(line.endpoint),
    requestedModel: line.model || undefined,
    servedModel: line.servedModel ?? (line.model || undefined),
    attribution: {
      tags,
      ...(line.feature === undefined ? {} : { feature: line.feature }),
      ...(line.customer === undefined ? {} : { customer: line.customer }),
      ...(line.user === undefined ? {} : { user: line.user }),
    },
    stream: false,
    status: succeeded ? 200 : line.status,
    errorType: succeeded ? undefined : (line.errorType ?? 'batch_error'),
    latencyMs: line.latencyMs,
    ttfbMs: undefined,
    usage,
    stopReason: line.stopReason,
    cost,
    baselineCost: cost === undefined || baseline === undefined ? cost : baseline,
    priceVersion: succeeded ? line.priceVersion : 'not-billed',
  };
  if (line.batchId) event.batchId = line.batchId;
  if (succeeded && cost !== undefined && baseline !== undefined) {
    const lever: LeverEffect = {
      lever: 'batch',
      saving: baseline - cost,
      estimated: false,
      detail: { job: job.jobId, line: line.lineNo, ...(line.duplicateOf === undefined ? {} : { duplicateOf: line.duplicateOf }) },
    };
    event.levers = [lever];
  }
  if (succeeded && line.duplicateOf === undefined && line.cacheWritePremium !== undefined && line.cacheReadSaving !== undefined) {
    event.cacheWritePremium = line.cacheWritePremium;
    event.cacheReadSaving = line.cacheReadSaving;
  }
  return event;
}

/**
 * Writes the ledger rows of collected chunks, a page at a time, moving each chunk's watermark after
 * its page is in the ledger (a crash in between appends the page again, which the ledger ignores).
 */
export async function recordLedger(store: BatchStore, job: JobRecord, ledger: BatchLedger): Promise<number> {
  let recorded = 0;
  for (const chunk of await store.chunks(job.jobId)) {
    if (chunk.state !== 'collected' || chunk.recordedThrough < 0) continue;
    let after = chunk.recordedThrough;
    for (;;) {
      const lines = await store.unrecorded(job.jobId, chunk.chunkId, after, PAGE);
      if (lines.length > 0) {
        await ledger.append(lines.map((line) => lineEvent(job, line)));
        failpoint('ledger-appended');
        recorded += lines.length;
        after = lines.at(-1)?.lineNo ?? after;
      }
      const done = lines.length < PAGE;
      await store.markRecorded(job.jobId, chunk.chunkId, done ? -1 : after);
      failpoint('ledger-marked');
      if (done) break;
    }
  }
  return recorded;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The ledger file itself, or, while a gateway holds it open, the gateway's admin API
 * (POST /costgate/admin/usage-events), which appends through the gateway's own handle.
 */
export async function openBatchLedger(path: string, markerPath: string): Promise<BatchLedger> {
  if (existsSync(markerPath)) {
    const holder = JSON.parse(readFileSync(markerPath, 'utf8')) as { url: string; pid: number };
    if (alive(holder.pid)) {
      const key = process.env.COSTGATE_ADMIN_KEY;
      return {
        async append(events) {
          const response = await fetch(`${holder.url}/costgate/admin/usage-events`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson', ...(key ? { authorization: `Bearer ${key}` } : {}) },
            body: events.map(usageEventToJson).join('\n'),
          });
          if (!response.ok) throw new Error(`gateway at ${holder.url} refused usage events: ${response.status} ${await response.text()}`);
        },
        async close() {},
      };
    }
  }
  // Each append opens the file and checkpoints on close, so every page lands as a row group of its
  // own, and every few appends DuckDB's checkpoint merges the small ones, rewriting up to a full row
  // group (122,880 rows of every column). Under the default 256MB budget that merge took up to
  // ~270 MB above the job's working memory (a 1M-row ledger, 5,000-row pages); at 64MB DuckDB evicts
  // cached blocks instead, and the merge costs ~40 MB more than an append without one.
  return openDuckDbLedger({ path, writeMemoryLimit: LEDGER_WRITE_MEMORY });
}
