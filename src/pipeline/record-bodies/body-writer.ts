import { createHash } from 'node:crypto';
import type { RedactionCounts, RedactionKind } from '../../core/redaction.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { ParsedCall } from '../../providers/provider.ts';
import { responseText } from '../../providers/response-cache-view.ts';
import type { BodyRecord, BodyStore, StoredBody } from './body-store.ts';
import { redactBody, redactEventStream, redactPlainText } from './redact-body.ts';

/** What the stage hands over when a call ends: references to the bytes, nothing computed yet. */
export interface BodyCapture {
  requestId: string;
  time: number;
  provider: ProviderId;
  endpoint: string;
  model: string | undefined;
  stream: boolean;
  status: number;
  call: ParsedCall;
  request: Buffer | undefined;
  /** A complete body, or the recorded start of a stream (see `streamComplete`). */
  response: Buffer | undefined;
  /** Streams: hash and size of every byte sent, taken as they passed (the recording may stop early). */
  streamSha256?: string;
  streamBytes?: number;
  /** Streams: false when the recording stopped at its limit. */
  streamComplete?: boolean;
}

export interface BodyWriterOptions {
  store: BodyStore;
  redact: readonly RedactionKind[];
  maxStoredBytes: number;
  /** Bytes of captures waiting to be written; beyond it new captures are dropped (and counted). */
  maxPendingBytes?: number;
  log?: (line: string) => void;
  now?: () => number;
}

/** Records appended in one file write. */
const RECORDS_PER_WRITE = 64;
/** Longest the writer holds the event loop before yielding (one large body can take longer). */
const SLICE_MS = 4;
const DAY_MS = 86_400_000;

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function storedRequest(bytes: Buffer, kinds: ReadonlySet<RedactionKind>, maxBytes: number, counts: RedactionCounts): StoredBody {
  return { sha256: sha256(bytes), bytes: bytes.length, ...redactBody(bytes, kinds, maxBytes, counts) };
}

function storedStream(capture: BodyCapture, recorded: Buffer, kinds: ReadonlySet<RedactionKind>, maxBytes: number, counts: RedactionCounts): StoredBody {
  const stored: StoredBody = { sha256: capture.streamSha256 ?? sha256(recorded), bytes: capture.streamBytes ?? recorded.length };
  let text: string | undefined;
  try {
    text = responseText(capture.call, recorded);
  } catch {
    text = undefined;
  }
  if (text) {
    Object.assign(stored, redactPlainText(text, kinds, maxBytes, counts), { assembled: true });
  } else if (capture.provider !== 'bedrock') {
    // No answer text (tool calls only): the events themselves. Bedrock's are binary frames: hash only.
    Object.assign(stored, redactEventStream(recorded.toString('utf8'), kinds, maxBytes, counts));
  }
  if (capture.streamComplete === false) stored.truncated = true;
  return stored;
}

/** Redacts and serializes one capture; the work the hot path never does. */
export function buildBodyRecord(capture: BodyCapture, kinds: ReadonlySet<RedactionKind>, maxBytes: number): BodyRecord {
  const counts: RedactionCounts = {};
  const request = capture.request ? storedRequest(capture.request, kinds, maxBytes, counts) : undefined;
  let response: StoredBody | undefined;
  if (capture.response) {
    response = capture.stream && capture.streamSha256 !== undefined ? storedStream(capture, capture.response, kinds, maxBytes, counts) : storedRequest(capture.response, kinds, maxBytes, counts);
  }
  return {
    requestId: capture.requestId,
    time: capture.time,
    provider: capture.provider,
    endpoint: capture.endpoint,
    model: capture.model,
    stream: capture.stream,
    status: capture.status,
    request,
    response,
    redactions: counts,
  };
}

/**
 * Takes captures from the request path and writes them in the background: redaction, hashing and
 * file writes happen after the response has gone, in order, in slices of a few milliseconds.
 * Bodies are not usage events: when the store falls far behind, new captures are dropped and the
 * drop is logged, rather than holding unbounded memory.
 */
export class BodyWriter {
  private readonly queue: BodyCapture[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private running: Promise<void> | undefined;
  private lastPruneDay = -1;
  private readonly kinds: ReadonlySet<RedactionKind>;
  private readonly maxPendingBytes: number;
  private readonly log: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly options: BodyWriterOptions) {
    this.kinds = new Set(options.redact);
    this.maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
  }

  enqueue(capture: BodyCapture): void {
    const size = (capture.request?.length ?? 0) + (capture.response?.length ?? 0);
    if (this.pendingBytes + size > this.maxPendingBytes && this.queue.length > 0) {
      this.dropped += 1;
      return;
    }
    this.queue.push(capture);
    this.pendingBytes += size;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once every capture enqueued so far is written (or failed and was logged). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.options.store.close();
  }

  private async drain(): Promise<void> {
    // Start after the current turn, so the response that produced the capture is not delayed.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const records: BodyRecord[] = [];
      let sliceStart = performance.now();
      while (this.queue.length > 0 && records.length < RECORDS_PER_WRITE) {
        const capture = this.queue.shift() as BodyCapture;
        this.pendingBytes -= (capture.request?.length ?? 0) + (capture.response?.length ?? 0);
        try {
          records.push(buildBodyRecord(capture, this.kinds, this.options.maxStoredBytes));
        } catch (error) {
          this.log(`body store: request ${capture.requestId} not stored: ${(error as Error).name}`);
        }
        // Redaction runs on the event loop the gateway serves from: give other calls a turn often.
        if (performance.now() - sliceStart > SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
      await this.pruneDaily();
      try {
        await this.options.store.append(records);
      } catch (error) {
        this.log(`body store: ${records.length} bodies not stored: ${(error as Error).message}`);
      }
      if (this.dropped > 0) {
        this.log(`body store: ${this.dropped} bodies not stored, the writer was behind`);
        this.dropped = 0;
      }
    }
  }

  private async pruneDaily(): Promise<void> {
    const today = Math.floor(this.now() / DAY_MS);
    if (today === this.lastPruneDay) return;
    this.lastPruneDay = today;
    await this.options.store.prune(this.now()).catch((error: unknown) => this.log(`body store: retention cleanup failed: ${(error as Error).message}`));
  }
}
