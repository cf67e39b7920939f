import {
  handleCancelMessageBatch,
  handleCreateMessageBatch,
  handleDeleteMessageBatch,
  handleGetMessageBatch,
  handleListMessageBatches,
  handleMessageBatchResults,
} from './batch-anthropic.ts';
import { handleCreateJob, handleGetJob, handleListJobs, handleStopJob } from './batch-bedrock.ts';
import type { BatchEmulator } from './batch-core.ts';
import { renderAnthropicError } from './anthropic.ts';
import { renderBedrockError } from './bedrock.ts';
import type { EmulatorRequest, ErrorRenderer, RequestContext } from './context.ts';
import { handleCancelBatch, handleCreateBatch, handleGetBatch, handleGetFile, handleListBatches, handleListFiles, handleUploadFile } from './batch-openai.ts';
import { renderOpenAIError } from './openai.ts';
import { handleS3, isS3Request, type ObjectStore } from './s3.ts';

/** The batch routes of the three providers and the S3 store, matched before the live routes. */

export interface BatchRoute {
  handle: (context: RequestContext) => Promise<void>;
  render: ErrorRenderer;
  /** 'json' bodies are parsed like the live routes'; 'raw' bodies are handed over as bytes only. */
  body: 'json' | 'raw';
}

const S3_ERROR_CODES = { invalid_request: ['InvalidRequest', 400], not_found: ['NoSuchKey', 404], rate_limited: ['SlowDown', 503], server: ['InternalError', 500], overloaded: ['ServiceUnavailable', 503] } as const;

const renderS3Error: ErrorRenderer = (error, requestId) => {
  const [code, status] = S3_ERROR_CODES[error.kind];
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${error.message.replace(/[<>&]/g, '')}</Message><RequestId>${requestId}</RequestId></Error>`,
  };
};

const OPENAI_FILE = /^\/v1\/files\/([^/]+)(\/content)?$/;
const OPENAI_BATCH = /^\/v1\/batches\/([^/]+)(\/cancel)?$/;
const MESSAGE_BATCH = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/;
const BEDROCK_JOB = /^\/model-invocation-job\/(.+?)(\/stop)?$/;

export function matchBatchRoute(
  request: EmulatorRequest,
  path: string,
  search: URLSearchParams,
  emulator: BatchEmulator,
  store: ObjectStore,
): BatchRoute | undefined {
  const method = request.method ?? 'GET';
  if (isS3Request(request)) return { handle: (context) => handleS3(context, emulator, store, path, search), render: renderS3Error, body: 'raw' };

  const openai = (handle: BatchRoute['handle'], body: BatchRoute['body'] = 'json'): BatchRoute => ({ handle, render: renderOpenAIError, body });
  if (path === '/v1/files') {
    if (method === 'POST') return openai((context) => handleUploadFile(context, emulator), 'raw');
    if (method === 'GET') return openai((context) => handleListFiles(context, emulator, search));
  }
  const file = OPENAI_FILE.exec(path);
  if (file?.[1] !== undefined && method === 'GET') {
    const id = decodeURIComponent(file[1]);
    return openai((context) => handleGetFile(context, emulator, id, file[2] !== undefined));
  }
  if (path === '/v1/batches') {
    if (method === 'POST') return openai((context) => handleCreateBatch(context, emulator));
    if (method === 'GET') return openai((context) => handleListBatches(context, emulator, search));
  }
  const batch = OPENAI_BATCH.exec(path);
  if (batch?.[1] !== undefined) {
    const id = decodeURIComponent(batch[1]);
    if (batch[2] === '/cancel' && method === 'POST') return openai((context) => handleCancelBatch(context, emulator, id));
    if (batch[2] === undefined && method === 'GET') return openai((context) => handleGetBatch(context, emulator, id));
  }

  const anthropic = (handle: BatchRoute['handle']): BatchRoute => ({ handle, render: renderAnthropicError, body: 'json' });
  if (path === '/v1/messages/batches') {
    if (method === 'POST') return anthropic((context) => handleCreateMessageBatch(context, emulator));
    if (method === 'GET') return anthropic((context) => handleListMessageBatches(context, emulator, search));
  }
  const messageBatch = MESSAGE_BATCH.exec(path);
  if (messageBatch?.[1] !== undefined) {
    const id = decodeURIComponent(messageBatch[1]);
    const action = messageBatch[2];
    if (action === '/cancel' && method === 'POST') return anthropic((context) => handleCancelMessageBatch(context, emulator, id));
    if (action === '/results' && method === 'GET') return anthropic((context) => handleMessageBatchResults(context, emulator, id));
    if (action === undefined && method === 'GET') return anthropic((context) => handleGetMessageBatch(context, emulator, id));
    if (action === undefined && method === 'DELETE') return anthropic((context) => handleDeleteMessageBatch(context, emulator, id));
  }

  const bedrock = (handle: BatchRoute['handle']): BatchRoute => ({ handle, render: renderBedrockError, body: 'json' });
  if (path === '/model-invocation-job' && method === 'POST') return bedrock((context) => handleCreateJob(context, emulator, store));
  if (path === '/model-invocation-jobs' && method === 'GET') return bedrock((context) => handleListJobs(context, emulator, store, search));
  const job = BEDROCK_JOB.exec(path);
  if (job?.[1] !== undefined) {
    const identifier = job[1];
    if (job[2] === '/stop' && method === 'POST') return bedrock((context) => handleStopJob(context, emulator, store, identifier));
    if (job[2] === undefined && method === 'GET') return bedrock((context) => handleGetJob(context, emulator, store, identifier));
  }
  return undefined;
}
