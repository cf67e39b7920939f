import { responseText } from '../../providers/response-cache-view.ts';
import type { CallContext, ResponseSink } from '../context.ts';
import { WrappingSink } from '../wrapping-sink.ts';

/** Server-sent events parse from any event boundary, so a sliding tail of them is enough. */
const SSE_TAIL_BYTES = 512 * 1024;
/** AWS event-stream frames only parse from the start: keep the whole stream up to this, else give up. */
const EVENT_STREAM_BYTES = 4 * 1024 * 1024;

/**
 * Passes a capped stream through untouched while keeping its last bytes, so that once the call has
 * ended the stage can read how the answer ended (a repetition loop or a real answer cut short).
 * Holds references to chunks already allocated; memory is bounded.
 */
export class StreamTail extends WrappingSink {
  private chunks: Buffer[] = [];
  private size = 0;
  /** The beginning was dropped (sliding) or recording stopped (whole-stream mode overflowed). */
  incomplete = false;

  constructor(
    inner: ResponseSink,
    private readonly maxBytes: number,
    private readonly sliding: boolean,
  ) {
    super(inner);
  }

  override write(chunk: Buffer): boolean {
    if (this.sliding || !this.incomplete) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size > this.maxBytes) {
        this.incomplete = true;
        if (this.sliding) {
          while (this.size > this.maxBytes && this.chunks.length > 1) this.size -= this.chunks.shift()?.length ?? 0;
        } else {
          this.chunks = [];
          this.size = 0;
        }
      }
    }
    return this.inner.write(chunk);
  }

  bytes(): Buffer | undefined {
    if (this.incomplete && !this.sliding) return undefined;
    return Buffer.concat(this.chunks);
  }
}

/** Wraps the sink of a streamed call so its tail can be read after the call; undefined for other calls. */
export function recordStreamTail(context: CallContext): StreamTail | undefined {
  if (!context.call.stream) return undefined;
  const binary = context.call.operation.provider === 'bedrock';
  const tail = new StreamTail(context.sink, binary ? EVENT_STREAM_BYTES : SSE_TAIL_BYTES, !binary);
  context.sink = tail;
  return tail;
}

/** The answer's text (or its end, for long streams) once the call has ended; undefined when unreadable. */
export function answerText(context: CallContext, tail: StreamTail | undefined): string | undefined {
  if (context.call.stream) {
    const bytes = tail?.bytes();
    return bytes ? responseText(context.call, bytes) : undefined;
  }
  const result = context.result;
  if (!result || result.status < 200 || result.status >= 300) return undefined;
  return responseText(context.call, result.body);
}
