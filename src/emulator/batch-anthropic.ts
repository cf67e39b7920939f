import { type BatchEmulator, type BatchScenario, COMPLETION_WINDOW_MS, hash, isoTime, jsonLines, phaseAt, readBatchScenario } from './batch-core.ts';
import { EmulatorError, headerText, isRecord, type RequestContext } from './context.ts';
import { sendJson } from './http-io.ts';
import { SCENARIO_HEADER } from './scenarios.ts';

/**
 * Anthropic Message Batches: POST/GET /v1/messages/batches, GET /v1/messages/batches/{id},
 * POST .../{id}/cancel, DELETE .../{id}, GET .../{id}/results (JSONL). processing_status goes
 * in_progress -> ended (or canceling -> ended); request_counts split succeeded / errored / canceled /
 * expired; results carry usage with service_tier "batch".
 */

const MAX_REQUESTS = 100_000;
const MAX_BYTES = 256 * 1024 * 1024;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

interface Counts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

interface MessageBatch {
  id: string;
  requestsFileId: string;
  createdAt: number;
  total: number;
  scenario: BatchScenario;
  cancelAt?: number;
  endedAt?: number;
  resultsFileId?: string;
  counts: Counts;
  processing?: Promise<void>;
}

const registry = new WeakMap<BatchEmulator, Map<string, MessageBatch>>();

function batchesOf(emulator: BatchEmulator): Map<string, MessageBatch> {
  let found = registry.get(emulator);
  if (!found) {
    found = new Map();
    registry.set(emulator, found);
  }
  return found;
}

async function process(emulator: BatchEmulator, batch: MessageBatch, limit: number, expire: boolean): Promise<void> {
  const counts: Counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  const results: string[] = [];
  const lines = jsonLines(emulator.readFile(batch.requestsFileId) ?? Buffer.alloc(0));
  for (const [index, text] of lines.entries()) {
    const request = JSON.parse(text) as { custom_id: string; params: Record<string, unknown> };
    if (index >= limit) {
      counts.canceled += 1;
      results.push(JSON.stringify({ custom_id: request.custom_id, result: { type: 'canceled' } }));
      continue;
    }
    if (expire && index % 2 === 1 && emulator.failOnce(`expire\u0000${hash(text)}`)) {
      counts.expired += 1;
      results.push(JSON.stringify({ custom_id: request.custom_id, result: { type: 'expired' } }));
      continue;
    }
    const answer = await emulator.answer('messages', request.params);
    if (answer.status === 200) {
      counts.succeeded += 1;
      const usage = isRecord(answer.body['usage']) ? { ...answer.body['usage'], service_tier: 'batch' } : answer.body['usage'];
      results.push(JSON.stringify({ custom_id: request.custom_id, result: { type: 'succeeded', message: { ...answer.body, usage } } }));
    } else {
      counts.errored += 1;
      results.push(JSON.stringify({ custom_id: request.custom_id, result: { type: 'errored', error: answer.body } }));
    }
  }
  batch.counts = counts;
  batch.resultsFileId = emulator.putFile(Buffer.from(results.length > 0 ? `${results.join('\n')}\n` : ''), 'results.jsonl', 'results', 'msgbatch_results_').id;
}

async function refresh(emulator: BatchEmulator, batch: MessageBatch): Promise<void> {
  while (batch.processing) await batch.processing;
  if (batch.endedAt !== undefined) return;
  const now = emulator.clock.now();
  const timing = emulator.options.timing;
  const { phase, progress } = phaseAt(batch.createdAt, now, timing);
  const run = async (): Promise<void> => {
    if (batch.cancelAt !== undefined) {
      if (now - batch.cancelAt < timing.finalizingMs) return;
      await process(emulator, batch, Math.floor(batch.total * phaseAt(batch.createdAt, batch.cancelAt, timing).progress), false);
    } else if (now - batch.createdAt >= COMPLETION_WINDOW_MS) {
      await process(emulator, batch, batch.total, true);
    } else if (phase === 'ended') {
      await process(emulator, batch, batch.total, batch.scenario.expire);
    } else {
      const done = Math.floor(batch.total * (phase === 'validating' ? 0 : progress));
      batch.counts = { processing: batch.total - done, succeeded: done, errored: 0, canceled: 0, expired: 0 };
      return;
    }
    batch.endedAt = now;
  };
  batch.processing = run().finally(() => {
    delete batch.processing;
  });
  await batch.processing;
}

function batchObject(context: RequestContext, emulator: BatchEmulator, batch: MessageBatch) {
  const host = headerText(context.request, 'host') ?? headerText(context.request, ':authority') ?? '127.0.0.1';
  const ended = batch.endedAt !== undefined;
  return {
    id: batch.id,
    type: 'message_batch',
    processing_status: ended ? 'ended' : batch.cancelAt !== undefined ? 'canceling' : 'in_progress',
    request_counts: batch.counts,
    ended_at: ended ? isoTime(batch.endedAt ?? 0) : null,
    created_at: isoTime(batch.createdAt),
    expires_at: isoTime(batch.createdAt + COMPLETION_WINDOW_MS),
    archived_at: null,
    cancel_initiated_at: batch.cancelAt === undefined ? null : isoTime(batch.cancelAt),
    results_url: ended ? `http://${host}/v1/messages/batches/${batch.id}/results` : null,
  };
}

export async function handleCreateMessageBatch(context: RequestContext, emulator: BatchEmulator): Promise<void> {
  if ((context.rawBody?.length ?? 0) > MAX_BYTES) throw new EmulatorError('invalid_request', 'A batch is limited to 256 MB.');
  const requests = context.body['requests'];
  if (!Array.isArray(requests) || requests.length === 0) throw new EmulatorError('invalid_request', 'requests: Field required (a non-empty list)');
  if (requests.length > MAX_REQUESTS) throw new EmulatorError('invalid_request', `requests: at most ${MAX_REQUESTS} requests per batch`);
  const seen = new Set<string>();
  for (const [index, request] of requests.entries()) {
    if (!isRecord(request) || typeof request['custom_id'] !== 'string' || !isRecord(request['params'])) {
      throw new EmulatorError('invalid_request', `requests.${index}: custom_id and params are required`);
    }
    if (!CUSTOM_ID.test(request['custom_id'])) throw new EmulatorError('invalid_request', `requests.${index}.custom_id: must match ${CUSTOM_ID.source}`);
    if (seen.has(request['custom_id'])) throw new EmulatorError('invalid_request', `requests.${index}.custom_id: duplicate custom_id`);
    seen.add(request['custom_id']);
  }
  const first = requests[0] as { params: Record<string, unknown> };
  const scenario = readBatchScenario([String(first.params['model'] ?? ''), headerText(context.request, SCENARIO_HEADER)]);
  const content = Buffer.from(`${requests.map((request) => JSON.stringify(request)).join('\n')}\n`);
  emulator.checkCreate(scenario, `anthropic\u0000${hash(content)}`);
  if (scenario.fail && emulator.failOnce(`anthropic-fail\u0000${hash(content)}`)) {
    // Message batches have no failed state: a batch the API refuses is an error on create.
    throw new EmulatorError('server', 'The batch could not be created (emulator scenario emu-batch-fail).');
  }
  const file = emulator.putFile(content, 'requests.jsonl', 'batch', 'msgbatch_requests_');
  const batch: MessageBatch = {
    id: emulator.nextId('msgbatch_'),
    requestsFileId: file.id,
    createdAt: emulator.clock.now(),
    total: requests.length,
    scenario,
    counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
  };
  emulator.noteSubmitted(requests.map((request) => String((request as { custom_id: string }).custom_id)));
  batchesOf(emulator).set(batch.id, batch);
  await sendJson(context, 200, batchObject(context, emulator, batch));
}

async function found(emulator: BatchEmulator, id: string): Promise<MessageBatch> {
  const batch = batchesOf(emulator).get(id);
  if (!batch) throw new EmulatorError('not_found', `No message batch with id ${id}`);
  await refresh(emulator, batch);
  return batch;
}

export async function handleGetMessageBatch(context: RequestContext, emulator: BatchEmulator, id: string): Promise<void> {
  await sendJson(context, 200, batchObject(context, emulator, await found(emulator, id)));
}

export async function handleCancelMessageBatch(context: RequestContext, emulator: BatchEmulator, id: string): Promise<void> {
  const batch = await found(emulator, id);
  if (batch.endedAt === undefined) batch.cancelAt ??= emulator.clock.now();
  await sendJson(context, 200, batchObject(context, emulator, batch));
}

export async function handleDeleteMessageBatch(context: RequestContext, emulator: BatchEmulator, id: string): Promise<void> {
  const batch = await found(emulator, id);
  if (batch.endedAt === undefined) throw new EmulatorError('invalid_request', 'A batch can be deleted only once processing has ended.');
  batchesOf(emulator).delete(id);
  await sendJson(context, 200, { id, type: 'message_batch_deleted' });
}

export async function handleMessageBatchResults(context: RequestContext, emulator: BatchEmulator, id: string): Promise<void> {
  const batch = await found(emulator, id);
  if (batch.resultsFileId === undefined) throw new EmulatorError('not_found', `Batch ${id} has not ended; no results yet.`);
  const bytes = emulator.readFile(batch.resultsFileId) ?? Buffer.alloc(0);
  if (context.isClosed()) return;
  context.response.writeHead(200, { 'content-type': 'application/binary', 'content-length': String(bytes.length) });
  context.response.end(bytes);
}

export async function handleListMessageBatches(context: RequestContext, emulator: BatchEmulator, search: URLSearchParams): Promise<void> {
  const limit = Math.min(Number(search.get('limit') ?? 20) || 20, 1000);
  const after = search.get('after_id');
  const all = [...batchesOf(emulator).values()].reverse();
  const start = after === null ? 0 : all.findIndex((batch) => batch.id === after) + 1;
  const page = all.slice(start, start + limit);
  for (const batch of page) await refresh(emulator, batch);
  const data = page.map((batch) => batchObject(context, emulator, batch));
  await sendJson(context, 200, { data, has_more: start + limit < all.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
}
