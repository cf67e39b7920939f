import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { EmulatorClock } from './clock.ts';
import type { BreakpointCache, PrefixCache } from './prompt-cache.ts';
import type { Scenario } from './scenarios.ts';

/** Sets the visible reply length in tokens for one request (default: `EmulatorOptions.replyTokens`). */
export const REPLY_TOKENS_HEADER = 'x-emulator-reply-tokens';
/** Sets how many reasoning tokens a reasoning model spends for one request. */
export const REASONING_TOKENS_HEADER = 'x-emulator-reasoning-tokens';
/** Makes the reply a loop: a block of this many tokens repeated until the reply length or the cap ends it. */
export const REPLY_LOOP_HEADER = 'x-emulator-reply-loop';
/**
 * Sets the visible reply length when the request asks for a JSON format (a schema or JSON mode):
 * the same answer written as the JSON object, without the prose around it (default: the reply length).
 */
export const STRUCTURED_REPLY_TOKENS_HEADER = 'x-emulator-structured-reply-tokens';

export type ErrorKind = 'invalid_request' | 'not_found' | 'rate_limited' | 'server' | 'overloaded';

/** A failure the emulator answers with; each provider renders it in its own wire shape and status. */
export class EmulatorError extends Error {
  readonly kind: ErrorKind;
  readonly param: string | undefined;
  /** Sent as retry-after-ms (and retry-after in whole seconds) instead of the default `retry-after: 1` of a 429. */
  retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, message: string, param?: string) {
    super(message);
    this.name = 'EmulatorError';
    this.kind = kind;
    this.param = param;
    this.retryAfterMs = undefined;
  }
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type ErrorRenderer = (error: EmulatorError, requestId: string) => ErrorResponse;

/**
 * What the handlers need from a request and a response, met by both node:http and node:http2's
 * compatibility objects: the AWS SDK talks HTTP/2 (h2c) to Bedrock, the other SDKs HTTP/1.1.
 */
export interface EmulatorRequest extends AsyncIterable<unknown> {
  readonly headers: IncomingHttpHeaders;
  readonly method?: string | undefined;
  readonly url?: string | undefined;
}

export interface EmulatorResponse {
  readonly headersSent: boolean;
  /** True once end() has been called. */
  readonly writableEnded: boolean;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(data?: string | Uint8Array): unknown;
  /** HTTP/1 only; an HTTP/2 response sends its headers with the first write anyway. */
  flushHeaders?(): void;
  on(event: 'close', listener: () => void): unknown;
}

/** Shared between requests for the life of one emulator. */
export interface EmulatorState {
  clock: EmulatorClock;
  prefixCache: PrefixCache;
  breakpointCache: BreakpointCache;
  defaultReplyTokens: number;
  /** Deterministic ids: a prefix plus a per-emulator counter. */
  nextId(prefix: string): string;
}

export interface RequestContext {
  request: EmulatorRequest;
  response: EmulatorResponse;
  /** The parsed JSON body; `{}` for bodiless requests. */
  body: Record<string, unknown>;
  /** The body as received, for routes that read bytes (file uploads, S3 objects, size limits). */
  rawBody?: Buffer;
  state: EmulatorState;
  scenario: Scenario;
  /** Aborted when the client goes away; long waits stop early. */
  signal: AbortSignal;
  requestId: string;
  /** The decoded `{modelId}` path segment on Bedrock routes. */
  pathModel: string | undefined;
  /** The latency applied before this response, reported by Bedrock as metrics.latencyMs. */
  latencyMs: number;
  /** Visible reply length asked for by header or option. */
  replyTokens: number;
  /** Reasoning tokens asked for by header, if any. */
  reasoningTokens: number | undefined;
  /** The period, in tokens, of a looping reply asked for by header, if any. */
  replyLoopTokens?: number | undefined;
  /** Visible reply length under a JSON format, asked for by header, if any. */
  structuredReplyTokens?: number | undefined;
  /** True once the response has ended or the client has gone; nothing more may be written. */
  isClosed(): boolean;
  /** Cuts the connection on purpose (emu-broken-stream); not counted as a client abort. */
  breakConnection(): void;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' ? value : undefined;
}

export function numberField(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A non-negative integer header, or undefined when absent or malformed. */
export function integerHeader(request: EmulatorRequest, name: string): number | undefined {
  const raw = request.headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

export function headerText(request: EmulatorRequest, name: string): string | undefined {
  const raw = request.headers[name];
  return Array.isArray(raw) ? raw.join(',') : raw;
}

/** Seconds since the epoch on the emulator clock, for `created` fields. */
export function epochSeconds(context: RequestContext): number {
  return Math.floor(context.state.clock.now() / 1000);
}
