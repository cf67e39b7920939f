import type { ResponseFacts, ParsedCall } from '../../providers/provider.ts';
import type { Next } from '../stage.ts';
import type { BufferedResult, CallContext, HeaderMap, ResponseSink } from '../context.ts';

/**
 * One upstream attempt of a routed call: the rest of the pipeline runs on a child context aimed at
 * one tier's model. A probe attempt (a cascade's cheap answer, a judge) writes its stream into a
 * buffer; the final attempt writes straight to the client, streams included.
 */

/** Collects a stream instead of sending it, so the answer can be scored before the client sees it. */
export class BufferingSink implements ResponseSink {
  started = false;
  status: number | undefined;
  headers: HeaderMap = {};
  readonly chunks: Buffer[] = [];
  aborted = false;

  start(status: number, headers: HeaderMap): void {
    this.started = true;
    this.status = status;
    this.headers = headers;
  }

  write(chunk: Buffer): boolean {
    if (chunk.length > 0) this.chunks.push(chunk);
    return true;
  }

  onDrain(callback: () => void): void {
    queueMicrotask(callback);
  }

  end(): void {}

  abort(): void {
    this.aborted = true;
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export interface AttemptResult {
  child: CallContext;
  status: number;
  facts: ResponseFacts | undefined;
  /** The complete body (non-streamed) or the recorded stream (probe attempts). */
  body: Buffer | undefined;
  buffer: BufferingSink | undefined;
  latencyMs: number;
  /** performance.now() when the first byte of a buffered stream arrived. */
  firstByteAt: number | undefined;
}

// Fields of a child context that belong to the attempt, not to the call as a whole.
const ATTEMPT_FIELDS = new Set<keyof CallContext>(['call', 'sink', 'levers', 'requestId', 'receivedAt', 'startedAt', 'adapter', 'signal', 'bodyChanged']);

export async function runAttempt(
  parent: CallContext,
  next: Next,
  call: ParsedCall,
  options: { probe: boolean; sink?: ResponseSink; signal?: AbortSignal },
): Promise<AttemptResult> {
  const buffer = options.probe && call.stream ? new BufferingSink() : undefined;
  const child: CallContext = {
    ...parent,
    call,
    signal: options.signal ?? parent.signal,
    sink: buffer ?? options.sink ?? parent.sink,
    bodyChanged: true,
    result: undefined,
    facts: undefined,
    firstByteAt: undefined,
    cost: undefined,
    levers: [],
    event: undefined,
  };
  const started = performance.now();
  await next(child);
  const status = child.result?.status ?? child.sink.status ?? 0;
  return {
    child,
    status,
    facts: child.facts,
    body: child.result?.body ?? buffer?.body(),
    buffer,
    latencyMs: performance.now() - started,
    firstByteAt: child.firstByteAt,
  };
}

/**
 * Makes the final attempt's outcome the call's outcome: response, facts and whatever later stages
 * recorded on the child (output caps, cache markers), plus the levers they reported.
 */
export function adoptAttempt(parent: CallContext, child: CallContext, servedModel: string): void {
  for (const [key, value] of Object.entries(child) as Array<[keyof CallContext, unknown]>) {
    if (ATTEMPT_FIELDS.has(key)) continue;
    (parent as unknown as Record<string, unknown>)[key] = value;
  }
  parent.levers.push(...child.levers);
  // Bedrock bodies do not name the model; the ledger must price the model that actually answered.
  if (parent.facts && parent.facts.servedModel === undefined) parent.facts = { ...parent.facts, servedModel };
}

/** Sends a recorded stream to the client, honouring backpressure. */
export async function replayStream(sink: ResponseSink, status: number, headers: HeaderMap, chunks: readonly Buffer[], signal: AbortSignal): Promise<void> {
  sink.start(status, headers);
  for (const chunk of chunks) {
    if (signal.aborted) return;
    if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.onDrain(resolve));
  }
}

export function withHeaders(result: BufferedResult, extra: HeaderMap, body?: Buffer): BufferedResult {
  return { status: result.status, headers: { ...result.headers, ...extra }, body: body ?? result.body };
}
