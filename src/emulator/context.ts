import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorClock } from './clock.ts';
import type { BreakpointCache, PrefixCache } from './prompt-cache.ts';
import type { Scenario } from './scenarios.ts';

/** Sets the visible reply length in tokens for one request (default: `EmulatorOptions.replyTokens`). */
export const REPLY_TOKENS_HEADER = 'x-emulator-reply-tokens';
/** Sets how many reasoning tokens a reasoning model spends for one request. */
export const REASONING_TOKENS_HEADER = 'x-emulator-reasoning-tokens';

export type ErrorKind = 'invalid_request' | 'not_found' | 'rate_limited' | 'server' | 'overloaded';

/** A failure the emulator answers with; each provider renders it in its own wire shape and status. */
export class EmulatorError extends Error {
  readonly kind: ErrorKind;
  readonly param: string | undefined;

  constructor(kind: ErrorKind, message: string, param?: string) {
    super(message);
    this.name = 'EmulatorError';
    this.kind = kind;
    this.param = param;
  }
}

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type ErrorRenderer = (error: EmulatorError, requestId: string) => ErrorResponse;

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
  request: IncomingMessage;
  response: ServerResponse;
  /** The parsed JSON body; `{}` for bodiless requests. */
  body: Record<string, unknown>;
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
  /** Tells the server that the socket is about to be destroyed on purpose (not a client abort). */
  markBroken(): void;
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
export function integerHeader(request: IncomingMessage, name: string): number | undefined {
  const raw = request.headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

export function headerText(request: IncomingMessage, name: string): string | undefined {
  const raw = request.headers[name];
  return Array.isArray(raw) ? raw.join(',') : raw;
}

/** Seconds since the epoch on the emulator clock, for `created` fields. */
export function epochSeconds(context: RequestContext): number {
  return Math.floor(context.state.clock.now() / 1000);
}
