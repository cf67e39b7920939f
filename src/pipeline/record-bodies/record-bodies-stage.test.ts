import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATA_DEFAULTS, type DataConfig } from '../../config/data-config.ts';
import type { CallContext, HeaderMap, ResponseSink } from '../context.ts';
import type { BodyRecord, BodyStore } from './body-store.ts';
import { BodyWriter } from './body-writer.ts';
import { createDailyFileBodyStore } from './daily-file-body-store.ts';
import { createRecordBodiesStage, createRecordBodiesStages } from './record-bodies-stage.ts';

const OPENAI_KEY = 'sk-proj-Zq4Xw8Vn2Lm6Kp0Jr3Ts7Yb1Hc5Gd9Fe';
const CARD = '4111 1111 1111 1111';

function memoryStore(): BodyStore & { records: BodyRecord[] } {
  const records: BodyRecord[] = [];
  return {
    records,
    async append(batch) {
      records.push(...batch);
    },
    async get(ids) {
      return ids.flatMap((id) => records.filter((record) => record.requestId === id));
    },
    async prune() {},
    async close() {},
  };
}

/** A client sink that keeps what it was sent. */
function clientSink(): ResponseSink & { received: Buffer[] } {
  let status: number | undefined;
  const received: Buffer[] = [];
  return {
    received,
    get started() {
      return status !== undefined;
    },
    get status() {
      return status;
    },
    start(code: number, _headers: HeaderMap) {
      status = code;
    },
    write(chunk: Buffer) {
      received.push(chunk);
      return true;
    },
    onDrain() {},
    end() {},
    abort() {},
  };
}

function chatContext(requestBody: unknown, options: { stream?: boolean; billable?: boolean } = {}): CallContext {
  const rawBody = Buffer.from(JSON.stringify(requestBody));
  return {
    requestId: `r-${Math.random().toString(36).slice(2)}`,
    receivedAt: Date.UTC(2026, 11, 4, 10),
    startedAt: performance.now(),
    call: {
      operation: { provider: 'openai', endpoint: 'chat.completions', upstreamPath: '/v1/chat/completions', billable: options.billable ?? true },
      model: 'gpt-4o-mini',
      stream: options.stream ?? false,
      headers: { authorization: `Bearer ${OPENAI_KEY}` },
      body: JSON.parse(rawBody.toString()) as Record<string, unknown>,
      rawBody,
    },
    sink: clientSink(),
    attribution: { tags: {} },
    bodyChanged: false,
    result: undefined,
    facts: undefined,
    firstByteAt: undefined,
    cost: undefined,
    levers: [],
    event: undefined,
  } as unknown as CallContext;
}

function sse(events: unknown[]): Buffer[] {
  return [...events.map((event) => Buffer.from(`data: ${JSON.stringify(event)}\n\n`)), Buffer.from('data: [DONE]\n\n')];
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test('a buffered call is stored redacted, keyed by request id, with hashes of the bytes as sent', async () => {
  const store = memoryStore();
  const writer = new BodyWriter({ store, redact: DATA_DEFAULTS.redact, maxStoredBytes: 64 * 1024 });
  const stage = createRecordBodiesStage(writer, 64 * 1024);
  const requestBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `I am alice@example.com, my key is ${OPENAI_KEY}` }] };
  const context = chatContext(requestBody);
  const responseBody = Buffer.from(JSON.stringify({ choices: [{ message: { role: 'assistant', content: `Card ${CARD} noted; order 4000123412341235.` } }], usage: { prompt_tokens: 9 } }));
  await stage.run(context, async () => {
    context.result = { status: 200, headers: {}, body: responseBody };
  });
  await writer.flush();

  const [record] = await store.get([context.requestId]);
  assert.ok(record);
  assert.equal(record.status, 200);
  assert.equal(record.stream, false);
  assert.equal(record.request?.sha256, sha256(context.call.rawBody as Buffer));
  assert.equal(record.request?.bytes, (context.call.rawBody as Buffer).length);
  assert.equal(record.response?.sha256, sha256(responseBody));
  const request = record.request?.json as typeof requestBody;
  assert.equal(request.messages[0]?.content, 'I am [REDACTED:email], my key is [REDACTED:api_key]');
  const response = record.response?.json as { choices: Array<{ message: { content: string } }>; usage: unknown };
  assert.equal(response.choices[0]?.message.content, 'Card [REDACTED:card_number] noted; order 4000123412341235.');
  assert.deepEqual(response.usage, { prompt_tokens: 9 }, 'everything else is kept as it was');
  assert.deepEqual(record.redactions, { email: 1, api_key: 1, card_number: 1 });
  const serialized = JSON.stringify(record);
  for (const secret of [OPENAI_KEY, 'alice@example.com', CARD]) assert.ok(!serialized.includes(secret), secret);
  assert.ok(!serialized.includes('authorization'), 'headers are never stored');
});

test('the request path only hands over references: nothing is redacted or written before the stage returns', async () => {
  const store = memoryStore();
  const writer = new BodyWriter({ store, redact: DATA_DEFAULTS.redact, maxStoredBytes: 64 * 1024 });
  const context = chatContext({ model: 'm', messages: [] });
  await createRecordBodiesStage(writer, 64 * 1024).run(context, async () => {
    context.result = { status: 200, headers: {}, body: Buffer.from('{}') };
  });
  assert.equal(store.records.length, 0);
  await writer.flush();
  assert.equal(store.records.length, 1);
});

test('a stream passes through untouched; its answer text is stored assembled and redacted, hashed over every byte', async () => {
  const store = memoryStore();
  const writer = new BodyWriter({ store, redact: DATA_DEFAULTS.redact, maxStoredBytes: 64 * 1024 });
  const context = chatContext({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { stream: true });
  const client = context.sink as ReturnType<typeof clientSink>;
  // The email is split across two events: only the assembled text shows it whole.
  const chunks = sse([{ choices: [{ delta: { content: 'Reach me at bob.jones@' } }] }, { choices: [{ delta: { content: 'corp.example.org today' } }] }]);
  await createRecordBodiesStage(writer, 64 * 1024).run(context, async () => {
    context.sink.start(200, { 'content-type': 'text/event-stream' });
    for (const chunk of chunks) context.sink.write(chunk);
  });
  assert.deepEqual(Buffer.concat(client.received), Buffer.concat(chunks));
  await writer.flush();
  const [record] = store.records;
  assert.equal(record?.stream, true);
  assert.equal(record?.response?.assembled, true);
  assert.equal(record?.response?.text, 'Reach me at [REDACTED:email] today');
  assert.equal(record?.response?.sha256, sha256(Buffer.concat(chunks)));
  assert.equal(record?.response?.truncated, undefined);
});

test('a stream with no answer text (tool calls) is stored event by event, each redacted as JSON', async () => {
  const store = memoryStore();
  const writer = new BodyWriter({ store, redact: DATA_DEFAULTS.redact, maxStoredBytes: 64 * 1024 });
  const context = chatContext({ model: 'm', stream: true, messages: [] }, { stream: true });
  const toolCall = { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"to":"line\\ncarol@x.io"}' } }] } }] };
  await createRecordBodiesStage(writer, 64 * 1024).run(context, async () => {
    context.sink.start(200, {});
    for (const chunk of sse([toolCall])) context.sink.write(chunk);
  });
  await writer.flush();
  const text = store.records[0]?.response?.text ?? '';
  assert.equal(store.records[0]?.response?.assembled, undefined);
  assert.ok(text.includes('[REDACTED:email]'), text);
  assert.ok(!text.includes('carol@x.io'));
  assert.ok(text.includes('data: [DONE]'));
});

test('bodies beyond the limit are cut and marked, without leaking a secret that straddles the cut', async () => {
  const store = memoryStore();
  const maxStoredBytes = 2048;
  const writer = new BodyWriter({ store, redact: DATA_DEFAULTS.redact, maxStoredBytes });
  const context = chatContext({ model: 'm', messages: [{ role: 'user', content: `${OPENAI_KEY} ${'y'.repeat(10_000)}` }] });
  // In the answer the key starts 14 bytes before the limit: cut first, what is left of it
  // ("sk-proj-Zq4Xw8") would no longer look like a key.
  const answerStart = `${'x'.repeat(maxStoredBytes - 15)} ${OPENAI_KEY} `;
  const long = sse([answerStart, ...Array.from({ length: 2000 }, (_, index) => `word${index} `)].map((content) => ({ choices: [{ delta: { content } }] })));
  context.call.stream = true;
  await createRecordBodiesStage(writer, maxStoredBytes).run(context, async () => {
    context.sink.start(200, {});
    for (const chunk of long) context.sink.write(chunk);
  });
  await writer.flush();
  const [record] = store.records;
  assert.equal(record?.request?.truncated, true);
  assert.ok(!JSON.stringify(record?.request).includes(OPENAI_KEY.slice(0, 12)));
  assert.ok(!(record?.response?.text ?? '').includes(OPENAI_KEY.slice(0, 12)), 'no part of the key survives the cut');
  assert.ok(Buffer.byteLength(JSON.stringify(record?.request?.json ?? record?.request?.text)) <= maxStoredBytes + 64);
  assert.equal(record?.response?.truncated, true);
  assert.equal(record?.response?.bytes, Buffer.concat(long).length, 'size and hash cover the whole stream');
  assert.equal(record?.response?.sha256, sha256(Buffer.concat(long)));
  assert.ok(Buffer.byteLength(record?.response?.text ?? '') <= maxStoredBytes);
});

test('only billable calls are stored, and with storeBodies off there is no stage at all', async () => {
  const store = memoryStore();
  const writer = new BodyWriter({ store, redact: [], maxStoredBytes: 4096 });
  const listing = chatContext({}, { billable: false });
  await createRecordBodiesStage(writer, 4096).run(listing, async () => {
    listing.result = { status: 200, headers: {}, body: Buffer.from('{"data":[]}') };
  });
  await writer.flush();
  assert.equal(store.records.length, 0);
  assert.deepEqual(createRecordBodiesStages({ config: DATA_DEFAULTS, dataDir: '/nonexistent' }), []);
});

test('redact: [] stores bodies as they were; the list picks the kinds', async () => {
  const store = memoryStore();
  const writer = new BodyWriter({ store, redact: ['card_number'], maxStoredBytes: 4096 });
  const context = chatContext({ model: 'm', messages: [{ role: 'user', content: `alice@example.com ${CARD}` }] });
  await createRecordBodiesStage(writer, 4096).run(context, async () => {
    context.result = { status: 200, headers: {}, body: Buffer.from('{}') };
  });
  await writer.flush();
  const request = store.records[0]?.request?.json as { messages: Array<{ content: string }> };
  assert.equal(request.messages[0]?.content, 'alice@example.com [REDACTED:card_number]');
});

test('daily files: one per UTC day of the call, private to the user, read back by id, pruned after the retention', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-bodies-'));
  try {
    const config: DataConfig = { ...DATA_DEFAULTS, storeBodies: true, retentionDays: 2 };
    const closers: Array<() => Promise<void>> = [];
    const [stage] = createRecordBodiesStages({ config, dataDir: directory, closers });
    assert.ok(stage);
    const ids: string[] = [];
    for (const day of [1, 2, 4]) {
      const context = chatContext({ model: 'm', messages: [{ role: 'user', content: `day ${day}` }] });
      (context as { receivedAt: number }).receivedAt = Date.UTC(2026, 11, day, 23, 59);
      ids.push(context.requestId);
      await stage.run(context, async () => {
        context.result = { status: 200, headers: {}, body: Buffer.from(`{"day":${day}}`) };
      });
    }
    for (const close of closers) await close();
    const folder = join(directory, 'bodies');
    assert.deepEqual(readdirSync(folder).sort(), ['bodies-2026-12-01.jsonl', 'bodies-2026-12-02.jsonl', 'bodies-2026-12-04.jsonl']);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    assert.equal(statSync(join(folder, 'bodies-2026-12-04.jsonl')).mode & 0o777, 0o600);

    const store = createDailyFileBodyStore({ directory: folder, retentionDays: 2 });
    const records = await store.get([ids[2] as string, 'unknown', ids[0] as string]);
    assert.deepEqual(records.map((record) => record.response?.json), [{ day: 4 }, { day: 1 }]);
    await store.prune(Date.UTC(2026, 11, 4, 12));
    assert.deepEqual(readdirSync(folder).sort(), ['bodies-2026-12-02.jsonl', 'bodies-2026-12-04.jsonl']);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
