import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { objectField, stringField } from '../providers/forward-headers.ts';
import { type BatchInputRequest, parseBatchInputLine, translateRequest } from '../providers/batch-translate.ts';
import { failpoint } from './failpoint.ts';
import type { BatchStore, IngestedLine, JobRecord } from './store/batch-store.ts';

/**
 * Reads the input once, streaming: each line is parsed, translated to the job's provider and its
 * request body appended to `<work dir>/requests.jsonl`; the store gets one small row per line
 * (ids, hash, offsets, attribution), written in pages. Nothing is sent during ingest, so a crash
 * here simply starts the ingest over.
 */

const PAGE = 5_000;

export function requestsPath(job: JobRecord): string {
  return join(job.workDir, 'requests.jsonl');
}

function attributionOf(request: BatchInputRequest | undefined, job: JobRecord) {
  const own = request?.metadata;
  const body = request?.body;
  const bodyMetadata = request?.format === 'openai' ? objectField(body?.['metadata']) : undefined;
  const anthropicUser = request?.format === 'anthropic' ? stringField(objectField(body?.['metadata'])?.['user_id']) : undefined;
  const tags: Record<string, string> = { ...job.defaults.tags };
  for (const source of [bodyMetadata, objectField(own?.['tags'])]) {
    for (const [key, value] of Object.entries(source ?? {})) if (typeof value === 'string') tags[key] = value;
  }
  return {
    feature: stringField(own?.['feature']) ?? stringField(bodyMetadata?.['feature']) ?? job.defaults.feature,
    customer: stringField(own?.['customer']) ?? stringField(bodyMetadata?.['customer']) ?? job.defaults.customer,
    user: stringField(own?.['user']) ?? stringField(body?.['user']) ?? anthropicUser ?? job.defaults.user,
    tagsJson: JSON.stringify(tags),
  };
}

export async function ingest(store: BatchStore, job: JobRecord, input: AsyncIterable<string> = readLines(job.inputPath)): Promise<void> {
  failpoint('ingest-start');
  await store.resetLines(job.jobId);
  mkdirSync(join(job.workDir, 'chunks'), { recursive: true });
  mkdirSync(join(job.workDir, 'results'), { recursive: true });
  const fd = openSync(requestsPath(job), 'w');
  let offset = 0;
  let lineNo = 0;
  let page: IngestedLine[] = [];
  let pending: string[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length > 0) writeSync(fd, pending.join(''));
    pending = [];
    if (page.length > 0) await store.appendLines(job.jobId, page);
    page = [];
  };
  try {
    for await (const text of input) {
      if (text.trim() === '') continue;
      lineNo += 1;
      let request: BatchInputRequest | undefined;
      try {
        request = parseBatchInputLine(text);
        const translated = translateRequest(request, job.provider, job.model);
        const bodyJson = JSON.stringify(translated.body);
        const length = Buffer.byteLength(bodyJson) + 1;
        pending.push(`${bodyJson}\n`);
        page.push({
          lineNo,
          customId: request.customId,
          model: translated.model,
          endpoint: translated.endpoint,
          requestHash: createHash('sha256').update(`${translated.model}\u0000${translated.endpoint}\u0000${bodyJson}`).digest('base64url'),
          requestOffset: offset,
          requestLength: length - 1,
          // About four bytes of JSON per token: what the enqueued-token limit is paced with.
          estTokens: Math.ceil(length / 4),
          ...attributionOf(request, job),
          state: 'pending',
          errorMessage: undefined,
        });
        offset += length;
      } catch (error) {
        page.push({
          lineNo,
          customId: request?.customId ?? `line-${lineNo}`,
          model: '',
          endpoint: '',
          requestHash: `invalid-${lineNo}`,
          requestOffset: 0,
          requestLength: 0,
          estTokens: 0,
          ...attributionOf(request, job),
          state: 'invalid',
          errorMessage: `line ${lineNo}: ${(error as Error).message}`,
        });
      }
      if (page.length >= PAGE) await flush();
    }
    await flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  await store.finishIngest(job.jobId);
  failpoint('ingest-done');
}

export async function* readLines(path: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
}
