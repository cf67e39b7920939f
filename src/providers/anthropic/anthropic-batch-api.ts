import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BatchApiError, type BatchApi, type BatchResult, readJsonLines, retryableStatus, retryAfterMs } from '../batch-api.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { convertAnthropicUsage } from './convert-anthropic-usage.ts';

/**
 * Anthropic Message Batches. There is no upload step: the chunk file's lines are streamed as the
 * create body's `requests` array. Message batches keep no caller metadata, so a batch created just
 * before a crash is recognised by its creation time and request count, and, when several match,
 * by the custom ids in its results (they carry the chunk's token).
 */

export interface AnthropicBatchApiOptions {
  baseURL: string;
  apiKey: string | undefined;
}

const VERSION = '2023-06-01';
/** `{"requests":[` + `]}` */
const WRAPPER_BYTES = 15;

async function* requestBody(path: string): AsyncGenerator<Buffer> {
  yield Buffer.from('{"requests":[');
  let first = true;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line === '') continue;
    yield Buffer.from(first ? line : `,${line}`);
    first = false;
  }
  yield Buffer.from(']}');
}

export function createAnthropicBatchApi(options: AnthropicBatchApiOptions): BatchApi {
  const headers = (): Record<string, string> => ({ 'anthropic-version': VERSION, ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}) });

  async function call(method: string, path: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${options.baseURL}${path}`, { method, headers: headers() });
    const text = await response.text();
    if (!response.ok) throw new BatchApiError(`Anthropic ${method} ${path}: ${response.status} ${text.slice(0, 300)}`, response.status);
    return JSON.parse(text) as Record<string, unknown>;
  }

  async function* results(batchId: string): AsyncGenerator<Record<string, unknown>> {
    const batch = await call('GET', `/v1/messages/batches/${batchId}`);
    const url = stringField(batch['results_url']);
    if (!url) throw new BatchApiError(`Anthropic batch ${batchId} has no results_url yet`, 409);
    const response = await fetch(url, { headers: { ...headers(), accept: 'application/binary' } });
    if (!response.ok || !response.body) throw new BatchApiError(`Anthropic results of ${batchId}: ${response.status}`, response.status);
    yield* readJsonLines(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>));
  }

  function result(line: Record<string, unknown>): BatchResult {
    const customId = String(line['custom_id'] ?? '');
    const outcome = objectField(line['result']);
    const type = String(outcome?.['type'] ?? 'missing');
    if (type === 'succeeded') {
      const message = objectField(outcome?.['message']);
      return {
        customId,
        ok: true,
        status: 200,
        usage: convertAnthropicUsage(message?.['usage']),
        servedModel: stringField(message?.['model']),
        stopReason: stringField(message?.['stop_reason']),
        errorType: undefined,
        errorMessage: undefined,
        retryable: false,
        line,
      };
    }
    const error = objectField(objectField(outcome?.['error'])?.['error']);
    const errorType = type === 'errored' ? (stringField(error?.['type']) ?? 'api_error') : type;
    const status = type === 'errored' ? statusForType(errorType) : 0;
    return {
      customId,
      ok: false,
      status,
      usage: undefined,
      servedModel: undefined,
      stopReason: undefined,
      errorType,
      errorMessage: stringField(error?.['message']) ?? (type === 'expired' ? 'the request expired before it ran' : type === 'canceled' ? 'the batch was cancelled' : undefined),
      retryable: retryableStatus(status),
      line,
    };
  }

  return {
    provider: 'anthropic',
    idField: 'custom_id',
    wrapperBytes: WRAPPER_BYTES,
    inputLine: (customId, _endpoint, bodyJson) => `{"custom_id":${JSON.stringify(customId)},"params":${bodyJson}}`,

    upload: async (_token, file) => file.path,
    findUpload: async () => undefined,

    async create(_token, fileRef) {
      const response = await fetch(`${options.baseURL}/v1/messages/batches`, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body: Readable.toWeb(Readable.from(requestBody(fileRef))) as unknown as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as RequestInit);
      const text = await response.text();
      if (response.ok) return { batchId: String((JSON.parse(text) as { id: string }).id) };
      if (retryableStatus(response.status)) return { retryAfterMs: retryAfterMs(response.headers.get('retry-after'), 5000), message: `${response.status} ${text.slice(0, 200)}` };
      return { rejected: `${response.status} ${text.slice(0, 300)}` };
    },

    async findCreated(token, file, since, claimed) {
      const candidates: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 10; page += 1) {
        const listed = await call('GET', `/v1/messages/batches?limit=100${after ? `&after_id=${after}` : ''}`);
        const data = Array.isArray(listed['data']) ? (listed['data'] as Array<Record<string, unknown>>) : [];
        let older = false;
        for (const batch of data) {
          const created = Date.parse(String(batch['created_at']));
          // Clocks differ a little between this machine and the provider.
          if (created < since - 120_000) {
            older = true;
            continue;
          }
          const counts = objectField(batch['request_counts']) ?? {};
          const total = ['processing', 'succeeded', 'errored', 'canceled', 'expired'].reduce((sum, key) => sum + Number(counts[key] ?? 0), 0);
          const id = String(batch['id']);
          if (total === file.lines && !claimed.has(id)) candidates.push(id);
        }
        after = stringField(listed['last_id']);
        if (older || listed['has_more'] !== true || !after) break;
      }
      if (candidates.length === 0) return undefined;
      if (candidates.length === 1 && candidates[0] !== undefined) return { batchId: candidates[0] };
      // Several look alike: the ended ones can be told apart by the token in their custom ids.
      let running = 0;
      for (const id of candidates) {
        const batch = await call('GET', `/v1/messages/batches/${id}`);
        if (batch['processing_status'] !== 'ended') {
          running += 1;
          continue;
        }
        for await (const line of results(id)) {
          if (String(line['custom_id'] ?? '').startsWith(`${token}-`)) return { batchId: id };
          break;
        }
      }
      // All ended and none is ours: the create never reached the provider.
      return running === 0 ? undefined : { ambiguous: candidates };
    },

    async status(batchId) {
      const batch = await call('GET', `/v1/messages/batches/${batchId}`);
      const counts = objectField(batch['request_counts']) ?? {};
      const count = (key: string) => Number(counts[key] ?? 0);
      const ended = batch['processing_status'] === 'ended';
      const failed = count('errored') + count('canceled') + count('expired');
      return {
        ended,
        ...(ended ? { outcome: batch['cancel_initiated_at'] ? ('cancelled' as const) : count('expired') > 0 ? ('expired' as const) : ('completed' as const) } : {}),
        status: String(batch['processing_status']),
        counts: { total: count('processing') + count('succeeded') + failed, succeeded: count('succeeded'), failed },
      };
    },

    async *results(batchId) {
      for await (const line of results(batchId)) yield result(line);
    },

    async cancel(batchId) {
      await call('POST', `/v1/messages/batches/${batchId}/cancel`);
    },

    errorLine: (customId, errorType, message) =>
      errorType === 'expired' || errorType === 'canceled'
        ? { custom_id: customId, result: { type: errorType } }
        : { custom_id: customId, result: { type: 'errored', error: { type: 'error', error: { type: errorType, message } } } },
  };
}

function statusForType(type: string): number {
  switch (type) {
    case 'invalid_request_error':
      return 400;
    case 'authentication_error':
      return 401;
    case 'permission_error':
      return 403;
    case 'not_found_error':
      return 404;
    case 'request_too_large':
      return 413;
    case 'rate_limit_error':
      return 429;
    case 'overloaded_error':
      return 529;
    default:
      return 500;
  }
}
