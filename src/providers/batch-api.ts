import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ProviderId } from '../core/provider-id.ts';
import type { Usage } from '../core/usage.ts';

/**
 * One provider's batch API, as the batch orchestrator (src/batch) drives it. Each provider folder
 * implements it over its own wire format; the orchestrator never sees a provider's shapes.
 *
 * Crash safety rests on `token`: a name unique to one chunk attempt, recorded by the orchestrator
 * before a call, that the provider keeps (OpenAI file name and batch metadata, Bedrock job name and
 * clientRequestToken), so after a crash the call's outcome can be found instead of repeated.
 */

export interface BatchChunkFile {
  /** A JSONL file of `inputLine` lines. */
  path: string;
  bytes: number;
  lines: number;
  model: string;
  /** What the lines call: '/v1/chat/completions', '/v1/messages', 'invoke'... */
  endpoint: string;
}

export type BatchOutcome = 'completed' | 'failed' | 'expired' | 'cancelled';

export interface BatchStatus {
  ended: boolean;
  outcome?: BatchOutcome;
  /** Provider status word as reported, for display. */
  status: string;
  counts: { total: number; succeeded: number; failed: number };
  message?: string;
  /** Where the results are (OpenAI output and error file ids); providers that need none leave it out. */
  resultRefs?: string[];
}

/** One line of a finished batch, in provider-neutral terms. */
export interface BatchResult {
  /** The custom id the orchestrator gave the line. */
  customId: string;
  ok: boolean;
  /** HTTP status of the line's request (0 when the line never ran: expired, cancelled). */
  status: number;
  usage: Usage | undefined;
  servedModel: string | undefined;
  stopReason: string | undefined;
  errorType: string | undefined;
  errorMessage: string | undefined;
  /** Worth sending again in a new batch (server errors, 429s, expiry, cancellation). */
  retryable: boolean;
  /** The result line in the provider's own format, with `customId` where the id goes. */
  line: Record<string, unknown>;
}

export type CreateOutcome = { batchId: string } | { retryAfterMs: number; message: string } | { rejected: string };

export interface BatchApi {
  readonly provider: ProviderId;
  /** The provider's batch input line for one request body (a JSON object's text). */
  inputLine(customId: string, endpoint: string, bodyJson: string): string;
  /** Bytes a chunk file adds around its lines when sent (Anthropic's JSON wrapper); 0 otherwise. */
  readonly wrapperBytes: number;
  /** Puts the chunk where the provider reads it; returns a reference (file id, s3:// URI, local path). */
  upload(token: string, file: BatchChunkFile): Promise<string>;
  /** An upload made under `token` before a crash, if the provider can tell. */
  findUpload(token: string): Promise<string | undefined>;
  /** Creates the batch. 429 and 5xx come back as `retryAfterMs`; a refusal (4xx) as `rejected`. */
  create(token: string, fileRef: string, file: BatchChunkFile): Promise<CreateOutcome>;
  /**
   * A batch created under `token` at or after `since` (epoch ms) before a crash. `ambiguous` lists
   * candidates that cannot be told apart yet (Anthropic keeps no caller metadata).
   */
  findCreated(token: string, file: BatchChunkFile, since: number, claimed: ReadonlySet<string>): Promise<{ batchId: string } | { ambiguous: string[] } | undefined>;
  status(batchId: string): Promise<BatchStatus>;
  /** The ended batch's lines, streamed. */
  results(batchId: string, status: BatchStatus): AsyncIterable<BatchResult>;
  cancel(batchId: string): Promise<void>;
  /** The output line for a request that got no result line (never ran, batch failed, invalid input). */
  errorLine(customId: string, errorType: string, message: string): Record<string, unknown>;
  /** Where the id sits in this provider's result lines ('custom_id' or 'recordId'). */
  readonly idField: string;
  /**
   * Sends one line's request on demand (outside any batch) and gives its answer as a batch result
   * line, for requests too few to batch (Bedrock's minimum records per job). Providers without a
   * minimum leave it out. Not idempotent: the caller records its intent first and never repeats it.
   */
  invoke?(customId: string, model: string, endpoint: string, bodyJson: string): Promise<BatchResult>;
}

/** Server errors, rate limits, timeouts and conflicts are worth another try; other 4xx are not. */
export function retryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Lines of a stream, without holding more than one line (and one chunk) in memory. */
export async function* readJsonLines(stream: Readable): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) {
    if (text.trim() === '') continue;
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) yield parsed as Record<string, unknown>;
  }
}

export class BatchApiError extends Error {
  override name = 'BatchApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Seconds from a retry-after header, as milliseconds, within 1 s .. 10 min. */
export function retryAfterMs(header: string | null | undefined, fallbackMs: number): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(Math.max(seconds * 1000, 1000), 600_000) : fallbackMs;
}
