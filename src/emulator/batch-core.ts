import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleMessages, renderAnthropicError } from './anthropic.ts';
import { handleConverse, handleInvoke, renderBedrockError } from './bedrock.ts';
import { BoundedMap } from './bounded-map.ts';
import type { EmulatorClock } from './clock.ts';
import { EmulatorError, type EmulatorResponse, type EmulatorState, type ErrorRenderer, type RequestContext } from './context.ts';
import { handleEmbeddings, renderOpenAIError } from './openai.ts';
import { handleChatCompletions } from './openai-chat.ts';
import { handleResponses } from './openai-responses.ts';
import { NO_SCENARIO, RefusalMemory, readScenario, type Scenario } from './scenarios.ts';

/**
 * What the three batch APIs share in the emulator: where uploaded and produced files live (on disk,
 * so a million-line benchmark does not sit in memory), the lifecycle clock, how one batch line is
 * answered (by the same handlers as the live routes, so usage and prompt caching match), and the
 * injected failures.
 *
 * Lifecycle: a batch is validating for `validatingMs`, in progress for `inProgressMs`, finalizing
 * for `finalizingMs`, then ended, all on the emulator clock, so a test can jump ahead with
 * `clock.advance`. Lines are answered once, when the batch is first observed past in-progress.
 *
 * Scenarios, by a marker in a line's model id (OpenAI, Anthropic), the job's model id (Bedrock) or
 * the `x-emulator-scenario` header on the create call:
 * - `emu-429` / `emu-429-then-ok` on create: 429 always / every other attempt of the same request.
 * - `emu-batch-fail`: the batch fails validation the first time a given input is submitted.
 * - `emu-batch-expire`: the batch expires; every other line is left unprocessed (expired) the first
 *   time that line is seen, so a retry in a new batch completes it.
 * Per line, by a marker anywhere in the line's request body:
 * - `emu-line-error`: always answered with a 500 server error.
 * - `emu-line-flaky`: a 500 the first time that exact request is seen, then a success.
 * - `emu-line-invalid`: a 400 invalid request.
 */

export interface BatchTiming {
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
}

export const DEFAULT_BATCH_TIMING: BatchTiming = { validatingMs: 1000, inProgressMs: 3000, finalizingMs: 1000 };

/** Providers keep unfinished work for 24 hours, then expire it. */
export const COMPLETION_WINDOW_MS = 24 * 60 * 60_000;

export type Phase = 'validating' | 'in_progress' | 'finalizing' | 'ended';

export function phaseAt(createdAt: number, now: number, timing: BatchTiming): { phase: Phase; progress: number } {
  const elapsed = now - createdAt;
  if (elapsed < timing.validatingMs) return { phase: 'validating', progress: 0 };
  const inProgress = elapsed - timing.validatingMs;
  if (inProgress < timing.inProgressMs) return { phase: 'in_progress', progress: inProgress / Math.max(1, timing.inProgressMs) };
  if (inProgress < timing.inProgressMs + timing.finalizingMs) return { phase: 'finalizing', progress: 1 };
  return { phase: 'ended', progress: 1 };
}

export type LineKind = 'chat' | 'responses' | 'embeddings' | 'messages' | 'invoke' | 'converse';

export interface LineAnswer {
  status: number;
  body: Record<string, unknown>;
  /** The request id the live route would have sent in a header. */
  requestId: string;
}

export interface BatchScenario {
  base: Scenario;
  fail: boolean;
  expire: boolean;
}

export function readBatchScenario(sources: ReadonlyArray<string | undefined>): BatchScenario {
  const text = sources.filter((source) => source !== undefined).join(' ');
  return { base: readScenario([text]), fail: text.includes('emu-batch-fail'), expire: text.includes('emu-batch-expire') };
}

const HANDLERS: Record<LineKind, { handle: (context: RequestContext) => Promise<void>; render: ErrorRenderer }> = {
  chat: { handle: handleChatCompletions, render: renderOpenAIError },
  responses: { handle: handleResponses, render: renderOpenAIError },
  embeddings: { handle: handleEmbeddings, render: renderOpenAIError },
  messages: { handle: handleMessages, render: renderAnthropicError },
  invoke: { handle: (context) => handleInvoke(context, false), render: renderBedrockError },
  converse: { handle: (context) => handleConverse(context, false), render: renderBedrockError },
};

/** A response object that keeps what a handler sent, so batch lines reuse the live handlers. */
class CapturedResponse implements EmulatorResponse {
  headersSent = false;
  writableEnded = false;
  status = 0;
  chunks: Buffer[] = [];
  writeHead(statusCode: number): this {
    this.status = statusCode;
    this.headersSent = true;
    return this;
  }
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  end(data?: string | Uint8Array): this {
    if (data !== undefined) this.chunks.push(Buffer.from(data));
    this.writableEnded = true;
    return this;
  }
  on(): this {
    return this;
  }
}

export interface BatchEmulatorOptions {
  state: EmulatorState;
  clock: EmulatorClock;
  timing: BatchTiming;
  replyTokens: number;
  /** Bedrock's "minimum number of records per batch inference job" quota. */
  bedrockMinRecords: number;
  /** Count how often each line id was submitted (tests of no-double-submission); off by default. */
  recordSubmissions: boolean;
}

export interface StoredFile {
  id: string;
  path: string;
  bytes: number;
  filename: string;
  purpose: string;
  createdAt: number;
}

export class BatchEmulator {
  readonly directory = mkdtempSync(join(tmpdir(), 'costgate-emulator-batch-'));
  readonly files = new Map<string, StoredFile>();
  readonly refusals = new RefusalMemory();
  /** Lines and inputs that already had their one injected failure. */
  readonly #failedOnce = new BoundedMap<string, true>({ maxEntries: 2_000_000 });
  /** custom id -> times submitted in a created batch (only with recordSubmissions). */
  readonly submissions = new Map<string, number>();
  #counter = 0;

  constructor(readonly options: BatchEmulatorOptions) {}

  get clock(): EmulatorClock {
    return this.options.clock;
  }

  nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}${Date.now().toString(36)}${this.#counter.toString(36).padStart(6, '0')}`;
  }

  putFile(content: Buffer, filename: string, purpose: string, prefix = 'file-'): StoredFile {
    const id = this.nextId(prefix);
    const path = join(this.directory, id);
    writeFileSync(path, content);
    const file = { id, path, bytes: content.length, filename, purpose, createdAt: this.clock.now() };
    this.files.set(id, file);
    return file;
  }

  readFile(id: string): Buffer | undefined {
    const file = this.files.get(id);
    return file === undefined ? undefined : readFileSync(file.path);
  }

  /** True the first time `key` asks for its one injected failure, false afterwards. */
  failOnce(key: string): boolean {
    if (this.#failedOnce.get(key) !== undefined) return false;
    this.#failedOnce.set(key, true);
    return true;
  }

  noteSubmitted(customIds: Iterable<string>): void {
    if (!this.options.recordSubmissions) return;
    for (const id of customIds) this.submissions.set(id, (this.submissions.get(id) ?? 0) + 1);
  }

  /** Applies the create-time scenarios (429s); throws the provider's error when one applies. */
  checkCreate(scenario: BatchScenario, key: string): void {
    if (scenario.base.failure !== undefined) throw new EmulatorError(scenario.base.failure, 'Rate limit reached for batch creation (emulator scenario).');
    if (scenario.base.rateLimitEveryOtherCall && this.refusals.shouldRefuse(key)) {
      throw new EmulatorError('rate_limited', 'Rate limit reached for batch creation (emulator scenario).');
    }
  }

  /** Answers one batch line as the live route would, with the line-level failure markers applied. */
  async answer(kind: LineKind, body: Record<string, unknown>, pathModel?: string): Promise<LineAnswer> {
    const text = JSON.stringify(body);
    const requestId = this.options.state.nextId('req_emu');
    const { render, handle } = HANDLERS[kind];
    const fail = (error: EmulatorError): LineAnswer => {
      const rendered = render(error, requestId);
      return { status: rendered.status, body: JSON.parse(rendered.body) as Record<string, unknown>, requestId };
    };
    if (text.includes('emu-line-invalid')) return fail(new EmulatorError('invalid_request', 'Invalid request (emulator scenario emu-line-invalid).'));
    if (text.includes('emu-line-error')) return fail(new EmulatorError('server', 'The server had an error (emulator scenario emu-line-error).'));
    if (text.includes('emu-line-flaky') && this.failOnce(`flaky\u0000${hash(text)}`)) {
      return fail(new EmulatorError('server', 'The server had an error (emulator scenario emu-line-flaky).'));
    }
    const response = new CapturedResponse();
    const context: RequestContext = {
      request: { headers: {}, method: 'POST', url: '/', [Symbol.asyncIterator]: async function* () {} },
      response,
      body,
      state: this.options.state,
      scenario: NO_SCENARIO,
      signal: new AbortController().signal,
      requestId,
      pathModel,
      latencyMs: 0,
      replyTokens: this.options.replyTokens,
      reasoningTokens: undefined,
      isClosed: () => response.writableEnded,
      breakConnection: () => {},
    };
    try {
      await handle(context);
    } catch (error) {
      return fail(error instanceof EmulatorError ? error : new EmulatorError('server', String(error)));
    }
    return { status: response.status, body: JSON.parse(Buffer.concat(response.chunks).toString('utf8')) as Record<string, unknown>, requestId };
  }

  close(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}

export function hash(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('base64url');
}

/** Splits a JSONL buffer into its non-empty lines. */
export function jsonLines(content: Buffer): string[] {
  return content
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0);
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
