import { createHash } from 'node:crypto';
import { createServer as createHttp1Server } from 'node:http';
import { constants as http2Constants, createServer as createHttp2Server } from 'node:http2';
import { type AddressInfo, type Socket, createServer as createSocketServer } from 'node:net';
import { handleCountTokens, handleMessages, renderAnthropicError } from './anthropic.ts';
import { BatchEmulator, type BatchTiming, DEFAULT_BATCH_TIMING } from './batch-core.ts';
import { matchBatchRoute } from './batch-routes.ts';
import { handleConverse, handleInvoke, renderBedrockError } from './bedrock.ts';
import { type EmulatorClock, createClock } from './clock.ts';
import {
  EmulatorError,
  type EmulatorRequest,
  type EmulatorResponse,
  type EmulatorState,
  type ErrorRenderer,
  REASONING_TOKENS_HEADER,
  REPLY_LOOP_HEADER,
  REPLY_TOKENS_HEADER,
  type RequestContext,
  STRUCTURED_REPLY_TOKENS_HEADER,
  headerText,
  integerHeader,
  isRecord,
} from './context.ts';
import { FaultInjector, type FaultProvider } from './faults.ts';
import { sendError, sleep } from './http-io.ts';
import { handleEmbeddings, handleListModels, handleRetrieveModel, renderOpenAIError } from './openai.ts';
import { handleChatCompletions } from './openai-chat.ts';
import { handleResponses } from './openai-responses.ts';
import { BreakpointCache, PrefixCache } from './prompt-cache.ts';
import { ObjectStore } from './s3.ts';
import { NO_SCENARIO, RefusalMemory, SCENARIO_HEADER, readScenario } from './scenarios.ts';

/**
 * A fake OpenAI / Anthropic / Bedrock runtime on node:http, wire-compatible with the official SDKs,
 * with deterministic replies, real-tokenizer usage, documented prompt caching on a controllable
 * clock, and failure scenarios. For tests, demos and benchmarks; never on the production path.
 */

export type { EmulatorClock } from './clock.ts';
export type { BatchTiming } from './batch-core.ts';
export { REASONING_TOKENS_HEADER, REPLY_LOOP_HEADER, REPLY_TOKENS_HEADER, STRUCTURED_REPLY_TOKENS_HEADER } from './context.ts';
export { SCENARIO_HEADER, SCENARIO_NAMES, SLOW_STREAM_INTERVAL_MS } from './scenarios.ts';

export const DEFAULT_EMULATOR_PORT = 4142;
const MAX_REPLY_TOKENS = 100_000;

export interface EmulatorOptions {
  /** 0 (the default here) picks a free port; the CLI uses DEFAULT_EMULATOR_PORT. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Visible reply length in tokens when no x-emulator-reply-tokens header is sent. Default 24. */
  replyTokens?: number;
  /** Fixed latency before every provider response. Default 0. */
  latencyMs?: number;
  /** How long batches spend validating, in progress and finalizing, on the emulator clock. */
  batchTiming?: Partial<BatchTiming>;
  /** Bedrock's minimum records per batch inference job. Default 100, as on AWS. */
  bedrockMinRecords?: number;
  /** Count submissions per batch line id (`batchSubmissions`), for tests of no double submission. */
  recordBatchSubmissions?: boolean;
  /** [0, 1) draws for fault rules with a rate below 1; Math.random by default. */
  random?: () => number;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:PORT (no trailing slash; OpenAI clients add /v1). */
  url: string;
  port: number;
  clock: EmulatorClock;
  close(): Promise<void>;
  /** Provider API requests received (control endpoints excluded). */
  readonly requests: number;
  /** Requests whose client disconnected before the response ended. */
  readonly abortedRequests: number;
  /** Same as POST /emulator/reset: forgets prompt caches, emu-429-then-ok history and injected faults. */
  reset(): void;
  /** Same as POST /emulator/faults and DELETE /emulator/faults, for in-process tests and benchmarks. */
  readonly faults: FaultInjector;
  /** Batch line id -> times it was part of a created batch (with `recordBatchSubmissions`). */
  readonly batchSubmissions: ReadonlyMap<string, number>;
}

type Handler = (context: RequestContext) => Promise<void>;

interface Route {
  handle: Handler;
  render: ErrorRenderer;
  pathModel?: string;
  /** 'raw': the body is not JSON (file uploads, S3 objects); handlers read `context.rawBody`. */
  body?: 'json' | 'raw';
}

const BEDROCK_PATH = /^\/model\/([^/]+)\/(converse|converse-stream|invoke|invoke-with-response-stream)$/;

/** Percent-decoding that cannot throw: a malformed escape is kept as sent. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchRoute(method: string, path: string): Route | undefined {
  if (method === 'GET' && path === '/v1/models') return { handle: handleListModels, render: renderOpenAIError };
  if (method === 'GET' && path.startsWith('/v1/models/')) {
    const id = decodePathSegment(path.slice('/v1/models/'.length));
    return { handle: (context) => handleRetrieveModel(context, id), render: renderOpenAIError };
  }
  if (method !== 'POST') return undefined;
  switch (path) {
    case '/v1/chat/completions':
      return { handle: handleChatCompletions, render: renderOpenAIError };
    case '/v1/responses':
      return { handle: handleResponses, render: renderOpenAIError };
    case '/v1/embeddings':
      return { handle: handleEmbeddings, render: renderOpenAIError };
    case '/v1/messages':
      return { handle: handleMessages, render: renderAnthropicError };
    case '/v1/messages/count_tokens':
      return { handle: handleCountTokens, render: renderAnthropicError };
  }
  const bedrock = BEDROCK_PATH.exec(path);
  if (bedrock?.[1] === undefined) return undefined;
  const operation = bedrock[2];
  const streaming = operation === 'converse-stream' || operation === 'invoke-with-response-stream';
  const handle: Handler = operation?.startsWith('converse')
    ? (context) => handleConverse(context, streaming)
    : (context) => handleInvoke(context, streaming);
  return { handle, render: renderBedrockError, pathModel: decodePathSegment(bedrock[1]) };
}

function providerOf(path: string): FaultProvider {
  if (path.startsWith('/model/')) return 'bedrock';
  if (path.startsWith('/v1/messages')) return 'anthropic';
  return 'openai';
}

function rendererForUnknown(path: string): ErrorRenderer {
  if (path.startsWith('/model/')) return renderBedrockError;
  if (path.startsWith('/v1/messages')) return renderAnthropicError;
  return renderOpenAIError;
}

async function readBody(request: EmulatorRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new EmulatorError('invalid_request', 'The request body is not valid JSON.');
  }
  if (!isRecord(parsed)) throw new EmulatorError('invalid_request', 'The request body must be a JSON object.');
  return parsed;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const clock = createClock();
  let idCounter = 0;
  const state: EmulatorState = {
    clock,
    prefixCache: new PrefixCache(clock),
    breakpointCache: new BreakpointCache(clock),
    defaultReplyTokens: options.replyTokens ?? 24,
    nextId: (prefix) => {
      idCounter += 1;
      return `${prefix}_${idCounter.toString().padStart(10, '0')}`;
    },
  };
  const refusals = new RefusalMemory();
  const faults = new FaultInjector(clock, options.random);
  const batch = new BatchEmulator({
    state,
    clock,
    timing: { ...DEFAULT_BATCH_TIMING, ...options.batchTiming },
    replyTokens: state.defaultReplyTokens,
    bedrockMinRecords: options.bedrockMinRecords ?? 100,
    recordSubmissions: options.recordBatchSubmissions ?? false,
  });
  const objects = new ObjectStore(batch.directory);
  const counters = { requests: 0, aborted: 0 };
  const reset = () => {
    state.prefixCache.clear();
    state.breakpointCache.clear();
    refusals.clear();
    faults.clear();
  };

  async function control(request: EmulatorRequest, response: EmulatorResponse, path: string): Promise<void> {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const raw = await readBody(request);
    if (path === '/emulator/clock' && request.method === 'GET') return reply(200, { now: clock.now() });
    if (path === '/emulator/clock' && request.method === 'POST') {
      let advanceMs: unknown;
      try {
        advanceMs = raw.length === 0 ? undefined : (JSON.parse(raw.toString('utf8')) as { advanceMs?: unknown }).advanceMs;
      } catch {
        advanceMs = undefined;
      }
      if (typeof advanceMs !== 'number' || !Number.isFinite(advanceMs) || advanceMs < 0) {
        return reply(400, { error: 'body must be {"advanceMs": <non-negative number>}' });
      }
      clock.advance(advanceMs);
      return reply(200, { now: clock.now() });
    }
    if (path === '/emulator/reset' && request.method === 'POST') {
      reset();
      return reply(200, { ok: true });
    }
    if (path === '/emulator/stats' && request.method === 'GET') {
      return reply(200, { requests: counters.requests, abortedRequests: counters.aborted, injectedFaults: faults.injected });
    }
    if (path === '/emulator/faults' && request.method === 'POST') {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = undefined;
      }
      const rule = faults.add(body);
      return typeof rule === 'string' ? reply(400, { error: rule }) : reply(200, rule);
    }
    if (path === '/emulator/faults' && request.method === 'GET') return reply(200, { faults: faults.active() });
    if (path === '/emulator/faults' && request.method === 'DELETE') {
      faults.clear();
      return reply(200, { ok: true });
    }
    return reply(404, { error: `unknown emulator control route ${request.method} ${path}` });
  }

  async function serve(
    request: EmulatorRequest,
    response: EmulatorResponse,
    breakConnection: () => void,
  ): Promise<void> {
    const [path = '/', query = ''] = (request.url ?? '/').split('?');
    if (path.startsWith('/emulator/')) return control(request, response, path);

    counters.requests += 1;
    const controller = new AbortController();
    let brokenOnPurpose = false;
    // writableEnded, not a 'finish' event: node:http2's compat response emits 'finish' on a client reset too.
    response.on('close', () => {
      if (response.writableEnded) return;
      controller.abort();
      if (!brokenOnPurpose) counters.aborted += 1;
    });

    const route: Route | undefined =
      matchBatchRoute(request, path, new URLSearchParams(query), batch, objects) ?? matchRoute(request.method ?? 'GET', path);
    const structuredReplyTokens = integerHeader(request, STRUCTURED_REPLY_TOKENS_HEADER);
    const context: RequestContext = {
      request,
      response,
      body: {},
      state,
      scenario: NO_SCENARIO,
      signal: controller.signal,
      requestId: state.nextId('req_emu'),
      pathModel: route?.pathModel,
      latencyMs: options.latencyMs ?? 0,
      replyTokens: Math.min(integerHeader(request, REPLY_TOKENS_HEADER) ?? state.defaultReplyTokens, MAX_REPLY_TOKENS),
      reasoningTokens: integerHeader(request, REASONING_TOKENS_HEADER),
      replyLoopTokens: integerHeader(request, REPLY_LOOP_HEADER),
      structuredReplyTokens: structuredReplyTokens === undefined ? undefined : Math.min(structuredReplyTokens, MAX_REPLY_TOKENS),
      isClosed: () => response.writableEnded || controller.signal.aborted,
      breakConnection: () => {
        brokenOnPurpose = true;
        breakConnection();
      },
    };
    const render = route?.render ?? rendererForUnknown(path);
    try {
      const raw = await readBody(request);
      if (route === undefined) {
        throw new EmulatorError('not_found', `No emulated route for ${request.method ?? 'GET'} ${path}`);
      }
      context.rawBody = raw;
      if (route.body !== 'raw') context.body = parseBody(raw);
      const model = route.pathModel ?? (typeof context.body['model'] === 'string' ? context.body['model'] : undefined);
      context.scenario = readScenario([model, headerText(request, SCENARIO_HEADER)]);
      context.latencyMs += context.scenario.latencyMs;
      await sleep(context.latencyMs, controller.signal);
      if (controller.signal.aborted) return;
      const fault = faults.pick(providerOf(path), model);
      if (fault) throw fault;
      if (context.scenario.failure !== undefined) {
        throw new EmulatorError(context.scenario.failure, scenarioMessage(context.scenario.failure));
      }
      if (context.scenario.rateLimitEveryOtherCall) {
        const key = createHash('sha1').update(path).update('\u0000').update(raw).digest('base64');
        if (refusals.shouldRefuse(key)) throw new EmulatorError('rate_limited', scenarioMessage('rate_limited'));
      }
      await route.handle(context);
    } catch (error) {
      if (controller.signal.aborted) return;
      const failure =
        error instanceof EmulatorError
          ? error
          : new EmulatorError('server', `Emulator failure: ${error instanceof Error ? error.message : String(error)}`);
      sendError(context, render, failure);
    }
  }

  // One port, two protocols: the AWS SDK opens HTTP/2 with prior knowledge (h2c), the others HTTP/1.1.
  const http1 = createHttp1Server((request, response) => {
    serve(request, response, () => request.socket.destroy()).catch(() => request.socket.destroy());
  });
  const http2 = createHttp2Server((request, response) => {
    // A reset with an error code, so the client sees a failure rather than a clean end of stream.
    const reset = () => response.stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
    serve(request, response, reset).catch(reset);
  });
  // A client that drops an HTTP/2 session mid-request is not the emulator's failure.
  http2.on('sessionError', () => {});
  const sockets = new Set<Socket>();
  const front = createSocketServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (head) => {
      socket.pause();
      socket.unshift(head);
      // Every HTTP/2 connection opens with the preface "PRI * HTTP/2.0".
      if (head.subarray(0, 3).toString('latin1') === 'PRI') {
        http2.emit('connection', socket);
      } else {
        http1.emit('connection', socket);
        socket.resume();
      }
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port ?? 0, host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const port = (front.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    clock,
    get requests() {
      return counters.requests;
    },
    get abortedRequests() {
      return counters.aborted;
    },
    reset,
    faults,
    batchSubmissions: batch.submissions,
    close: () =>
      new Promise<void>((resolve, reject) => {
        front.close((error) => {
          batch.close();
          if (error === undefined) resolve();
          else reject(error);
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function scenarioMessage(kind: 'rate_limited' | 'server' | 'overloaded'): string {
  switch (kind) {
    case 'rate_limited':
      return 'Rate limit reached (emulator scenario). Please try again in 1s.';
    case 'server':
      return 'The server had an error while processing your request (emulator scenario).';
    case 'overloaded':
      return 'Overloaded (emulator scenario).';
  }
}
