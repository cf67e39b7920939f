import type { ProviderId } from '../../core/provider-id.ts';
import type { RedactionKind } from '../../core/redaction.ts';
import type { RedactedBody } from './redact-body.ts';

/** One body as kept: its hash and size (of the bytes as sent), and its redacted content. */
export interface StoredBody extends RedactedBody {
  /** SHA-256 (hex) of the bytes as they went over the wire, before redaction. */
  sha256: string;
  bytes: number;
  /** Streams: the answer's text assembled from the events (`text`), not the raw events. */
  assembled?: true;
}

/** What is kept of one call's content when `data.storeBodies` is on; keyed by the ledger's request id. */
export interface BodyRecord {
  requestId: string;
  /** Epoch ms when the gateway received the request (the ledger row's `time`). */
  time: number;
  provider: ProviderId;
  endpoint: string;
  model: string | undefined;
  stream: boolean;
  /** HTTP status returned to the client; 0 when none was sent. */
  status: number;
  /** The request as the client sent it (before any lever changed it). */
  request: StoredBody | undefined;
  /** The response as the client received it; absent when none was (an abort before the first byte). */
  response: StoredBody | undefined;
  /** Replacements made in this record, per kind. */
  redactions: Partial<Record<RedactionKind, number>>;
}

/**
 * Where redacted bodies are kept. An interface so a shared store (a table, object storage) can
 * replace the local daily files; the ledger itself never holds bodies.
 */
export interface BodyStore {
  append(records: readonly BodyRecord[]): Promise<void>;
  /** Records by request id, in the order asked; unknown ids are left out (audits, tests). */
  get(requestIds: readonly string[]): Promise<BodyRecord[]>;
  /** Deletes what is older than the retention; called by the writer once a day and at start. */
  prune(now: number): Promise<void>;
  close(): Promise<void>;
}
