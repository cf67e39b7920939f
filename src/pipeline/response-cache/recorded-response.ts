import type { Usage } from '../../core/usage.ts';
import type { ResponseFacts } from '../../providers/provider.ts';
import type { CallContext, HeaderMap, ResponseSink } from '../context.ts';
import { WrappingSink } from '../wrapping-sink.ts';
import type { CachedResponse } from './response-store.ts';

/** Response headers that describe one delivery, not the answer: never stored, never replayed. */
const PER_DELIVERY_HEADERS = new Set(['date', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'age']);

export function storableHeaders(headers: HeaderMap): HeaderMap {
  const kept: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!PER_DELIVERY_HEADERS.has(name) && !name.startsWith('x-costgate-')) kept[name] = value;
  }
  return kept;
}

/**
 * Passes a streamed response through to the client and keeps a copy of every byte it sends, up
 * to a limit, so the stream can be stored once it ends cleanly.
 */
export class RecordingSink extends WrappingSink {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;
  aborted = false;
  headers: HeaderMap | undefined;

  constructor(
    inner: ResponseSink,
    private readonly maxBytes: number,
    /** Headers added to the client's response (not stored). */
    private readonly extraHeaders: () => HeaderMap,
  ) {
    super(inner);
  }

  override start(status: number, headers: HeaderMap): void {
    this.headers = headers;
    // A replayed hit names its own cache status; a live answer gets the call's.
    this.inner.start(status, { ...this.extraHeaders(), ...headers });
  }

  override write(chunk: Buffer): boolean {
    if (!this.overflowed) {
      this.size += chunk.length;
      if (this.size > this.maxBytes) {
        this.overflowed = true;
        this.chunks.length = 0;
      } else {
        this.chunks.push(chunk);
      }
    }
    return this.inner.write(chunk);
  }

  override abort(): void {
    this.aborted = true;
    this.inner.abort();
  }

  /** The recorded bytes, or undefined when too large or cut short. */
  body(): Buffer | undefined {
    if (this.overflowed || this.aborted || !this.headers) return undefined;
    return Buffer.concat(this.chunks, this.size);
  }
}

/** A hit bills no tokens: zero reported everywhere, so the row is priced at exactly 0. */
export function zeroUsage(): Usage {
  return {
    input: { total: 0, noCache: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 },
    output: { total: 0, text: 0, reasoning: 0 },
  };
}

/**
 * Answers the call from a cached entry in the provider's own format: a buffered body as the
 * result, or the recorded stream written to the sink (the SDKs parse it as any live stream).
 */
export function replay(context: CallContext, entry: CachedResponse, status: string, now: number): void {
  const headers: HeaderMap = {
    ...entry.headers,
    'x-costgate-request-id': context.requestId,
    'x-costgate-cache': status,
    age: String(Math.max(0, Math.floor((now - entry.createdAt) / 1000))),
  };
  const facts: ResponseFacts = { usage: zeroUsage(), servedModel: entry.servedModel, stopReason: entry.stopReason, errorType: undefined };
  context.facts = facts;
  context.firstByteAt = performance.now();
  if (entry.stream) {
    context.sink.start(entry.status, headers);
    context.sink.write(entry.body);
  } else {
    context.result = { status: entry.status, headers, body: entry.body };
  }
}
