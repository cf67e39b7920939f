import { openAsBlob } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BatchApiError, type BatchApi, type BatchResult, type BatchStatus, readJsonLines, retryableStatus, retryAfterMs } from '../batch-api.ts';
import { objectField, stringField } from '../forward-headers.ts';
import { convertOpenAIChatUsage, convertOpenAIEmbeddingsUsage, convertOpenAIResponsesUsage } from './convert-openai-usage.ts';

/**
 * OpenAI Files + Batch API. Crash recovery: the uploaded file is named `<token>.jsonl` and the batch
 * carries `metadata.costgate_token`, so a file or batch created just before a crash is found by
 * listing rather than created twice.
 */

export interface OpenAIBatchApiOptions {
  /** Including /v1, as OPENAI_BASE_URL. */
  baseURL: string;
  apiKey: string | undefined;
}

const OUTCOMES: Record<string, BatchStatus['outcome']> = { completed: 'completed', failed: 'failed', expired: 'expired', cancelled: 'cancelled' };

function usageFor(endpoint: string, raw: unknown) {
  if (endpoint.endsWith('/responses')) return convertOpenAIResponsesUsage(raw);
  if (endpoint.endsWith('/embeddings')) return convertOpenAIEmbeddingsUsage(raw);
  return convertOpenAIChatUsage(raw);
}

export function createOpenAIBatchApi(options: OpenAIBatchApiOptions): BatchApi {
  const headers = (): Record<string, string> => (options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {});
  const endpoints = new Map<string, string>();

  async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${options.baseURL}${path}`, {
      method,
      headers: { ...headers(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new BatchApiError(`OpenAI ${method} ${path}: ${response.status} ${text.slice(0, 300)}`, response.status);
    return JSON.parse(text) as Record<string, unknown>;
  }

  async function* list(path: string, pages: number): AsyncGenerator<Record<string, unknown>> {
    let after: string | undefined;
    for (let page = 0; page < pages; page += 1) {
      const separator = path.includes('?') ? '&' : '?';
      const result = await call('GET', `${path}${separator}limit=100${after ? `&after=${after}` : ''}`);
      const data = Array.isArray(result['data']) ? (result['data'] as Array<Record<string, unknown>>) : [];
      yield* data;
      after = stringField(result['last_id']) ?? stringField(data.at(-1)?.['id']);
      if (result['has_more'] !== true || !after) return;
    }
  }

  async function* fileLines(fileId: string): AsyncGenerator<Record<string, unknown>> {
    const response = await fetch(`${options.baseURL}/files/${fileId}/content`, { headers: headers() });
    if (!response.ok || !response.body) throw new BatchApiError(`OpenAI GET file ${fileId}: ${response.status}`, response.status);
    yield* readJsonLines(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>));
  }

  function result(line: Record<string, unknown>, endpoint: string): BatchResult {
    const customId = String(line['custom_id'] ?? '');
    const response = objectField(line['response']);
    const error = objectField(line['error']);
    const status = typeof response?.['status_code'] === 'number' ? response['status_code'] : 0;
    const body = objectField(response?.['body']);
    if (status === 200 && body) {
      const choice = objectField(Array.isArray(body['choices']) ? body['choices'][0] : undefined);
      return {
        customId,
        ok: true,
        status,
        usage: usageFor(endpoint, body['usage']),
        servedModel: stringField(body['model']),
        stopReason: stringField(choice?.['finish_reason']) ?? stringField(body['status']),
        errorType: undefined,
        errorMessage: undefined,
        retryable: false,
        line,
      };
    }
    const bodyError = objectField(body?.['error']);
    const errorType = stringField(error?.['code']) ?? stringField(bodyError?.['type']) ?? stringField(bodyError?.['code']) ?? 'batch_error';
    return {
      customId,
      ok: false,
      status,
      usage: undefined,
      servedModel: undefined,
      stopReason: undefined,
      errorType,
      errorMessage: stringField(error?.['message']) ?? stringField(bodyError?.['message']),
      retryable: retryableStatus(status),
      line,
    };
  }

  return {
    provider: 'openai',
    idField: 'custom_id',
    wrapperBytes: 0,
    inputLine: (customId, endpoint, bodyJson) => `{"custom_id":${JSON.stringify(customId)},"method":"POST","url":${JSON.stringify(endpoint)},"body":${bodyJson}}`,

    async upload(token, file) {
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', await openAsBlob(file.path), `${token}.jsonl`);
      const response = await fetch(`${options.baseURL}/files`, { method: 'POST', headers: headers(), body: form });
      const text = await response.text();
      if (!response.ok) throw new BatchApiError(`OpenAI file upload: ${response.status} ${text.slice(0, 300)}`, response.status);
      return String((JSON.parse(text) as { id: string }).id);
    },

    async findUpload(token) {
      for await (const file of list('/files?purpose=batch', 10)) if (file['filename'] === `${token}.jsonl`) return stringField(file['id']);
      return undefined;
    },

    async create(token, fileRef, file) {
      endpoints.set(token, file.endpoint);
      const response = await fetch(`${options.baseURL}/batches`, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ input_file_id: fileRef, endpoint: file.endpoint, completion_window: '24h', metadata: { costgate_token: token } }),
      });
      const text = await response.text();
      if (response.ok) return { batchId: String((JSON.parse(text) as { id: string }).id) };
      if (retryableStatus(response.status)) return { retryAfterMs: retryAfterMs(response.headers.get('retry-after'), 5000), message: `${response.status} ${text.slice(0, 200)}` };
      return { rejected: `${response.status} ${text.slice(0, 300)}` };
    },

    async findCreated(token) {
      for await (const batch of list('/batches', 10)) {
        if (objectField(batch['metadata'])?.['costgate_token'] === token) return { batchId: String(batch['id']) };
      }
      return undefined;
    },

    async status(batchId) {
      const batch = await call('GET', `/batches/${batchId}`);
      const status = String(batch['status']);
      const counts = objectField(batch['request_counts']);
      const outcome = OUTCOMES[status];
      const errors = objectField(batch['errors']);
      const firstError = objectField(Array.isArray(errors?.['data']) ? errors['data'][0] : undefined);
      endpoints.set(batchId, String(batch['endpoint'] ?? ''));
      return {
        ended: outcome !== undefined,
        ...(outcome ? { outcome } : {}),
        status,
        counts: { total: Number(counts?.['total'] ?? 0), succeeded: Number(counts?.['completed'] ?? 0), failed: Number(counts?.['failed'] ?? 0) },
        ...(firstError ? { message: `${String(firstError['code'])}: ${String(firstError['message'])}` } : {}),
        resultRefs: [batch['output_file_id'], batch['error_file_id']].filter((id): id is string => typeof id === 'string' && id !== ''),
      };
    },

    async *results(batchId, status) {
      const endpoint = endpoints.get(batchId) ?? '/v1/chat/completions';
      for (const fileId of status.resultRefs ?? []) {
        for await (const line of fileLines(fileId)) yield result(line, endpoint);
      }
    },

    async cancel(batchId) {
      await call('POST', `/batches/${batchId}/cancel`).catch((error: unknown) => {
        // A batch that ended meanwhile cannot be cancelled; that is not a failure of the cancel.
        if (!(error instanceof BatchApiError && error.status === 400)) throw error;
      });
    },

    errorLine: (customId, errorType, message) => ({ id: null, custom_id: customId, response: null, error: { code: errorType, message } }),
  };
}
