import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import type { DataConfig } from '../../config/data-config.ts';
import type { ResponseSink } from '../context.ts';
import type { Stage } from '../stage.ts';
import { WrappingSink } from '../wrapping-sink.ts';
import type { BodyStore } from './body-store.ts';
import { BodyWriter } from './body-writer.ts';
import { createDailyFileBodyStore } from './daily-file-body-store.ts';

/**
 * Streams are kept up to this many times `maxStoredBytes` of raw events: the answer's text is
 * assembled from them later, and event framing (ids, JSON wrappers) is most of a stream's size.
 */
const STREAM_RECORDING_FACTOR = 16;

/** Passes a stream through and keeps its first bytes, with a hash and size of all of them. */
class StreamTapSink extends WrappingSink {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
  complete = true;

  constructor(
    inner: ResponseSink,
    private readonly maxBytes: number,
  ) {
    super(inner);
  }

  override write(chunk: Buffer): boolean {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.complete) {
      if (this.kept + chunk.length > this.maxBytes) {
        this.complete = false;
      } else {
        this.chunks.push(chunk);
        this.kept += chunk.length;
      }
    }
    return this.inner.write(chunk);
  }

  recorded(): Buffer {
    return Buffer.concat(this.chunks, this.kept);
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Opt-in (`data.storeBodies`): keeps each call's request and response bodies, redacted, keyed by
 * the ledger's request id. Placed just inside record-usage, so it sees the client's request before
 * any lever edits it and the response the client finally got (a cache hit, a cascade's answer).
 * The request path only keeps references to the bytes; redaction and writing happen afterwards.
 */
export function createRecordBodiesStage(writer: BodyWriter, maxStoredBytes: number): Stage {
  const maxRecordedBytes = maxStoredBytes * STREAM_RECORDING_FACTOR;
  return {
    name: 'record-bodies',
    async run(context, next) {
      if (!context.call.operation.billable) return next();
      // The parsed body may be edited in place by later stages; the raw bytes are the client's.
      const request = context.call.rawBody;
      const tap = new StreamTapSink(context.sink, maxRecordedBytes);
      context.sink = tap;
      try {
        await next();
      } finally {
        const streamed = context.result === undefined && tap.started;
        writer.enqueue({
          requestId: context.requestId,
          time: context.receivedAt,
          provider: context.call.operation.provider,
          endpoint: context.call.operation.endpoint,
          model: context.call.model,
          stream: streamed,
          status: context.result?.status ?? tap.status ?? 0,
          call: context.call,
          request,
          response: streamed ? tap.recorded() : context.result?.body,
          ...(streamed ? { streamSha256: tap.sha256(), streamBytes: tap.bytes, streamComplete: tap.complete } : {}),
        });
      }
    },
  };
}

export interface RecordBodiesOptions {
  config: DataConfig;
  /** The ledger's folder; bodies go to `<dataDir>/bodies` unless `data.path` says otherwise. */
  dataDir: string;
  closers?: Array<() => Promise<void>>;
  log?: (line: string) => void;
  /** A store other than the daily files (a shared table); tests pass one to read back. */
  store?: BodyStore;
}

/** The stage when `data.storeBodies` is on, none otherwise: by default no body is kept anywhere. */
export function createRecordBodiesStages(options: RecordBodiesOptions): Stage[] {
  const { config } = options;
  if (!config.storeBodies) return [];
  const store = options.store ?? createDailyFileBodyStore({ directory: config.path ?? join(options.dataDir, 'bodies'), retentionDays: config.retentionDays });
  const writer = new BodyWriter({ store, redact: config.redact, maxStoredBytes: config.maxStoredBytes, ...(options.log ? { log: options.log } : {}) });
  options.closers?.push(() => writer.close());
  return [createRecordBodiesStage(writer, config.maxStoredBytes)];
}
