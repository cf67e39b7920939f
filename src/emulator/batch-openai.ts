import {
  type BatchEmulator,
  type BatchScenario,
  COMPLETION_WINDOW_MS,
  type LineKind,
  hash,
  jsonLines,
  phaseAt,
  readBatchScenario,
} from './batch-core.ts';
import { EmulatorError, headerText, isRecord, type RequestContext } from './context.ts';
import { sendJson } from './http-io.ts';
import { SCENARIO_HEADER } from './scenarios.ts';

/**
 * OpenAI Files and Batch API: POST/GET /v1/files, GET /v1/files/{id}, GET /v1/files/{id}/content,
 * POST/GET /v1/batches, GET /v1/batches/{id}, POST /v1/batches/{id}/cancel. Lifecycle
 * validating -> in_progress -> finalizing -> completed (or failed, expired, cancelling -> cancelled),
 * successes in the output file and failed lines in the error file, as the real API does.
 */

const MAX_BATCH_REQUESTS = 50_000;
const MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024;

const KIND_BY_ENDPOINT: Record<string, LineKind> = {
  '/v1/chat/completions': 'chat',
  '/v1/responses': 'responses',
  '/v1/embeddings': 'embeddings',
};

interface OpenAIBatch {
  id: string;
  endpoint: string;
  inputFileId: string;
  metadata: Record<string, unknown> | null;
  createdAt: number;
  scenario: BatchScenario;
  total: number;
  /** Set once the batch has ended one way or another. */
  final?: 'completed' | 'failed' | 'expired' | 'cancelled';
  endedAt?: number;
  cancelAt?: number;
  errors?: Array<{ code: string; message: string; param: string | null; line: number | null }>;
  outputFileId?: string | null;
  errorFileId?: string | null;
  completed: number;
  failed: number;
  processing?: Promise<void>;
}

const batches = new WeakMap<BatchEmulator, Map<string, OpenAIBatch>>();

function batchesOf(emulator: BatchEmulator): Map<string, OpenAIBatch> {
  let found = batches.get(emulator);
  if (!found) {
    found = new Map();
    batches.set(emulator, found);
  }
  return found;
}

const seconds = (ms: number | undefined): number | null => (ms === undefined ? null : Math.floor(ms / 1000));

function fileObject(file: { id: string; bytes: number; filename: string; purpose: string; createdAt: number }) {
  return {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: seconds(file.createdAt),
    expires_at: seconds(file.createdAt + 30 * 24 * 3_600_000),
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
    status_details: null,
  };
}

/** The parts of a multipart/form-data body: enough for the SDK's file uploads. */
export function parseMultipart(contentType: string | undefined, body: Buffer): Map<string, { filename?: string; content: Buffer }> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (boundary === undefined) throw new EmulatorError('invalid_request', 'Expected a multipart/form-data body.');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts = new Map<string, { filename?: string; content: Buffer }>();
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const headerStart = start + delimiter.length + 2;
    const next = body.indexOf(delimiter, headerStart);
    if (next === -1) break;
    const headerEnd = body.indexOf('\r\n\r\n', headerStart);
    if (headerEnd !== -1 && headerEnd < next) {
      const headers = body.subarray(headerStart, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      // The part's content ends with the CRLF before the next delimiter.
      const content = body.subarray(headerEnd + 4, next - 2);
      if (name !== undefined) parts.set(name, filename === undefined ? { content } : { filename, content });
    }
    start = next;
  }
  return parts;
}

export async function handleUploadFile(context: RequestContext, emulator: BatchEmulator): Promise<void> {
  const parts = parseMultipart(headerText(context.request, 'content-type'), context.rawBody ?? Buffer.alloc(0));
  const file = parts.get('file');
  const purpose = parts.get('purpose')?.content.toString('utf8');
  if (!file) throw new EmulatorError('invalid_request', "Missing required parameter: 'file'.", 'file');
  if (!purpose) throw new EmulatorError('invalid_request', "Missing required parameter: 'purpose'.", 'purpose');
  if (purpose === 'batch' && file.content.length > MAX_BATCH_FILE_BYTES) {
    throw new EmulatorError('invalid_request', 'Batch input files are limited to 200 MB.', 'file');
  }
  const stored = emulator.putFile(file.content, file.filename ?? 'upload.jsonl', purpose);
  await sendJson(context, 200, fileObject(stored));
}

export async function handleListFiles(context: RequestContext, emulator: BatchEmulator, search: URLSearchParams): Promise<void> {
  const purpose = search.get('purpose');
  const data = [...emulator.files.values()].filter((file) => purpose === null || file.purpose === purpose).reverse().map(fileObject);
  await sendJson(context, 200, { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
}

export async function handleGetFile(context: RequestContext, emulator: BatchEmulator, id: string, content: boolean): Promise<void> {
  const file = emulator.files.get(id);
  if (!file) throw new EmulatorError('not_found', `No such File object: ${id}`, 'id');
  if (!content) return sendJson(context, 200, fileObject(file));
  const bytes = emulator.readFile(id) ?? Buffer.alloc(0);
  if (context.isClosed()) return;
  context.response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
  context.response.end(bytes);
}

function validate(emulator: BatchEmulator, batch: OpenAIBatch, lines: readonly string[]): OpenAIBatch['errors'] {
  const errors: NonNullable<OpenAIBatch['errors']> = [];
  if (lines.length > MAX_BATCH_REQUESTS) {
    errors.push({ code: 'too_many_requests', message: `A batch can hold at most ${MAX_BATCH_REQUESTS} requests.`, param: null, line: null });
  }
  const seen = new Set<string>();
  lines.forEach((text, index) => {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      errors.push({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: index + 1 });
      return;
    }
    if (!isRecord(line) || typeof line['custom_id'] !== 'string' || !isRecord(line['body'])) {
      errors.push({ code: 'invalid_request', message: 'Each line needs custom_id, method, url and body.', param: null, line: index + 1 });
      return;
    }
    if (seen.has(line['custom_id'])) errors.push({ code: 'duplicate_custom_id', message: 'custom_id must be unique.', param: 'custom_id', line: index + 1 });
    seen.add(line['custom_id']);
    if (line['url'] !== batch.endpoint) {
      errors.push({ code: 'mismatched_endpoint', message: `The url must match the batch endpoint ${batch.endpoint}.`, param: 'url', line: index + 1 });
    }
  });
  if (errors.length === 0 && batch.scenario.fail && emulator.failOnce(`openai-fail\u0000${batch.inputFileId}`)) {
    errors.push({ code: 'emulator_failure', message: 'The batch failed validation (emulator scenario emu-batch-fail).', param: null, line: null });
  }
  return errors.length > 0 ? errors : undefined;
}

/** Answers the lines (all of them, or the first `limit` when cancelled) and writes the two files. */
async function process(emulator: BatchEmulator, batch: OpenAIBatch, outcome: 'completed' | 'expired' | 'cancelled', limit: number): Promise<void> {
  const lines = jsonLines(emulator.readFile(batch.inputFileId) ?? Buffer.alloc(0));
  const kind = KIND_BY_ENDPOINT[batch.endpoint] ?? 'chat';
  const output: string[] = [];
  const errors: string[] = [];
  for (const [index, text] of lines.entries()) {
    const line = JSON.parse(text) as { custom_id: string; body: Record<string, unknown> };
    const id = emulator.nextId('batch_req_');
    const expired = outcome === 'expired' && index % 2 === 1 && emulator.failOnce(`expire\u0000${hash(text)}`);
    if (index >= limit || expired) {
      const code = outcome === 'cancelled' ? 'batch_cancelled' : 'batch_expired';
      const message = code === 'batch_expired' ? 'This request could not be executed before the completion window expired.' : 'The batch was cancelled.';
      errors.push(JSON.stringify({ id, custom_id: line.custom_id, response: null, error: { code, message } }));
      continue;
    }
    const answer = await emulator.answer(kind, line.body);
    const entry = JSON.stringify({ id, custom_id: line.custom_id, response: { status_code: answer.status, request_id: answer.requestId, body: answer.body }, error: null });
    (answer.status === 200 ? output : errors).push(entry);
  }
  batch.completed = output.length;
  batch.failed = errors.length;
  batch.outputFileId = output.length > 0 ? emulator.putFile(Buffer.from(`${output.join('\n')}\n`), 'batch_output.jsonl', 'batch_output').id : null;
  batch.errorFileId = errors.length > 0 ? emulator.putFile(Buffer.from(`${errors.join('\n')}\n`), 'batch_errors.jsonl', 'batch_output').id : null;
}

/** Brings a batch up to the emulator clock: validation, then processing once it has run its course. */
async function refresh(emulator: BatchEmulator, batch: OpenAIBatch): Promise<void> {
  while (batch.processing) await batch.processing;
  if (batch.final !== undefined) return;
  const now = emulator.clock.now();
  const { phase, progress } = phaseAt(batch.createdAt, now, emulator.options.timing);
  const run = async (): Promise<void> => {
    if (phase === 'validating') return;
    const lines = jsonLines(emulator.readFile(batch.inputFileId) ?? Buffer.alloc(0));
    batch.total = lines.length;
    const errors = validate(emulator, batch, lines);
    if (errors) {
      batch.errors = errors;
      batch.final = 'failed';
      batch.endedAt = now;
      return;
    }
    if (batch.cancelAt !== undefined) {
      const atCancel = phaseAt(batch.createdAt, batch.cancelAt, emulator.options.timing);
      if (now - batch.cancelAt < emulator.options.timing.finalizingMs) return;
      await process(emulator, batch, 'cancelled', Math.floor(lines.length * atCancel.progress));
      batch.final = 'cancelled';
    } else if (now - batch.createdAt >= COMPLETION_WINDOW_MS) {
      await process(emulator, batch, 'expired', 0);
      batch.final = 'expired';
    } else if (phase === 'ended') {
      const outcome = batch.scenario.expire ? 'expired' : 'completed';
      await process(emulator, batch, outcome, lines.length);
      batch.final = outcome;
    } else {
      batch.completed = Math.floor(lines.length * progress);
      return;
    }
    batch.endedAt = now;
  };
  batch.processing = run().finally(() => {
    delete batch.processing;
  });
  await batch.processing;
}

function batchObject(emulator: BatchEmulator, batch: OpenAIBatch) {
  const timing = emulator.options.timing;
  const { phase } = phaseAt(batch.createdAt, emulator.clock.now(), timing);
  const inProgressAt = batch.createdAt + timing.validatingMs;
  const finalizingAt = inProgressAt + timing.inProgressMs;
  const status =
    batch.final ?? (batch.cancelAt !== undefined ? 'cancelling' : phase === 'ended' ? 'finalizing' : phase);
  const started = batch.final !== 'failed' && phase !== 'validating';
  return {
    id: batch.id,
    object: 'batch',
    endpoint: batch.endpoint,
    errors: batch.errors ? { object: 'list', data: batch.errors } : null,
    input_file_id: batch.inputFileId,
    completion_window: '24h',
    status,
    output_file_id: batch.outputFileId ?? null,
    error_file_id: batch.errorFileId ?? null,
    created_at: seconds(batch.createdAt),
    in_progress_at: started ? seconds(inProgressAt) : null,
    expires_at: seconds(batch.createdAt + COMPLETION_WINDOW_MS),
    finalizing_at: batch.final === 'completed' || status === 'finalizing' ? seconds(finalizingAt) : null,
    completed_at: batch.final === 'completed' ? seconds(batch.endedAt) : null,
    failed_at: batch.final === 'failed' ? seconds(batch.endedAt) : null,
    expired_at: batch.final === 'expired' ? seconds(batch.endedAt) : null,
    cancelling_at: seconds(batch.cancelAt),
    cancelled_at: batch.final === 'cancelled' ? seconds(batch.endedAt) : null,
    request_counts: { total: batch.total, completed: batch.completed, failed: batch.failed },
    metadata: batch.metadata,
  };
}

export async function handleCreateBatch(context: RequestContext, emulator: BatchEmulator): Promise<void> {
  const body = context.body;
  const inputFileId = body['input_file_id'];
  const endpoint = body['endpoint'];
  if (typeof inputFileId !== 'string') throw new EmulatorError('invalid_request', "Missing required parameter: 'input_file_id'.", 'input_file_id');
  if (typeof endpoint !== 'string' || KIND_BY_ENDPOINT[endpoint] === undefined) {
    throw new EmulatorError('invalid_request', `Invalid 'endpoint': ${String(endpoint)}.`, 'endpoint');
  }
  if (body['completion_window'] !== '24h') throw new EmulatorError('invalid_request', "Invalid 'completion_window': only '24h' is supported.", 'completion_window');
  const input = emulator.readFile(inputFileId);
  if (!input) throw new EmulatorError('not_found', `No such File object: ${inputFileId}`, 'input_file_id');
  const lines = jsonLines(input);
  const firstModel = (() => {
    try {
      return String((JSON.parse(lines[0] ?? '{}') as { body?: { model?: unknown } }).body?.model ?? '');
    } catch {
      return '';
    }
  })();
  const scenario = readBatchScenario([firstModel, headerText(context.request, SCENARIO_HEADER)]);
  emulator.checkCreate(scenario, `openai\u0000${inputFileId}`);
  const metadata = isRecord(body['metadata']) ? body['metadata'] : null;
  const batch: OpenAIBatch = {
    id: emulator.nextId('batch_'),
    endpoint,
    inputFileId,
    metadata,
    createdAt: emulator.clock.now(),
    scenario,
    total: lines.length,
    completed: 0,
    failed: 0,
  };
  emulator.noteSubmitted(lines.map((line) => String((JSON.parse(line) as { custom_id?: unknown }).custom_id)));
  batchesOf(emulator).set(batch.id, batch);
  await sendJson(context, 200, batchObject(emulator, batch));
}

async function found(emulator: BatchEmulator, id: string): Promise<OpenAIBatch> {
  const batch = batchesOf(emulator).get(id);
  if (!batch) throw new EmulatorError('not_found', `No batch found with id '${id}'.`, 'batch_id');
  await refresh(emulator, batch);
  return batch;
}

export async function handleGetBatch(context: RequestContext, emulator: BatchEmulator, id: string): Promise<void> {
  await sendJson(context, 200, batchObject(emulator, await found(emulator, id)));
}

export async function handleCancelBatch(context: RequestContext, emulator: BatchEmulator, id: string): Promise<void> {
  const batch = await found(emulator, id);
  if (batch.final !== undefined) {
    throw new EmulatorError('invalid_request', `Cannot cancel a batch with status '${batch.final}'.`);
  }
  batch.cancelAt ??= emulator.clock.now();
  await sendJson(context, 200, batchObject(emulator, batch));
}

export async function handleListBatches(context: RequestContext, emulator: BatchEmulator, search: URLSearchParams): Promise<void> {
  const limit = Math.min(Number(search.get('limit') ?? 20) || 20, 100);
  const after = search.get('after');
  const all = [...batchesOf(emulator).values()].reverse();
  const start = after === null ? 0 : all.findIndex((batch) => batch.id === after) + 1;
  const page = all.slice(start, start + limit);
  for (const batch of page) await refresh(emulator, batch);
  const data = page.map((batch) => batchObject(emulator, batch));
  await sendJson(context, 200, { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < all.length });
}
