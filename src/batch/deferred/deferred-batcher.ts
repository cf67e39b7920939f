import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BatchConfig } from '../../config/batch-config.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { DeferQueue, DeferredRequest } from '../../pipeline/defer/defer-queue.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { BatchApi } from '../../providers/batch-api.ts';
import { responseOfBatchLine } from '../../providers/batch-result-body.ts';
import { jobOptions } from '../batch-setup.ts';
import { claimJob, createJob, runJob } from '../orchestrator.ts';
import type { BatchLedger } from '../record-ledger.ts';
import type { BatchStore } from '../store/batch-store.ts';
import { deliverWebhook } from './deliver-webhook.ts';

/**
 * The gateway side of deferred requests. Each request is written (fsync'd) to
 * `<dir>/requests/<id>.json` before the 202 goes out. Requests are gathered per provider and model
 * and flushed when a group reaches `maxRequests` or its oldest has waited `maxWaitMs`: the flush
 * writes the group as a batch input file and a manifest, then hands the file to the orchestrator as
 * an ordinary batch job (same store, split, poll, retry, ledger rows at the batch price). When the
 * job is done, each line's response goes to `<dir>/results/<id>.json` (what GET
 * /costgate/deferred/{id} serves) and, when the client named one, to its webhook.
 *
 * Restart: requests without a manifest are pending again; a manifest without a job id is matched to
 * the job created from its input file (or the job is created); a manifest with a job resumes it.
 * A request is in at most one manifest, so no request is sent twice.
 */

export interface DeferredBatcherOptions {
  config: BatchConfig;
  /** Folder for requests, manifests and results, e.g. `<ledger dir>/deferred`. */
  directory: string;
  /** Folder for batch jobs' spill files (the orchestrator's work root). */
  workRoot: string;
  store: BatchStore;
  apiFor: (provider: ProviderId) => Promise<BatchApi>;
  pricer: Pricer;
  ledger: BatchLedger;
  log?: (line: string) => void;
}

export interface DeferredResult {
  id: string;
  status: 'completed' | 'failed';
  /** The provider's HTTP status for this request (200 when it succeeded). */
  httpStatus: number;
  /** The provider's response body, as an on-demand call would have returned it, or its error. */
  response: unknown;
  jobId: string;
  completedAt: number;
  /** The caller's hashed API key; GET /costgate/deferred/{id} answers only that key. */
  owner?: string;
}

export type DeferredLookup = { status: 'pending' | 'submitted'; id: string; receivedAt: number; jobId?: string; owner?: string } | DeferredResult | undefined;

interface StoredRequest extends DeferredRequest {
  id: string;
}

interface Manifest {
  flushId: string;
  provider: ProviderId;
  ids: string[];
  inputPath: string;
  jobId?: string;
}

export interface DeferredBatcher extends DeferQueue {
  lookup(id: string): Promise<DeferredLookup>;
  /** Flushes every group now (tests, shutdown is not a reason: pending requests survive on disk). */
  flushAll(): Promise<void>;
  /** Resolves once every running job has finished (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const ID = /^d[0-9a-z]{6,64}$/;

export function isDeferredId(id: string): boolean {
  return ID.test(id);
}

async function writeDurably(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function inputLine(request: StoredRequest): string {
  const metadata = { feature: request.feature, customer: request.customer, user: request.user };
  return request.provider === 'anthropic'
    ? JSON.stringify({ custom_id: request.id, params: request.body, metadata })
    : JSON.stringify({ custom_id: request.id, method: 'POST', url: request.upstreamPath, body: request.body, metadata });
}

export async function openDeferredBatcher(options: DeferredBatcherOptions): Promise<DeferredBatcher> {
  const { config, directory, store } = options;
  const settings = config.defer;
  const log = options.log ?? (() => {});
  const requestsDir = join(directory, 'requests');
  const flushesDir = join(directory, 'flushes');
  const resultsDir = join(directory, 'results');
  await Promise.all([requestsDir, flushesDir, resultsDir].map((folder) => mkdir(folder, { recursive: true })));

  /** Pending (not yet flushed) requests per "provider model". */
  const groups = new Map<string, StoredRequest[]>();
  const running = new Set<Promise<void>>();
  /** Ids in a manifest (submitted) and their job, for lookups. */
  const submitted = new Map<string, string | undefined>();
  let closed = false;

  const groupKey = (request: DeferredRequest): string => `${request.provider} ${request.model}`;
  const track = (work: Promise<void>): void => {
    const tracked = work.catch((error: unknown) => log(`deferred: ${(error as Error).stack ?? String(error)}`)).finally(() => running.delete(tracked));
    running.add(tracked);
  };

  async function finishJob(manifest: Manifest, jobId: string): Promise<void> {
    const api = await options.apiFor(manifest.provider);
    await claimJob(store, jobId);
    const job = await runJob({ store, api, pricer: options.pricer, ledger: options.ledger, log }, jobId);
    const outputPath = job.outputPath;
    const seen = new Set<string>();
    const ids = new Set(manifest.ids);
    if (outputPath && existsSync(outputPath)) {
      const lines = createInterface({ input: createReadStream(outputPath), crlfDelay: Infinity });
      for await (const text of lines) {
        if (!text) continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        const id = String(line[api.idField] ?? '');
        if (!ids.has(id)) continue;
        seen.add(id);
        await settle(id, jobId, responseOfBatchLine(manifest.provider, line));
      }
    }
    for (const id of manifest.ids) {
      if (!seen.has(id)) await settle(id, jobId, { ok: false, status: 500, body: { error: { type: 'batch_error', message: `batch job ${jobId} ended ${job.state} without a result` } } });
    }
    await rm(join(flushesDir, `${manifest.flushId}.json`), { force: true });
    await rm(manifest.inputPath, { force: true });
    // Results now live in results/ for retentionDays; the merged copy would outlive them.
    if (outputPath) await rm(outputPath, { force: true });
  }

  async function settle(id: string, jobId: string, outcome: { ok: boolean; status: number; body: unknown }): Promise<void> {
    const resultPath = join(resultsDir, `${id}.json`);
    let result = await readJson<DeferredResult>(resultPath);
    if (!result) {
      const owner = (await readJson<StoredRequest>(join(requestsDir, `${id}.json`)))?.owner;
      result = { id, status: outcome.ok ? 'completed' : 'failed', httpStatus: outcome.status, response: outcome.body, jobId, completedAt: Date.now(), ...(owner ? { owner } : {}) };
      await writeDurably(resultPath, JSON.stringify(result));
    }
    await notify(result);
    submitted.delete(id);
  }

  /** Sends the result to the request's webhook (in the background), then forgets the request. */
  async function notify(result: DeferredResult): Promise<void> {
    const requestPath = join(requestsDir, `${result.id}.json`);
    const request = await readJson<StoredRequest>(requestPath);
    const secret = settings.webhookSecret;
    if (!request?.webhook || !secret) {
      await rm(requestPath, { force: true });
      return;
    }
    const { owner: _owner, ...visible } = result;
    const body = JSON.stringify({ object: 'costgate.deferred', ...visible });
    const webhook = request.webhook;
    track(
      deliverWebhook({ url: webhook, secret, body, deliveryId: result.id, timeoutMs: settings.webhookTimeoutMs, attempts: settings.webhookAttempts, log }).then(async (delivered) => {
        if (!delivered) log(`deferred: gave up on webhook ${webhook} for ${result.id}; the result stays at GET /costgate/deferred/${result.id}`);
        if (!closed) await rm(requestPath, { force: true });
      }),
    );
  }

  async function startJob(manifest: Manifest): Promise<void> {
    let jobId = manifest.jobId;
    if (!jobId) {
      // A crash between createJob and writing its id back: the job is the one made from this input.
      const existing = (await store.listJobs(1000)).find((job) => job.inputPath === manifest.inputPath);
      const job =
        existing ??
        (await createJob(store, {
          provider: manifest.provider,
          model: undefined,
          inputPath: manifest.inputPath,
          outputPath: `${manifest.inputPath}.out`,
          workRoot: options.workRoot,
          options: jobOptions(config, manifest.provider),
          defaults: {},
        }));
      jobId = job.jobId;
      manifest.jobId = jobId;
      await writeDurably(join(flushesDir, `${manifest.flushId}.json`), JSON.stringify(manifest));
    }
    for (const id of manifest.ids) submitted.set(id, jobId);
    await finishJob(manifest, jobId);
  }

  async function flush(key: string): Promise<void> {
    const group = groups.get(key);
    if (!group || group.length === 0) return;
    groups.delete(key);
    const first = group[0];
    if (!first) return;
    const flushId = `f${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const inputPath = join(flushesDir, `${flushId}.jsonl`);
    await writeDurably(inputPath, `${group.map(inputLine).join('\n')}\n`);
    const manifest: Manifest = { flushId, provider: first.provider, ids: group.map((request) => request.id), inputPath };
    await writeDurably(join(flushesDir, `${flushId}.json`), JSON.stringify(manifest));
    for (const id of manifest.ids) submitted.set(id, undefined);
    log(`deferred: flushing ${group.length} ${key} requests as one batch job`);
    track(startJob(manifest));
  }

  function due(now: number): string[] {
    return [...groups].filter(([, group]) => group.length >= settings.maxRequests || now - (group[0]?.receivedAt ?? now) >= settings.maxWaitMs).map(([key]) => key);
  }

  // Recover: manifests first (their requests are submitted), then the requests no manifest holds.
  const manifests: Manifest[] = [];
  for (const name of await readdir(flushesDir)) {
    if (!name.endsWith('.json')) continue;
    const manifest = await readJson<Manifest>(join(flushesDir, name));
    if (manifest) manifests.push(manifest);
  }
  const inManifest = new Set(manifests.flatMap((manifest) => manifest.ids));
  const recovered: StoredRequest[] = [];
  const redeliver: DeferredResult[] = [];
  for (const name of await readdir(requestsDir)) {
    if (!name.endsWith('.json')) continue;
    const request = await readJson<StoredRequest>(join(requestsDir, name));
    if (!request || inManifest.has(request.id)) continue;
    const finished = await readJson<DeferredResult>(join(resultsDir, name));
    if (finished) {
      // Settled before the crash, webhook not yet confirmed: deliver again (receivers dedupe by id).
      redeliver.push(finished);
      continue;
    }
    recovered.push(request);
  }
  recovered.sort((a, b) => a.receivedAt - b.receivedAt);
  for (const request of recovered) {
    const key = groupKey(request);
    groups.set(key, [...(groups.get(key) ?? []), request]);
  }
  for (const manifest of manifests) track(startJob(manifest));
  for (const result of redeliver) track(notify(result));
  if (recovered.length > 0 || manifests.length > 0) log(`deferred: recovered ${recovered.length} pending requests and ${manifests.length} batch jobs`);

  const timer = setInterval(
    () => {
      for (const key of due(Date.now())) track(flush(key));
    },
    Math.max(50, Math.min(1000, Math.floor(settings.maxWaitMs / 4))),
  );
  timer.unref();

  const retentionMs = settings.retentionDays * 86_400_000;
  async function prune(): Promise<void> {
    const cutoff = Date.now() - retentionMs;
    for (const name of await readdir(resultsDir)) {
      const path = join(resultsDir, name);
      if ((await stat(path)).mtimeMs < cutoff) await rm(path, { force: true });
    }
  }
  const pruner = setInterval(() => track(prune()), Math.min(retentionMs, 3_600_000));
  pruner.unref();

  return {
    webhooksEnabled: settings.webhookSecret !== undefined,
    async enqueue(request) {
      if (closed) throw new Error('deferred queue is closed');
      // 128 random bits: ids are not guessable (and results are bound to the caller's key besides).
      const id = `d${Date.now().toString(36)}${randomBytes(16).toString('hex')}`;
      const stored: StoredRequest = { ...request, id };
      await writeDurably(join(requestsDir, `${id}.json`), JSON.stringify(stored));
      const key = groupKey(request);
      const group = groups.get(key) ?? [];
      group.push(stored);
      groups.set(key, group);
      if (group.length >= settings.maxRequests) track(flush(key));
      return id;
    },
    async lookup(id) {
      if (!isDeferredId(id)) return undefined;
      const result = await readJson<DeferredResult>(join(resultsDir, `${id}.json`));
      if (result) return result;
      const request = await readJson<StoredRequest>(join(requestsDir, `${id}.json`));
      if (!request) return undefined;
      const owner = request.owner ? { owner: request.owner } : {};
      if (!submitted.has(id)) return { status: 'pending', id, receivedAt: request.receivedAt, ...owner };
      const jobId = submitted.get(id);
      return { status: 'submitted', id, receivedAt: request.receivedAt, ...(jobId ? { jobId } : {}), ...owner };
    },
    async flushAll() {
      await Promise.all([...groups.keys()].map((key) => flush(key)));
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    async close() {
      // Pending requests and running jobs stay on disk; the next start picks them up.
      closed = true;
      clearInterval(timer);
      clearInterval(pruner);
    },
  };
}
